"""``pt2trt convert``."""

from __future__ import annotations

from pathlib import Path

import click

from pt2trt.cli.choices import task_choice
from pt2trt.cli.options import force_option, input_option, json_option, print_json


@click.command("convert")
@click.argument("model")
@input_option("Input shape per forward() argument, as for export (required).")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--dynamic-batch", is_flag=True, help="Make dim 0 of every input dynamic (the engine gets a profile).")
@click.option("--max-batch", type=int, default=8, show_default=True, help="Largest batch of the engine's profile.")
@click.option(
    "--precision", default="fp32", show_default=True, metavar="fp32|fp16|int8[,...]",
    help="Also write reduced-precision ONNX (pt2trt.precision), one or several (fp16,int8: the report compares all); "
    "the engine is built from the last one.",
)  # fmt: skip
@click.option("--calib", metavar="DATA", help="Calibration data for --precision int8 (folder of images or .npz).")
@click.option("--task", type=task_choice(), help="Task-aware verify and predictions.")
@click.option(
    "--trt-version", type=click.Choice(["8.6", "10", "11"]), default="10", show_default=True,
    help="TensorRT version to lint and plan the engine for.",
)  # fmt: skip
@click.option("--images", type=click.Path(exists=True), help="Folder of sample images: predictions with pictures.")
@click.option(
    "--exporter", type=click.Choice(["auto", "dynamo", "legacy"]), default="auto", show_default=True,
    help="auto: dynamo, falling back to legacy (recorded).",
)  # fmt: skip
@click.option("--opset", type=int, help="ONNX opset [default: the exporter's].")
@click.option(
    "--simplify-engine", type=click.Choice(["onnxslim", "onnxsim", "both"]), default="onnxslim", show_default=True,
    help="Simplifier; its result is kept only when ONNX Runtime proves it equivalent.",
)  # fmt: skip
@click.option("--rtol", type=float, default=1e-3, show_default=True)
@click.option("--atol", type=float, default=1e-5, show_default=True)
@click.option(
    "--backend", "backends", default="torch,onnxruntime,openvino", show_default=True, metavar="LIST",
    help="Backends to bench (and to predict with, where they can).",
)  # fmt: skip
@click.option(
    "--bench-duration", type=float, default=0.3, show_default=True, metavar="S",
    help="Seconds per backend (at least 5 inferences); pt2trt bench measures longer.",
)  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress display; only the final line.")
@force_option
@json_option
def command(
    model: str,
    inputs: list,
    outdir: str,
    dynamic_batch: bool,
    max_batch: int,
    precision: str,
    calib: str | None,
    task: str | None,
    trt_version: str,
    images: str | None,
    exporter: str,
    opset: int | None,
    simplify_engine: str,
    rtol: float,
    atol: float,
    backends: str,
    bench_duration: float,
    quiet: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Export MODEL, check, simplify, verify, lint for TensorRT, reduce precision, plan or build the engine, bench and
    report into OUTDIR (report.html). Exit 0 when every step passed, 1 when a check failed, 2 on usage errors.

    \b
    pt2trt convert torchvision:resnet18 --input input:1x3x224x224 --dynamic-batch -o out/r18 --images photos/
    """
    from pt2trt.bench import parse_backends
    from pt2trt.conversion import convert
    from pt2trt.errors import Pt2trtError
    from pt2trt.shapes import apply_dynamic

    specs = apply_dynamic(inputs, dynamic_batch=dynamic_batch)
    result = convert(
        model,
        specs,
        outdir,
        progress=not quiet and not as_json,
        precision=precision,
        calib=calib,
        task=task,
        trt_version=trt_version,
        images=Path(images) if images else None,
        exporter=exporter,
        opset=opset,
        simplify_engine=simplify_engine,
        rtol=rtol,
        atol=atol,
        max_batch=max_batch,
        backends=tuple(parse_backends(backends)),
        bench_duration=bench_duration,
        force=force,
    )
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(
            result.verdict()
            if result.passed
            else f"{result.failed_step.title if result.failed_step else 'convert'} failed"
        )
        click.echo(f"report: {result.report_html}")
    if result.error is not None:
        error: Pt2trtError = result.error
        click.echo(f"pt2trt: error: {error}", err=True)
        raise SystemExit(error.exit_code)
