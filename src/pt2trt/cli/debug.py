"""``pt2trt debug layers``: the layer where two runs of a model part ways."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pt2trt.cli.options import (
    console,
    fmt_float,
    force_option,
    json_option,
    print_json,
    run_input_options,
    tolerance_options,
    weights_options,
)

if TYPE_CHECKING:
    from pt2trt.settings import RunInputs, Tolerance, WeightsSettings


@click.group("debug")
def command() -> None:
    """Find where a model's numbers go wrong."""


@command.command("layers")
@click.argument("reference", metavar="MODEL")
@click.argument("candidate", metavar="[MODEL.onnx]", required=False)
@run_input_options()
@tolerance_options()
@click.option(
    "--backend",
    type=click.Choice(["onnxruntime", "tensorrt"]),
    default="onnxruntime",
    show_default=True,
    help="Runtime of the candidate; tensorrt compares one MODEL.onnx on ONNX Runtime and TensorRT (needs a GPU).",
)
@click.option("--bisect", is_flag=True, help="Bisect over the layer order with bounded memory instead of one run.")
@click.option(
    "--max-memory",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    metavar="MB",
    help="Values one side may keep at once; past it the search bisects.",
)
@click.option(
    "--max-marked",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    metavar="N",
    help="--backend tensorrt: tensors marked as outputs per engine while bisecting (marks prevent fusions).",
)
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE", help="Draw error against layer depth.")
@force_option
@weights_options()
@json_option
def layers(
    reference: str, candidate: str | None, run_inputs: RunInputs, tolerance: Tolerance, backend: str, bisect: bool,
    max_memory: int, max_marked: int, plot: str | None, force: bool, weights: WeightsSettings, as_json: bool,
) -> None:  # fmt: skip
    """Compare two runs of a model layer by layer and name the layer where they part ways.

    \b
      debug layers MODEL MODEL.onnx               PyTorch modules vs the ONNX tensors they map to
      debug layers A.onnx B.onnx                  ONNX Runtime on both (e.g. before/after simplify, FP16)
      debug layers MODEL.onnx --backend tensorrt  ONNX Runtime vs TensorRT (needs a GPU)

    The origin is the first layer (execution order) out of tolerance whose inputs were all within tolerance.
    Exit status 1 when a layer diverges (or the comparison could not run here).
    """
    from pt2trt.debug import debug_layers
    from pt2trt.errors import CheckFailed, Pt2trtError
    from pt2trt.settings import LayerSearch

    if plot:
        from pt2trt.debug.plot import check_plot_path

        check_plot_path(plot, force=force)
    search = LayerSearch(backend, "bisect" if bisect else "auto", max_memory * 1_000_000, max_marked)
    report = debug_layers(weights.source(reference), candidate, run_inputs, tolerance=tolerance, search=search)
    if plot and report.layers:
        from pt2trt.debug.plot import plot_report

        plot_report(report, plot, force=force)
    if as_json:
        print_json(report.to_dict())
    elif report.skipped is None:
        render(report)
        if plot and report.layers:
            click.echo(f"plot written to {plot}")
    if report.skipped is not None:
        if as_json:
            raise CheckFailed(
                f"ONNX Runtime vs TensorRT skipped: {report.skipped}",
                "Install TensorRT on a GPU machine to compare against it, or leave out the TensorRT side",
            )
        raise Pt2trtError(
            f"ONNX Runtime vs TensorRT skipped: {report.skipped}",
            "Install TensorRT on a GPU machine to compare against it, or leave out the TensorRT side",
        )
    if report.diverged:
        where = f" at {report.origin_name}" if report.origin else ""
        raise CheckFailed(f"the runs part ways{where}", "The table above shows the layers around the origin")


