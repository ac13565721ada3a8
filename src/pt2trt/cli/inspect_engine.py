"""``pt2trt inspect ENGINE``: what a TensorRT engine became, joined to the ONNX nodes and PyTorch modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pt2trt.cli.options import console, print_json
from pt2trt.errors import Pt2trtError


def show_engine(path: str, *, onnx_path: str | None, precision: str | None, layers: bool, as_json: bool) -> None:
    from rich.table import Table

    from pt2trt.backends.tensorrt.inspect import engine_report, parse_engine_information
    from pt2trt.backends.tensorrt.metadata import read_metadata

    if Path(path).suffix.lower() == ".json":
        report, source = parse_engine_information(_read_json(path), precision), "inspector JSON file"
        recorded_onnx = None
    else:
        report, source = engine_report(path, requested=precision)
        metadata = read_metadata(path)
        recorded_onnx = metadata.onnx_path if metadata else None
    model_path = onnx_path or (recorded_onnx if recorded_onnx and Path(recorded_onnx).is_file() else None)
    if model_path:
        node_modules, node_names = onnx_node_modules(model_path)
        report.attach_modules(node_modules, node_names)
    if as_json:
        print_json({"engine": path, "source": source, "onnx": model_path, **report.to_dict()})
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


def _read_json(path: str) -> Any:
    from pt2trt.files import existing_file

    try:
        return json.loads(existing_file(path, "inspector JSON file").read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Pt2trtError(f"{path} is not JSON ({exc})", "Give IEngineInspector JSON or an engine file") from exc


def onnx_node_modules(onnx_path: str) -> tuple[dict[str, str], list[str]]:
    """ONNX node name -> innermost PyTorch module (from the node scopes both exporters record), and node names."""
    from pt2trt.onnx.load import load_onnx
    from pt2trt.onnx.scopes import exporter_of, node_scopes

    model = load_onnx(onnx_path, load_external_data=False)
    scopes = node_scopes(model, exporter_of(model), None)
    nodes = list(model.graph.node)
    return {n.name: s[-1][0] for n, s in zip(nodes, scopes) if s}, [n.name for n in nodes]
