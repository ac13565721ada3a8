"""``pt2trt inspect``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.options import Decorator, console, json_option, option_group, print_json
from pt2trt.files import format_size

if TYPE_CHECKING:
    from pt2trt.onnx.inspect import ModelInfo
    from pt2trt.settings.view import InspectSettings

METADATA_CHARS = 200


def metadata_text(value: str, limit: int = METADATA_CHARS) -> str:
    """A metadata value for the terminal: its first line up to ``limit`` characters, then its length when cut."""
    first = value.split("\n", 1)[0]
    if len(first) <= limit and first == value:
        return value
    lines = value.count("\n") + 1
    size = f"{len(value):,} characters" + (f", {lines:,} lines" if lines > 1 else "")
    return f"{first[:limit]} ... [{size}; --full or --json shows it whole]"


def _precisions() -> list[str]:
    from pt2trt.backends.tensorrt.precision import ENGINE_PRECISIONS

    return list(ENGINE_PRECISIONS)


def inspect_options() -> Decorator:
    """--nodes, --onnx, --precision -> ``inspect: InspectSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pathlib import Path

        from pt2trt.settings.view import InspectSettings

        return InspectSettings(v["nodes"], Path(v["onnx_path"]) if v["onnx_path"] else None, v["precision"])

    return option_group(
        "inspect",
        [
            click.Option(["--nodes"], is_flag=True, help="List every node with its inputs, outputs and attributes."),
            click.Option(["--onnx", "onnx_path"], type=click.Path(dir_okay=False),
                         help="ENGINE: the ONNX it was built from [default: recorded]."),
            click.Option(["--precision"], type=RegistryChoice(_precisions),
                         help="ENGINE: the precision asked for, to warn when it did not take [default: recorded at "
                         "build]."),
        ],
        make,
    )  # fmt: skip


@click.command("inspect")
@click.argument("onnx_file", metavar="MODEL.onnx|ENGINE|LAYERS.json")
@inspect_options()
@click.option("--layers", is_flag=True, help="ENGINE: list every engine layer with precision, ONNX nodes, modules.")
@click.option(
    "--full",
    is_flag=True,
    help=f"Print metadata values whole (longer than {METADATA_CHARS} characters or one line "
    "they are cut, with their length); --json always keeps them whole.",
)
@json_option
def command(onnx_file: str, inspect: InspectSettings, layers: bool, full: bool, as_json: bool) -> None:
    """Show versions (IR, opsets, producer), I/O, op histogram, parameters, metadata and ONNX Runtime support.

    \b
    Given a TensorRT engine (.engine/.plan/.trt) or IEngineInspector JSON, show what the engine became: its layers'
    precisions, the ONNX nodes fused into each and the PyTorch modules they came from, the share of layers and of
    convolution/matmul FLOPs per precision, and warnings when the requested precision did not take.
      pt2trt inspect r18.engine --layers
    """
    from pt2trt.view.inspect import EngineInspection
    from pt2trt.view.inspect import inspect as inspect_file

    info = inspect_file(onnx_file, inspect)
    if isinstance(info, EngineInspection):
        from pt2trt.cli.inspect_engine import show_engine

        show_engine(info, layers=layers, as_json=as_json)
        return
    if as_json:
        print_json(info.to_dict(), strict=True)  # ModelInfo is JSON-safe on any file: a slip is a bug, not noise
        return
    _show_model(info, nodes=inspect.nodes, full=full)


def _show_model(info: ModelInfo, *, nodes: bool, full: bool) -> None:
    from rich.table import Table

    out = console()
    opsets = ", ".join(f"{d} {v}" for d, v in info.opsets.items())
    out.print(
        f"[bold]{info.path}[/bold]  {format_size(info.file_bytes)}"
        + ("  (external data)" if info.external_data else "")
    )
    out.print(f"  IR version {info.ir_version} | opsets: {opsets}")
    out.print(f"  producer: {info.producer_name or '?'} {info.producer_version}  |  graph: {info.graph_name or '-'}")
    out.print(f"  runs on: {info.onnxruntime.summary}")
    io = Table(title="inputs and outputs", title_justify="left", show_edge=False)
    for col in ("", "name", "dtype", "shape"):
        io.add_column(col)
    for kind, items in (("input", info.inputs), ("output", info.outputs)):
        for t in items:
            io.add_row(kind, t.name, t.dtype, t.shape_text)
    out.print(io)
    dtypes = ", ".join(f"{k} {v['tensors']}" for k, v in info.initializer_dtypes.items()) or "none"
    constants = info.constant_parameters
    in_constants = (
        f", {constants['elements']:,} of them in {constants['tensors']} Constant nodes" if constants["tensors"] else ""
    )
    out.print(
        f"parameters: {info.parameter_count:,} ({format_size(info.parameter_bytes)}{in_constants}); "
        f"initializers by dtype: {dtypes}",
        soft_wrap=True,
    )
    ops = ", ".join(f"{op} {n}" for op, n in info.op_counts.items())
    out.print(f"nodes: {info.node_count}  ({ops})", soft_wrap=True)
    if info.initializers_as_inputs:
        out.print(
            f"[yellow]note:[/yellow] {len(info.initializers_as_inputs)} initializers are also graph inputs "
            "(keep_initializers_as_inputs=True); runtimes may treat them as overridable inputs and skip constant "
            "folding. Re-export with keep_initializers_as_inputs=False or remove them from graph.input.",
            soft_wrap=True,
        )
    if info.metadata:
        out.print("metadata:")
        for key, value in info.metadata.items():
            out.print(f"  {key}: {value if full else metadata_text(value)}", soft_wrap=True, markup=False)
    if nodes:
        table = Table(title="nodes", title_justify="left", show_edge=False)
        for col in ("#", "name", "op", "inputs", "outputs", "attributes"):
            table.add_column(col, overflow="fold")
        for i, n in enumerate(info.nodes):
            op = n.op_type if n.domain == "ai.onnx" else f"{n.domain}::{n.op_type}"
            attrs = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in n.attributes.items())
            table.add_row(str(i), n.name, op, ", ".join(n.inputs), ", ".join(n.outputs), attrs)
        out.print(table)
