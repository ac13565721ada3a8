"""``pt2trt quantize``: its option groups build one :class:`~pt2trt.settings.QuantizeSettings`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.options import (
    Decorator,
    combine,
    console,
    force_option,
    json_option,
    option_group,
    print_json,
    sibling_output,
)
from pt2trt.cli.task_options import LABELS_HELP, preprocess_options
from pt2trt.settings.precision import CALIBRATION_METHODS, MAX_EXCLUSIONS, QUANTIZE_PRECISIONS

METHOD_NAMES = CALIBRATION_METHODS  # a test checks they match pt2trt.precision.METHODS


def _task_names() -> list[str]:
    from pt2trt.tasks import task_names

    return [*task_names(), "none"]


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def sample_options() -> Decorator:
    """--calib, --holdout, --limit -> ``samples: dict`` (the job's sample fields)."""

    def make(v: dict[str, Any]) -> Any:
        return {"calib": v["calib"], "holdout": v["holdout"], "limit": v["limit"]}

    return option_group(
        "samples",
        [
            click.Option(["--calib"], metavar="DATA",
                         help="Calibration data: images (folder, glob), video, or .npy/.npz [default: random: NOT "
                         "calibrated]."),
            click.Option(["--holdout"], metavar="DATA",
                         help="Held-apart samples (unlabelled) to measure the agreement with FP32 on [default: 1 in 5 "
                         "of --calib]."),
            click.Option(["--limit"], type=click.IntRange(min=1), help="Use at most N samples of each data source."),
        ],
        make,
    )  # fmt: skip


def check_options() -> Decorator:
    """--task, --target-agreement -> ``check: dict``."""

    def make(v: dict[str, Any]) -> Any:
        return {"task": v["task"], "target_agreement": v["target_agreement"]}

    return option_group(
        "check",
        [
            click.Option(["--task"], type=RegistryChoice(_task_names),
                         help="Task metric to judge by; none: judge each output on its own [default: classify for an "
                         "image model with one [N, C] output, said aloud; else none]."),
            click.Option(["--target-agreement"], type=float,
                         help="Exit 1 below this task agreement with FP32, e.g. 0.99 (top-1 for classify) "
                         "[--auto-exclude default: 0.99]."),
        ],
        make,
    )  # fmt: skip


def fp16_options() -> Decorator:
    """--keep-fp32, --fp16-io -> ``fp16: Fp16Settings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings.precision import Fp16Settings

        return Fp16Settings(tuple(v["keep_fp32"]), v["fp16_io"])

    return option_group(
        "fp16",
        [
            click.Option(["--keep-fp32"], multiple=True, metavar="NODE|MODULE",
                         help="fp16: keep this node or module in FP32."),
            click.Option(["--fp16-io"], is_flag=True, help="fp16: float16 graph inputs and outputs (default keeps "
                         "float32)."),
        ],
        make,
    )  # fmt: skip


def int8_options() -> Decorator:
    """--method, --exclude, --auto-exclude, --max-exclusions -> ``int8: Int8Settings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings.precision import Int8Settings

        return Int8Settings(v["method"], tuple(v["exclude"]), v["auto_exclude"], v["max_exclusions"])

    return option_group(
        "int8",
        [
            click.Option(["--method"], type=click.Choice(METHOD_NAMES), default="minmax", show_default=True,
                         help="int8: calibration method."),
            click.Option(["--exclude"], multiple=True, metavar="NODE|MODULE",
                         help="int8: leave this node or module in float."),
            click.Option(["--auto-exclude"], is_flag=True,
                         help="int8: keep the layers adding most error in float until the agreement target is met."),
            click.Option(["--max-exclusions"], type=click.IntRange(min=0), default=MAX_EXCLUSIONS, show_default=True,
                         help="int8: most layers --auto-exclude and --max-drop leave in float."),
        ],
        make,
    )  # fmt: skip


def eval_options() -> Decorator:
    """--eval, --max-drop, --labels -> ``evaluation: LabelledEval | None``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.errors import UsageError
        from pt2trt.settings.precision import LabelledEval

        if v["eval_data"] is None:
            if v["max_drop"] is not None or v["labels"] is not None:
                raise UsageError("--max-drop and --labels need --eval DATA", "Give labelled data with --eval DATA")
            return None
        return LabelledEval(Path(v["eval_data"]), v["max_drop"], v["labels"])

    return option_group(
        "evaluation",
        [
            click.Option(["--eval", "eval_data"], metavar="DATA",
                         help="Labelled data as pt2trt eval reads it (ImageFolder, COCO, YOLO, masks): FP32 and the "
                         "result scored on the task's metric (top1, map, miou)."),
            click.Option(["--max-drop"], type=click.FloatRange(min=0), metavar="POINTS",
                         help="With --eval: int8 keeps the fewest layers in float that keep the metric within POINTS "
                         "percentage points of FP32 (exit 1 when none does); fp16 fails past it."),
            click.Option(["--labels"], type=click.Path(dir_okay=False), metavar="FILE|NAME",
                         help="With --eval: " + LABELS_HELP),
        ],
        make,
    )  # fmt: skip


def quantize_settings() -> Decorator:
    """Every group above, the preprocessing, --precision and --force -> ``settings: QuantizeSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings.precision import QuantizeSettings

        return QuantizeSettings(
            v["precision"], **v["samples"], preprocess=v["preprocess"], **v["check"], fp16=v["fp16"], int8=v["int8"],
            evaluation=v["evaluation"], force=v["force"],
        )  # fmt: skip

    groups = [sample_options(), preprocess_options(), check_options(), fp16_options(), int8_options(), eval_options()]
    parts = ["precision", "samples", "preprocess", "check", "fp16", "int8", "evaluation", "force"]

    def decorator(f: Any) -> Any:
        f = combine("settings", parts, make)(f)  # nearest the function: runs after the groups built their parts
        for group in reversed(groups):
            f = group(f)
        return f

    return decorator


@click.command("quantize")
@click.argument("onnx_file", metavar="MODEL.onnx")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="ONNX file to write [default: MODEL-PREC.onnx].")
@click.option("--precision", type=click.Choice(QUANTIZE_PRECISIONS), required=True, help="Target precision.")
@quantize_settings()
@force_option
@json_option
def command(onnx_file: str, output: str | None, settings: Any, as_json: bool) -> None:
    """Convert an ONNX model to mixed FP16 or INT8 Q/DQ (what TensorRT 11 builds), calibrated, and measure the cost.

    \b
    FP16 keeps in FP32 what would overflow or lose accuracy (observed ranges, Exp/Softmax/normalisation, long sums).
    INT8 writes symmetric Q/DQ nodes (zero point 0) with per-channel weights, as TensorRT requires.
    FP32 and the result are then compared on held-apart samples: error and a verdict per output, the task agreement
    as a count with its 95 % interval, NaN/Inf counts; with --eval, both are scored on labelled data by the task's
    metric, and --max-drop keeps the fewest INT8 layers in float that hold the drop within it. Everything, and the
    preprocessing of the samples, is recorded in the output's metadata. Exit 1 when an output collapsed, NaN/Inf
    appeared, --target-agreement is missed or the metric drops past --max-drop.
    """
    from pt2trt.errors import CheckFailed
    from pt2trt.precision import quantize

    result = quantize(
        onnx_file, output or sibling_output(onnx_file, settings.precision), settings, progress=not as_json
    )
    if as_json:
        print_json(result.to_dict())
    else:
        _print(result)
    evaluation = result.evaluation
    if evaluation is not None and not evaluation.passed:
        raise _limit_missed(result, evaluation)
    if not result.passed:
        raise CheckFailed(
            "the converted model failed its checks",
            "The lines above name what moved; keep layers in float: --auto-exclude (int8), --keep-fp32 NODE (fp16)",
        )


