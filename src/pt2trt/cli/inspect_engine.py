"""``pt2trt inspect ENGINE``: what a TensorRT engine became, joined to the ONNX nodes and PyTorch modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pt2trt.cli.options import console, print_json

if TYPE_CHECKING:
    from pt2trt.view.inspect import EngineInspection


def show_engine(inspection: EngineInspection, *, layers: bool, as_json: bool) -> None:
    from rich.table import Table

    report, path, model_path, source = inspection.report, inspection.engine, inspection.onnx, inspection.source
    if as_json:
        print_json(inspection.to_dict())
        return
    out = console()
    summary = report.summary_dict()
    out.print(
        f"[bold]{path}[/bold]  ({source}; TensorRT {report.schema} inspector schema)"
        + (f"; modules from {model_path}" if model_path else "")
    )
    out.print(
        f"  {summary['layers']} layers ({summary['reformat_layers']} reformats), {summary['heavy_layers']} "
        f"convolution/matmul; requested precision: {report.requested or 'unknown'}"
    )
    precisions = sorted({p for key in _SHARES for p in summary[key]})
    shares = Table(title="share per precision", title_justify="left", show_edge=False)
    for col in ("", *precisions):
        shares.add_column(col)
    for key, label in _SHARES.items():
        row = summary[key]
        shares.add_row(label, *(f"{row[p]:.0%}" if p in row else "-" for p in precisions))
    out.print(shares)
    for warning in report.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
    if layers:
        table = Table(title="layers", title_justify="left", show_edge=False)
        for col in ("#", "layer", "type", "precision", "ONNX nodes", "modules"):
            table.add_column(col, overflow="fold")
        for i, layer in enumerate(report.layers):
            table.add_row(
                str(i), layer.name, layer.layer_type, layer.precision or "?",
                ", ".join(layer.onnx_nodes), ", ".join(layer.modules),
            )  # fmt: skip
        out.print(table)


_SHARES = {
    "layers_by_precision": "layers",
    "heavy_layers_by_precision": "conv/matmul layers",
    "heavy_flops_by_precision": "conv/matmul FLOPs",
}
