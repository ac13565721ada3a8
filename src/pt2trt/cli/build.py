"""``pt2trt build``."""

from __future__ import annotations

from typing import Any

import click

from pt2trt.cli.groups import build_options
from pt2trt.cli.options import force_option, json_option, print_json


@click.command("build")
@click.argument("onnx_file", metavar="MODEL.onnx")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Engine file to write [default: MODEL.engine].")
@build_options()
@click.option("--dry-run", is_flag=True, help="Resolve and check everything that needs no GPU, print the plan, stop.")
@click.option("--device", type=int, default=0, show_default=True, help="CUDA device to build on.")
@force_option
@json_option
@click.option("-v", "--verbose", is_flag=True, help="Show TensorRT's build log.")
def command(
    onnx_file: str, output: str | None, build: Any, dry_run: bool, device: int, force: bool, as_json: bool,
    verbose: bool,
) -> None:  # fmt: skip
    """Build a TensorRT engine from MODEL.onnx, with MODEL.engine.json beside it (TensorRT version, GPU, ...).

    \b
    Dynamic inputs need a shape range, as with trtexec:
      pt2trt build r18.onnx --min-shapes input:1x3x224x224 --opt-shapes input:8x3x224x224 \\
                            --max-shapes input:32x3x224x224 --fp16
    Check the plan on any machine, without TensorRT or a GPU:
      pt2trt build r18.onnx --shapes input:8x3x224x224 --trt-version 11 --fp16 --dry-run
    """
    if dry_run:
        from pt2trt.backends.tensorrt.plan import make_plan

        plan = make_plan(onnx_file, output, build, force=force)
        if as_json:
            print_json({"dry_run": True, **plan.to_dict()})
            return
        click.echo("\n".join(plan.lines()))
        click.echo(f"dry run: nothing built. To build: {plan.command(force=force)}")
        return

    from pt2trt.precision.build import build as build_engine

    result = build_engine(onnx_file, output, build, force=force, device=device)
    if verbose and result.log.strip():
        click.echo(result.log.rstrip(), err=True)
    if as_json:
        print_json(result.to_dict())
        return
    for note in result.plan.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(result.closing_line())