def _limit_missed(result: Any, evaluation: Any) -> Exception:
    """The one line of a ``--max-drop`` that could not be met: the best found, and what to try."""
    from pt2trt.errors import Pt2trtError

    message = (
        f"{result.precision} loses {evaluation.drop:.2f} points of {evaluation.metric} on {evaluation.images} labelled "
        f"images, more than --max-drop {evaluation.max_drop:g}"
    )
    if evaluation.stopped:
        message += f"; the search stopped: {evaluation.stopped}"
    if result.precision == "int8":
        message += f"; the best found ({len(result.excluded)} layer(s) in float) is written to {result.output}"
    if result.precision == "int8":
        hint = "Allow more layers in float (--max-exclusions N), try --method percentile, or raise --max-drop"
    else:
        hint = "Keep the layers that cost most in FP32 (--keep-fp32 NODE|MODULE), or raise --max-drop"
    return Pt2trtError(message, hint)


def _print(result: Any) -> None:
    from rich.table import Table

    from pt2trt.files import format_size

    r = result  # QuantizeResult (typed loosely to keep --help free of imports)
    out = console()
    cal = r.calibration
    method = f", {cal['method']} ranges" if cal.get("method") else ""
    click.echo(f"calibration: {cal['samples']} samples from {cal['source']} ({cal['kind']}){method}")
    if cal.get("preprocessing"):
        click.echo(
            f"preprocessing: {cal['preprocessing']} ({cal.get('preprocessing_from', '')}), recorded in the output"
        )
    layers = r.kept_fp32 or r.excluded
    if layers:
        title = "kept in FP32" if r.precision == "fp16" else "left in float (excluded)"
        table = Table(title=title, title_justify="left", show_edge=False)
        for col in ("node", "op", "module", "reason"):
            table.add_column(col)
        for layer in layers:
            table.add_row(layer.node, layer.op, layer.module or "-", layer.reason)
        out.print(table)
    acc = r.accuracy
    click.echo(f"measured against FP32 on {acc.runtime}, {acc.samples} held-apart samples from {acc.source}:")
    for line in acc.lines():
        click.echo(f"  {line}")
    if acc.notes and "too few" in " ".join(acc.notes):
        click.echo("  (held-apart samples to measure on: --holdout DATA)")
    if r.evaluation is not None:
        click.echo("task metric on labelled data (--eval):")
        for line in r.evaluation.lines():
            click.echo(f"  {line}")
    click.echo(f"wrote {r.output} ({r.precision}, {format_size(r.size_bytes)}) in {r.seconds:.1f} s: {_verdict(r)}")


def _verdict(r: Any) -> str:
    acc = r.accuracy
    if not acc.passed:
        verdict = "FAILED: " + "; ".join(acc.reasons)
    elif acc.target is None:  # nothing to pass: say so rather than "passed" beside a low agreement
        verdict = "no new NaN/Inf, no output collapsed; no target set (--target-agreement 0.99 makes it a check)"
    else:
        verdict = f"passed (target {acc.target:g})"
    counted = acc.counted
    if counted is not None and counted.too_few(acc.target):
        verdict += "; too few samples to conclude"
    text = f"{acc.headline()}; {verdict}"
    evaluation = r.evaluation
    if evaluation is not None:
        from pt2trt.precision.metric_search import signed

        limit = ""
        if evaluation.max_drop is not None:
            limit = f" (limit {evaluation.max_drop:g}: {'met' if evaluation.passed else 'MISSED'})"
        text += f"; {evaluation.metric} {signed(evaluation.drop)} points on {evaluation.images} labelled images{limit}"
    return text
