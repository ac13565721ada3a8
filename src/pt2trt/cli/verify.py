"""``pt2trt verify``."""

from __future__ import annotations

import click

from pt2trt.cli.options import console, fmt_float, input_option, json_option, model_options, print_json


@click.command("verify")
@click.argument("model")
@click.argument("onnx_file", metavar="MODEL.onnx")
@input_option("Input shapes [default: the shapes recorded at export].")
@click.option(
    "--data",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Input arrays instead of random data: .npz (named) or .npy (in input order).",
)
@click.option("--batch", type=int, help="Batch size for inputs with a dynamic batch axis.")
@click.option("--rtol", type=float, default=1e-3, show_default=True)
@click.option("--atol", type=float, default=1e-5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs.")
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="NAME",
    help="ONNX Runtime execution provider: cpu, cuda, tensorrt [default: cpu].",
)
@model_options
@json_option
def command(
    model: str,
    onnx_file: str,
    inputs: list,
    data: tuple[str, ...],
    batch: int | None,
    rtol: float,
    atol: float,
    seed: int,
    providers: tuple[str, ...],
    weights: str | None,
    allow_pickle: bool,
    as_json: bool,
) -> None:
    """Run MODEL in PyTorch and MODEL.onnx in ONNX Runtime on the same inputs; exit 1 if any output differs."""
    from pt2trt.verification import verify

    result = verify(
        model,
        onnx_file,
        inputs or None,
        data=data or None,
        batch=batch,
        rtol=rtol,
        atol=atol,
        seed=seed,
        weights=weights,
        allow_pickle=allow_pickle,
        providers=providers or None,
    )
    if as_json:
        print_json(result.to_dict())
    else:
        render(result)
    if not result.passed:
        raise SystemExit(1)


def render(result: object) -> None:
    from rich.table import Table

    from pt2trt.verification import VerifyResult

    assert isinstance(result, VerifyResult)
    out = console()
    c = result.comparison
    shapes = ", ".join(f"{s.name}:{'x'.join(map(str, s.shape))}" for s in result.inputs)
    out.print(f"PyTorch vs ONNX Runtime on {shapes}  (rtol={c.rtol:g}, atol={c.atol:g})")
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
            fmt_float(t.max_rel_error),
            fmt_float(t.mean_abs_error),
            fmt_float(t.cosine_similarity, ".6f"),
            outside,
            verdict,
        )
    out.print(table)
    n_fail = len(c.failed)
    if result.passed:
        out.print(f"[green]verified[/green]: all {len(c.tensors)} output(s) within tolerance")
    else:
        out.print(f"[red]mismatch[/red]: {n_fail} of {len(c.tensors)} output(s) outside tolerance")
