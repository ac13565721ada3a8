"""``pt2trt verify``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pt2trt.cli.choices import backend_choice, task_choice
from pt2trt.cli.options import (
    console,
    fmt_float,
    json_option,
    print_json,
    run_input_options,
    tolerance_options,
    weights_options,
)
from pt2trt.cli.task_options import ignore_metadata_option

if TYPE_CHECKING:
    from pt2trt.settings import RunInputs, Tolerance, WeightsSettings


@click.command("verify")
@click.argument("model")
@click.argument("onnx_file", metavar="MODEL.onnx")
@run_input_options()
@tolerance_options()
@click.option(
    "--task",
    type=task_choice(),
    help="Also compare the decoded results (top-k, matched boxes, masks); that comparison decides the verdict.",
)
@click.option(
    "--backend", type=backend_choice(), default="auto", show_default=True,
    help="Backend that runs MODEL.onnx [default: by file type: ONNX Runtime, or TensorRT for an engine].",
)  # fmt: skip
@weights_options()
@ignore_metadata_option
@json_option
def command(
    model: str, onnx_file: str, run_inputs: RunInputs, tolerance: Tolerance, task: str | None, backend: str,
    weights: WeightsSettings, ignore_metadata: bool, as_json: bool,
) -> None:  # fmt: skip
    """Run MODEL in PyTorch and MODEL.onnx in ONNX Runtime (or any backend) on the same inputs; exit 1 if any output
    differs."""
    from pt2trt.errors import CheckFailed
    from pt2trt.settings import RunnerSettings
    from pt2trt.verification.pytorch import verify

    runner = RunnerSettings(backend=backend, providers=run_inputs.providers, check_metadata=not ignore_metadata)
    result = verify(weights.source(model), onnx_file, run_inputs, tolerance=tolerance, task=task, runner=runner)
    if as_json:
        print_json(result.to_dict())
    else:
        render(result)
    if not result.passed:
        raise CheckFailed(result.verdict_line(), result.diagnosis or "See the table above")


def render(result: object) -> None:
    from rich.table import Table

    from pt2trt.verification.pytorch import VerifyResult

    assert isinstance(result, VerifyResult)
    out = console()
    c = result.comparison
    shapes = ", ".join(f"{s.name}:{'x'.join(map(str, s.shape))}" for s in result.inputs)
    runtime = {"onnxruntime": "ONNX Runtime", "tensorrt": "TensorRT"}.get(result.backend, result.backend)
    rule = ", atol scaled to each output" if c.scaled else ", element-wise"
    out.print(f"PyTorch vs {runtime} on {shapes}  (rtol={c.rtol:g}, atol={c.atol:g}{rule})")
    table = Table(show_edge=False)
    for col in ("output", "shape", "max abs", "max rel", "mean abs", "cosine", "outside tol", "result"):
        table.add_column(col, justify="left" if col in ("output", "shape", "result") else "right", no_wrap=True)
    for t in c.tensors:
        shape = "x".join(map(str, t.candidate_shape or t.reference_shape or ())) or "scalar"
        outside = f"{t.outside_tolerance_pct:.2f}%" if t.outside_tolerance_pct is not None else "-"
        verdict = "[green]ok[/green]" if t.passed else "[red]FAIL[/red]"
        if t.note:
            verdict += f" ({t.note})"
        table.add_row(
            t.name,
            shape,
            fmt_float(t.max_abs_error),
            fmt_float(t.max_rel_error) if t.max_rel_error is not None else "—",  # reference ~0: see compare.tensors
            fmt_float(t.mean_abs_error),
            fmt_float(t.cosine_similarity, ".6f"),
            outside,
            verdict,
        )
    out.print(table)
    n_fail = len(c.failed)
    if result.task_reason:
        out.print(f"  {result.task_reason}", soft_wrap=True)
    if result.diagnosis:
        out.print(f"  [bold]diagnosis[/bold]: {result.diagnosis}", soft_wrap=True, markup=True)
    if result.task_comparison is not None:
        decided = result.task_comparison
        for line in decided.summary():
            out.print(f"  {line}", soft_wrap=True)
        verdict = "[green]verified[/green]" if decided.passed else "[red]mismatch[/red]"
        out.print(
            f"{verdict} ({decided.task}): {decided.criterion}; {n_fail} of {len(c.tensors)} output(s) outside tolerance"
        )
        return
    if result.passed:
        out.print(f"[green]verified[/green]: all {len(c.tensors)} output(s) within tolerance")
    else:
        out.print(f"[red]mismatch[/red]: {n_fail} of {len(c.tensors)} output(s) outside tolerance")
