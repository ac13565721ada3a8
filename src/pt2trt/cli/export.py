"""``pt2trt export``."""

from __future__ import annotations

from pathlib import Path

import click

from pt2trt.cli.groups import export_options
from pt2trt.cli.options import force_option, input_option, json_option, print_json, weights_options
from pt2trt.settings import ExportSettings, WeightsSettings
from pt2trt.shapes import InputSpec


def default_output(model: str) -> str:
    name = model.rpartition(":")[2] if ":" in model else Path(model).stem
    return f"{name or 'model'}.onnx"


@click.command("export")
@click.argument("model")
@input_option("Input NAME:SHAPE[:DTYPE], one per forward() argument in order (e.g. input:1x3x224x224).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="ONNX file to write [default: NAME.onnx].")
@export_options()
@weights_options()
@force_option
@json_option
@click.option("-v", "--verbose", is_flag=True, help="Show the exporter's own log.")
def command(
    model: str, inputs: list[InputSpec], output: str | None, export: ExportSettings, weights: WeightsSettings,
    force: bool, as_json: bool, verbose: bool,
) -> None:  # fmt: skip
    """Export MODEL to ONNX.

    \b
    MODEL is one of:
      path/to/file.py:Name     class (built with no arguments) or function
      package.module:Name      the same, importable
      torchvision:resnet18     any torchvision builder, random weights
      timm:resnet50            any timm model, random weights (needs timm)
      model.ts / model.pt      TorchScript archive
      model.pt2                ExportedProgram
    """
    from pt2trt.pytorch.export import export as export_model

    result = export_model(weights.source(model), inputs, output or default_output(model), export, force=force)
    if verbose and result.log.strip():
        click.echo(result.log.rstrip(), err=True)
    if as_json:
        print_json(result.to_dict())
        return
    if result.fallback_reason:
        click.echo(f"note: dynamo exporter failed ({result.fallback_reason}); used legacy", err=True)
    click.echo(result.closing_line())
