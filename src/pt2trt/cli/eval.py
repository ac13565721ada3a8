"""``pt2trt eval``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
from click.core import ParameterSource

from pt2trt.cli.choices import backend_choice
from pt2trt.cli.options import console, json_option, print_json, weights_options
from pt2trt.cli.task_options import preprocess_options, read_options, runner_options, task_options
from pt2trt.settings import TaskSettings

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
@task_options()
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
@read_options("Threads decoding images ahead.")
@runner_options(backend=False)
@preprocess_options()
@weights_options()
@json_option
@click.pass_context
def command(ctx: click.Context, models: tuple[str, ...], data: str, task: TaskSettings, **options: Any) -> None:
    """Score MODELs on the labelled DATA for the task, side by side; the first model is the reference.

    \b
    classify: top-1/top-5 (McNemar on flipped images); detect: COCO mAP@[.5:.95], mAP@.5 (pycocotools; bootstrap);
    segment: mean IoU, pixel accuracy (bootstrap). detect scores every box down to --conf 0.001 with NMS at --iou
    0.7 (the mAP convention) unless given. Examples:
      pt2trt eval r18.onnx r18-int8.onnx --data val/ --task classify --labels imagenet --max-drop 1
      pt2trt eval yolo.onnx yolo.engine --data instances_val.json --images val/ --task detect
      pt2trt eval seg.onnx --backend onnxruntime --backend openvino --data voc/ --task segment --json
    """
    from pt2trt.errors import CheckFailed
    from pt2trt.evaluation.runner import evaluate

    as_json, weights = options.pop("as_json"), options.pop("weights")
    report = evaluate([weights.source(m) for m in models], data, str(task.task), _settings(ctx, task, options))
    _tell(report)
    if as_json:
        print_json(report.to_dict())
    else:
        from pt2trt.cli.eval_table import print_report

        print_report(console(), report)
    if not report.passed:
        raise CheckFailed("; ".join(report.failures), "The tables above show each model's delta and its significance")


def _settings(ctx: click.Context, task: TaskSettings, o: dict[str, Any]) -> Any:
    """The options as :class:`~pt2trt.evaluation.settings.EvalSettings`; decoding options the user did not give take
    the task's scoring convention (detect: conf 0.001, NMS 0.7)."""
    from pt2trt.evaluation.settings import EvalSettings

    given = {n: getattr(task, n) for n in SCORING_DEFAULTS if ctx.get_parameter_source(n) != ParameterSource.DEFAULT}
    decoding = task
    if task.task == "detect":
        from pt2trt.evaluation.settings import DETECT_DEFAULTS

        decoding = replace(decoding, **{**DETECT_DEFAULTS, **given})
    backends = tuple(o.pop("backends")) or ("auto",)
    return EvalSettings(backends=backends, decoding=decoding, progress=True, **o)


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
