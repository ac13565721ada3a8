"""``pt2trt eval``."""

from __future__ import annotations

from typing import Any

import click

from pt2trt.cli.choices import backend_choice
from pt2trt.cli.options import console, json_option, model_options, print_json
from pt2trt.cli.task_options import (
    ignore_metadata_option,
    preprocess_options,
    preprocess_overrides,
    task_options,
    triton_options,
    triton_runner_options,
)

#: task options whose default in ``eval`` is the task's scoring convention, not predict's (see DETECT_DEFAULTS)
SCORING_DEFAULTS = ("conf", "iou", "max_det")


@click.command("eval")
@click.argument("models", nargs=-1, required=True, metavar="MODEL [MODEL ...]")
@click.option(
    "--data",
    required=True,
    type=click.Path(),
    metavar="DATA",
    help="Labelled pictures: an ImageFolder (classify); a COCO .json, a YOLO data .yaml or folder (detect); a folder "
    "of pictures and index-PNG masks (segment).",
)
@task_options
@click.option(
    "--backend",
    "backends",
    type=backend_choice(),
    multiple=True,
    help="Run each model on this backend; repeat to compare backends [default: auto, by file type].",
)
@click.option("--images", type=click.Path(file_okay=False), metavar="DIR", help="The pictures' folder, when DATA is "
              "a COCO .json or a masks folder [default: beside DATA].")  # fmt: skip
@click.option("--split", metavar="NAME", help="The split of a YOLO data .yaml or a VOC folder [default: val].")
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    metavar="FILE|NAME",
    help="The model's class names (.txt/.json/.yaml, or imagenet, coco, coco80, coco91-torchvision, voc): class "
    "folders and COCO categories are matched to them by name.",
)
@click.option(
    "--class-map",
    metavar="identity|coco80|FILE",
    help="detect: which category id each model class is [default: by name, else guessed and said].",
)
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Images per inference.")
@click.option(
    "--workers", type=click.IntRange(min=0), default=2, show_default=True, help="Threads decoding images ahead."
)
@click.option("--threads", type=int, help="ONNX Runtime intra-op threads [default: ONNX Runtime's choice].")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Score the first N pictures only.")
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    metavar="ROUNDS",
    help="Bootstrap draws for the mAP/mIoU deltas' intervals (0: none).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap draws.")
@click.option(
    "--max-drop",
    type=click.FloatRange(min=0),
    metavar="POINTS",
    help="Exit 1 when a model's top1 / map / miou is more than POINTS percentage points below the first model's.",
)
@click.option(
    "--save",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Draw the pictures whose answer changed against the first model: truth | reference | model.",
)
@click.option("-f", "--force", is_flag=True, help="Overwrite pictures already in --save.")
@click.option("--fast-decode", is_flag=True, help="Decode JPEGs at reduced size (see `pt2trt predict --help`).")
@click.option("--allow-large-images", is_flag=True, help="Decode images over PIL's ~179-megapixel safety limit.")
@triton_options
@ignore_metadata_option
@preprocess_options
@model_options
@json_option
@click.pass_context
def command(ctx: click.Context, models: tuple[str, ...], data: str, task: str, **options: Any) -> None:
    """Score MODELs on the labelled DATA for the task, side by side; the first model is the reference.

    \b
    classify: top-1/top-5 (McNemar on flipped images); detect: COCO mAP@[.5:.95], mAP@.5 (pycocotools; bootstrap);
    segment: mean IoU, pixel accuracy (bootstrap). detect scores every box down to --conf 0.001 with NMS at --iou
    0.7 (the mAP convention) unless given. Examples:
      pt2trt eval r18.onnx r18-int8.onnx --data val/ --task classify --labels imagenet --max-drop 1
      pt2trt eval yolo.onnx yolo.engine --data instances_val.json --images val/ --task detect
      pt2trt eval seg.onnx --backend onnxruntime --backend openvino --data voc/ --task segment --json
    """
    from pt2trt.evaluation.runner import evaluate
    from pt2trt.evaluation.settings import EvalSettings

    as_json = options.pop("as_json")
    settings = EvalSettings(**_settings(ctx, options))
    report = evaluate(list(models), data, task, settings)
    _tell(report)
    if as_json:
        print_json(report.to_dict())
    else:
        from pt2trt.cli.eval_table import print_report

        print_report(console(), report)
    if not report.passed:
        raise SystemExit(1)


def _settings(ctx: click.Context, o: dict[str, Any]) -> dict[str, Any]:
    """The options as :class:`EvalSettings` fields."""
    decoding = ("layout", "output_name", "conf", "iou", "max_det", "top_k", "mask_threshold")
    task_options = {"output" if k == "output_name" else k: o.pop(k) for k in decoding}
    for name in SCORING_DEFAULTS:
        if ctx.get_parameter_source(name) is click.core.ParameterSource.DEFAULT:
            task_options[name] = None  # eval's own default (the scoring convention)
    overrides = preprocess_overrides(
        **{k: o.pop(k) for k in ("resize", "size", "mean", "std", "scale", "pad_value", "bgr", "nhwc", "channels")}
    )
    runner = triton_runner_options(o.pop("url"), o.pop("served_model"), o.pop("ignore_metadata"))
    return {
        **o,
        "backends": tuple(o.pop("backends")) or ("auto",),
        "task_options": task_options,
        "overrides": overrides,
        "runner_options": runner,
        "progress": True,
    }


def _tell(report: Any) -> None:
    """Notes, doubts and one closing line per model, on stderr."""
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for evaluation in report.evaluations:
        for note in evaluation.notes:
            click.echo(f"note: {evaluation.label}: {note}", err=True)
        for warning in evaluation.warnings:
            click.echo(f"warning: {evaluation.label}: {warning}", err=True)
        saved = f"; {len(evaluation.saved)} changed picture(s) drawn" if evaluation.saved else ""
        click.echo(
            f"evaluated {evaluation.label} on {evaluation.images} image(s) in {evaluation.seconds:.1f} s "
            f"({evaluation.images_per_second:.1f} images/s; {evaluation.preprocess}){saved}",
            err=True,
        )
