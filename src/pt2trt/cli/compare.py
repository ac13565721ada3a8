"""``pt2trt compare``."""

from __future__ import annotations

from typing import Any

import click

from pt2trt.cli.choices import backend_choice
from pt2trt.cli.options import (
    Decorator,
    console,
    json_option,
    option_group,
    print_json,
    pytorch_or_file,
    weights_options,
)
from pt2trt.cli.task_options import predict_options
from pt2trt.settings import CompareSettings, PredictSettings, WeightsSettings


def compare_options() -> Decorator:
    """--backend-a, --backend-b, --min-agreement, --match-iou -> ``compare: CompareSettings``."""

    def make(v: dict[str, Any]) -> Any:
        return CompareSettings(**v)

    return option_group(
        "compare",
        [
            click.Option(["--backend-a"], type=backend_choice(), default="auto", show_default=True),
            click.Option(["--backend-b"], type=backend_choice(), default="auto", show_default=True),
            click.Option(
                ["--min-agreement"], type=click.FloatRange(0, 1), default=0.99, show_default=True,
                help="Pass when top-1 agreement / matched boxes / pixel agreement reach this fraction.",
            ),
            click.Option(["--match-iou"], type=click.FloatRange(0, 1), default=0.5, show_default=True,
                         help="IoU to match boxes."),
        ],
        make,
    )  # fmt: skip


@click.command("compare")
@click.argument("model_a")
@click.argument("model_b")
@click.argument("images", nargs=-1, required=True)
@predict_options(
    labels=False, backend=False, threads=False, workers_help="Threads decoding images ahead of the models."
)
@compare_options()
@weights_options()
@json_option
def command(
    model_a: str, model_b: str, images: tuple[str, ...], settings: PredictSettings, compare: CompareSettings,
    weights: WeightsSettings, as_json: bool,
) -> None:  # fmt: skip
    """Run MODEL_A and MODEL_B on IMAGES and compare their answers for the task; exit 1 if they disagree.

    \b
    Any two of PyTorch spec / ONNX / engine, or one model on two backends:
      pt2trt compare torchvision:resnet18 r18.onnx photos/ --task classify
      pt2trt compare ssd.onnx ssd.onnx photos/ --task detect --backend-b openvino
      pt2trt compare r18.onnx r18.onnx photos/ --task classify --backend-b triton --url http://127.0.0.1:8000
    """
    from dataclasses import replace

    from pt2trt.errors import CheckFailed
    from pt2trt.prediction.agreement import compare_models

    a, b = compare.backend_a, compare.backend_b
    side_a = replace(settings, runner=replace(settings.runner, backend=a))
    result = compare_models(
        pytorch_or_file(model_a, weights, a), pytorch_or_file(model_b, weights, b), images, side_a,
        runner_b=replace(settings.runner, backend=b), min_agreement=compare.min_agreement,
        iou_threshold=compare.match_iou,
    )  # fmt: skip
    for message in result.warnings:
        click.echo(f"warning: {message}", err=True)
    if as_json:
        print_json(result.to_dict())
    else:
        out = console()
        c = result.comparison
        out.print(
            f"A: {result.model_a} ({result.backend_a})  vs  B: {result.model_b} ({result.backend_b})  "
            f"on {c.images} image(s), {settings.task.task}, {result.preprocess.describe()}",
            soft_wrap=True,
        )
        for line in c.summary():
            out.print(f"  {line}", soft_wrap=True)
        verdict = "[green]agree[/green]" if c.passed else "[red]DISAGREE[/red]"
        out.print(f"{verdict}: {c.criterion}", soft_wrap=True)
    if not result.passed:
        raise CheckFailed(
            f"the models disagree: {result.comparison.criterion}",
            "The lines above show where; loosen --min-agreement or --match-iou if the difference is expected",
        )
