"""``pt2trt export``."""

from __future__ import annotations

from pathlib import Path

import click

from pt2trt.cli.options import force_option, input_option, json_option, model_options, print_json


def default_output(model: str) -> str:
    name = model.rpartition(":")[2] if ":" in model else Path(model).stem
    return f"{name or 'model'}.onnx"


@click.command("export")
@click.argument("model")
@input_option("Input NAME:SHAPE[:DTYPE], one per forward() argument in order (e.g. input:1x3x224x224).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="ONNX file to write [default: NAME.onnx].")
@click.option(
    "--exporter",
    type=click.Choice(["auto", "dynamo", "legacy"]),
    default="auto",
    show_default=True,
    help="auto tries dynamo, then falls back to legacy (TorchScript) and records why.",
)
@click.option("--opset", type=int, help="ai.onnx opset to target [default: torch's default].")
@click.option(
    "--output-name",
    "output_names",
    multiple=True,
    metavar="NAME",
    help="Name of each output in order [default: from the output structure].",
)
@click.option("--dynamic-batch", is_flag=True, help="Make dim 0 of every input (and output) dynamic.")
@click.option(
    "--dynamic",
    multiple=True,
    metavar="NAME:AXIS[=LABEL],...",
    help="Make axes of one input dynamic, e.g. input:0=batch,2,3.",
)
@click.option("--constant-folding/--no-constant-folding", default=True, show_default=True)
@click.option(
    "--external-data/--no-external-data",
    default=None,
    help="Store weights in OUT.onnx.data [default: only when the model exceeds 2 GB].",
)
@click.option(
    "--preprocess",
    metavar="PRESET|FILE.yaml",
    help="Record the image preprocessing in the ONNX metadata (used by predict): imagenet-classification, "
    "yolo-letterbox-640, ... or a YAML file.",
)
@model_options
@force_option
@json_option
@click.option("-v", "--verbose", is_flag=True, help="Show the exporter's own log.")
def command(
    model: str,
    inputs: list,
    output: str | None,
    exporter: str,
    opset: int | None,
    output_names: tuple[str, ...],
    dynamic_batch: bool,
    dynamic: tuple[str, ...],
    constant_folding: bool,
    external_data: bool | None,
    preprocess: str | None,
    weights: str | None,
    allow_pickle: bool,
    force: bool,
    as_json: bool,
    verbose: bool,
) -> None:
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
    from pt2trt.pytorch.export import export

    result = export(
        model,
        inputs,
        output or default_output(model),
        dynamic_batch=dynamic_batch,
        dynamic=dynamic,
        exporter=exporter,
        opset=opset,
        output_names=output_names or None,
        constant_folding=constant_folding,
        external_data=external_data,
        weights=weights,
        allow_pickle=allow_pickle,
        force=force,
        preprocess=preprocess,
    )
    if verbose and result.log.strip():
        click.echo(result.log.rstrip(), err=True)
    if as_json:
        print_json(result.to_dict())
        return
    if result.fallback_reason:
        click.echo(f"note: dynamo exporter failed ({result.fallback_reason}); used legacy", err=True)
    click.echo(result.closing_line())
