"""``pt2trt check``."""

from __future__ import annotations

import click

from pt2trt.cli.options import json_option, print_json


@click.command("check")
@click.argument("onnx_file", metavar="MODEL.onnx")
@click.option(
    "--target",
    type=click.Choice(["trt-8.6", "trt-10", "trt-11"]),
    help="Also lint for this TensorRT version's ONNX parser (unsupported ops, restrictions, opset, types, "
    "dynamic inputs); runs on CPU without TensorRT.",
)
@json_option
def command(onnx_file: str, target: str | None, as_json: bool) -> None:
    """Run onnx.checker (full check) and strict shape inference; exit 1 when the model breaks the spec."""
    from pt2trt.onnx.check import check

    report = check(onnx_file)
    lint = None
    if target:
        from pt2trt.backends.tensorrt.lint import trt_compatibility

        lint = trt_compatibility(onnx_file, target)
    if as_json:
        print_json({**report.to_dict(), **({"tensorrt": lint.to_dict()} if lint else {})})
    else:
        mark = {True: "ok", False: "FAILED"}
        click.echo(
            f"{report.path}: checker {mark[report.checker_ok]}, shape inference {mark[report.shape_inference_ok]}"
            f" ({report.inferred_values} intermediate shapes inferred)"
        )
        for err in report.errors:
            click.echo(f"  error: {err}")
        for warn in report.warnings:
            click.echo(f"  warning: {warn}")
        if lint:
            click.echo(lint.summary())
            for group in lint.groups():  # one line per op and cause; --json lists every node
                click.echo(f"  {group.line()}")
            if lint.note:
                click.echo(f"  ({lint.note})")
    if not report.passed or (lint and not lint.passed):
        raise SystemExit(1)
