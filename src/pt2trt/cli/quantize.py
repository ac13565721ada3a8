"""``pt2trt quantize``."""

from __future__ import annotations

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.options import console, force_option, json_option, print_json, sibling_output

METHOD_NAMES = ("minmax", "entropy", "percentile")  # a test checks they match pt2trt.precision.METHODS


def _task_names() -> list[str]:
    from pt2trt.tasks import task_names

    return [*task_names(), "none"]


@click.command("quantize")
@click.argument("onnx_file", metavar="MODEL.onnx")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="ONNX file to write [default: MODEL-PREC.onnx].")
@click.option("--precision", type=click.Choice(["fp16", "int8"]), required=True, help="Target precision.")
@click.option(
    "--calib",
    metavar="DATA",
    help="Calibration data: images (folder, glob), video, or .npy/.npz [default: random: NOT calibrated].",
)
@click.option("--eval", "eval_data", metavar="DATA", help="Held-apart data to measure on [default: 1 in 5 of --calib].")
@click.option("--limit", type=int, help="Use at most N samples of each data source.")
@click.option(
    "--preprocess",
    metavar="PRESET|FILE.yaml",
    help="Image preprocessing [default: recorded in the model, else the task's preset].",
)
@click.option(
    "--size", metavar="HxW", help="Image size for a model whose input size is dynamic [default: the preprocessing's]."
)
@click.option(
    "--task",
    type=RegistryChoice(_task_names),
    help="Task metric to judge by; none: judge each output on its own [default: classify for an image model with one "
    "[N, C] output, said aloud; else none].",
)
@click.option("--keep-fp32", multiple=True, metavar="NODE|MODULE", help="fp16: keep this node or module in FP32.")
@click.option("--fp16-io", is_flag=True, help="fp16: float16 graph inputs and outputs (default keeps float32).")
@click.option("--exclude", multiple=True, metavar="NODE|MODULE", help="int8: leave this node or module in float.")
@click.option(
    "--auto-exclude", is_flag=True, help="int8: keep the layers adding most error in float until the target is met."
)
@click.option("--max-exclusions", type=int, default=10, show_default=True, help="int8: limit of --auto-exclude.")
@click.option(
    "--target-agreement",
    type=float,
    help="Exit 1 below this task agreement, e.g. 0.99 (top-1 for classify) [--auto-exclude default: 0.99].",
)
@click.option(
    "--method", type=click.Choice(METHOD_NAMES), default="minmax", show_default=True, help="int8: calibration method."
)
@force_option
@json_option
def command(
    onnx_file: str,
    output: str | None,
    precision: str,
    calib: str | None,
    eval_data: str | None,
    limit: int | None,
    preprocess: str | None,
    size: str | None,
    task: str | None,
    keep_fp32: tuple[str, ...],
    fp16_io: bool,
    exclude: tuple[str, ...],
    auto_exclude: bool,
    max_exclusions: int,
    target_agreement: float | None,
    method: str,
    force: bool,
    as_json: bool,
) -> None:
    """Convert an ONNX model to mixed FP16 or INT8 Q/DQ (what TensorRT 11 builds), calibrated, and measure the cost.

    \b
    FP16 keeps in FP32 what would overflow or lose accuracy (observed ranges, Exp/Softmax/normalisation, long sums).
    INT8 writes symmetric Q/DQ nodes (zero point 0) with per-channel weights, as TensorRT requires.
    FP32 and the result are then compared on held-apart data: error and a verdict per output, the task agreement as
    a count with its 95 % interval, NaN/Inf counts; everything, and the preprocessing of the samples, is recorded in
    the output's metadata. Exit 1 when an output collapsed, NaN/Inf appeared or --target-agreement is missed.
    """
    from pt2trt.precision import quantize

    result = quantize(
        onnx_file,
        output or sibling_output(onnx_file, precision),
        precision,
        calib=calib,
        eval_data=eval_data,
        limit=limit,
        preprocess=preprocess,
        task=task,
        keep_fp32=keep_fp32,
        exclude=exclude,
        auto_exclude=auto_exclude,
        target_agreement=target_agreement,
        method=method,
        fp16_io=fp16_io,
        force=force,
        progress=not as_json,
        max_exclusions=max_exclusions,
        size=_parse_size(size),
    )
    if as_json:
        print_json(result.to_dict())
    else:
        _print(result)
    if not result.passed:
        raise click.exceptions.Exit(1)


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise click.BadParameter(f"'{text}' is not HxW (e.g. 640x640)", param_hint="--size")
    return int(parts[0]), int(parts[1])


def _print(result: object) -> None:
    from rich.table import Table

    from pt2trt.files import format_size

    r = result  # QuantizeResult (typed loosely to keep --help free of imports)
    out = console()
    cal = r.calibration  # type: ignore[attr-defined]
    method = f", {cal['method']} ranges" if cal.get("method") else ""
    click.echo(f"calibration: {cal['samples']} samples from {cal['source']} ({cal['kind']}){method}")
    if cal.get("preprocessing"):
        click.echo(
            f"preprocessing: {cal['preprocessing']} ({cal.get('preprocessing_from', '')}), recorded in the output"
        )
    layers = r.kept_fp32 or r.excluded  # type: ignore[attr-defined]
    if layers:
        title = "kept in FP32" if r.precision == "fp16" else "left in float (excluded)"  # type: ignore[attr-defined]
        table = Table(title=title, title_justify="left", show_edge=False)
        for col in ("node", "op", "module", "reason"):
            table.add_column(col)
        for layer in layers:
            table.add_row(layer.node, layer.op, layer.module or "-", layer.reason)
        out.print(table)
    acc = r.accuracy  # type: ignore[attr-defined]
    click.echo(f"measured against FP32 on {acc.runtime}, {acc.samples} held-apart samples from {acc.source}:")
    for line in acc.lines():
        click.echo(f"  {line}")
    if acc.notes and "too few" in " ".join(acc.notes):
        click.echo("  (held-apart samples to measure on: --eval DATA)")
    if not acc.passed:
        verdict = "FAILED: " + "; ".join(acc.reasons)
    elif acc.target is None:  # nothing to pass: say so rather than "passed" beside a low agreement
        verdict = "no new NaN/Inf, no output collapsed; no target set (--target-agreement 0.99 makes it a check)"
    else:
        verdict = f"passed (target {acc.target:g})"
    counted = acc.counted
    if counted is not None and counted.too_few(acc.target):
        verdict += "; too few samples to conclude"
    click.echo(
        f"wrote {r.output} ({r.precision}, {format_size(r.size_bytes)}) in {r.seconds:.1f} s: "  # type: ignore[attr-defined]
        f"{acc.headline()}; {verdict}"
    )
