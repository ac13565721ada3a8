"""``pt2trt check``."""

from __future__ import annotations

import click

from pt2trt.cli.options import json_option, print_json


@click.command("check")
@click.argument("onnx_file", metavar="MODEL.onnx")
@json_option
def command(onnx_file: str, as_json: bool) -> None:
    """Run onnx.checker (full check) and strict shape inference; exit 1 when the model breaks the spec."""
    from pt2trt.onnx.check import check

    report = check(onnx_file)
    if as_json:
        print_json(report.to_dict())
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
    if not report.passed:
        raise SystemExit(1)