def render(report: object) -> None:
    from rich.markup import escape
    from rich.table import Table

    from pt2trt.debug.report import LayersReport

    assert isinstance(report, LayersReport)
    out = console()
    shapes = ", ".join(f"{s.name}:{'x'.join(map(str, s.shape))}" for s in report.inputs)
    sides = {
        "pytorch-vs-onnxruntime": ("PyTorch", "ONNX Runtime"),
        "onnxruntime-vs-onnxruntime": ("ONNX Runtime", "ONNX Runtime"),
        "onnxruntime-vs-tensorrt": ("ONNX Runtime", "TensorRT"),
    }[report.comparison]
    via = f", {report.exporter} exporter" if report.exporter else ""
    out.print(
        escape(
            f"{sides[0]} ({report.reference}) vs {sides[1]} ({report.candidate}{via}) on {shapes}  "
            f"(rtol={report.rtol:g}, atol={report.atol:g} + rtol*rms per tensor; {report.strategy})"
        ),
        soft_wrap=True,
    )
    onnx_rows = report.comparison != "pytorch-vs-onnxruntime"
    table = Table(show_edge=False)
    columns = (
        ["#", "ONNX node", "op", "module", "shape"] if onnx_rows else ["#", "layer", "class", "ONNX node", "shape"]
    )
    columns += ["max abs", "mean abs", "outside tol", "inputs", "result"]  # max rel: in --json (noisy near 0)
    numeric = ("#", "max abs", "mean abs", "outside tol")
    for col in columns:
        wrap = col in ("layer", "ONNX node", "module", "class")
        table.add_column(col, justify="right" if col in numeric else "left", overflow="fold", no_wrap=not wrap)
    for depth, layer in enumerate(report.layers):
        w = layer.worst
        shape = "x".join(map(str, w.candidate_shape or w.reference_shape or ())) or "scalar"
        nodes = layer.onnx_nodes[-1:] if layer.onnx_nodes else ["-"]
        node_text = nodes[0] + (f" (+{len(layer.onnx_nodes) - 1})" if len(layer.onnx_nodes) > 1 else "")
        outside = f"{w.outside_tolerance_pct:.2f}%" if w.outside_tolerance_pct is not None else "-"
        verdict = "[green]ok[/green]" if layer.passed else "[red]FAIL[/red]"
        if layer is report.origin:
            verdict += " [bold red]<- origin[/bold red]"
        names = [layer.label, layer.cls, layer.module or "-"] if onnx_rows else [layer.label, layer.cls, node_text]
        table.add_row(
            str(depth),
            *map(escape, names),
            shape,
            fmt_float(w.max_abs_error),
            fmt_float(w.mean_abs_error),
            outside,
            layer.inputs_status,
            verdict,
        )
    out.print(table)
    if report.unmatched:
        what = "nodes" if onnx_rows else "module calls"
        out.print(f"{len(report.unmatched)} {what} without a counterpart (not compared):")
        for u in report.unmatched:
            out.print(escape(f"  {u.label} ({u.cls}): {u.reason}"), soft_wrap=True)
    origin = report.origin
    if origin is None:
        out.print(f"[green]no divergence[/green]: all {len(report.layers)} compared layers within tolerance")
        return
    w = origin.worst
    name = report.origin_name or origin.label
    cls = f"{origin.cls}, " if not onnx_rows else ""
    out.print(f"[red]origin[/red]: [bold]{escape(origin.label)}[/bold] ({escape(cls)}{escape(report.origin_note)})")
    detail = f"  ONNX node(s): {', '.join(origin.onnx_nodes)}; tensor(s): {', '.join(origin.onnx_tensors)}"
    if origin.folded:
        detail += f"; the node(s) also compute {', '.join(origin.folded)} (folded)"
    if onnx_rows and name != origin.label:
        detail += f"; module {name}"
    out.print(escape(detail), soft_wrap=True)
    pct = f"{w.outside_tolerance_pct:.2f}%" if w.outside_tolerance_pct is not None else "-"
    out.print(
        f"  max abs {fmt_float(w.max_abs_error)}, max rel {fmt_float(w.max_rel_error)}, "
        f"mean abs {fmt_float(w.mean_abs_error)}, cosine {fmt_float(w.cosine_similarity, '.6f')}, "
        f"{pct} of elements out of tolerance" + (f" ({escape(w.note)})" if w.note else "")
    )
    out.print(f"{len(report.failed)} of {len(report.layers)} compared layers out of tolerance")
    if report.fused_away:
        out.print(
            escape(
                f"  fused away in the production engine (they exist only in the engines built to mark them): "
                f"{', '.join(report.fused_away)}"
            ),
            soft_wrap=True,
        )
