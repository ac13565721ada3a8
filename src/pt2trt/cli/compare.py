"""``pt2trt compare``."""

from __future__ import annotations

import click

from pt2trt.cli.choices import backend_choice
from pt2trt.cli.options import console, json_option, print_json, pytorch_or_file, weights_options
from pt2trt.cli.task_options import preprocess_options, read_options, runner_options, task_options
from pt2trt.settings import PreprocessSettings, ReadSettings, RunnerSettings, TaskSettings, WeightsSettings


@click.command("compare")
@click.argument("model_a")
@click.argument("model_b")
@click.argument("images", nargs=-1, required=True)
@task_options()
@click.option("--backend-a", type=backend_choice(), default="auto", show_default=True)
@click.option("--backend-b", type=backend_choice(), default="auto", show_default=True)
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1),
    default=0.99,
    show_default=True,
    help="Pass when top-1 agreement / matched boxes / pixel agreement reach this fraction.",
)
@click.option("--match-iou", type=click.FloatRange(0, 1), default=0.5, show_default=True, help="IoU to match boxes.")
@read_options("Threads decoding images ahead of the models.")
@runner_options(backend=False, threads=False)
@preprocess_options()
@weights_options()
@json_option
def command(
    model_a: str, model_b: str, images: tuple[str, ...], task: TaskSettings, backend_a: str, backend_b: str,
    min_agreement: float, match_iou: float, read: ReadSettings, runner: RunnerSettings,
    preprocess: PreprocessSettings, weights: WeightsSettings, as_json: bool,
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
    from pt2trt.settings import PredictSettings

    settings = PredictSettings(task, preprocess, replace(runner, backend=backend_a), read)
    result = compare_models(
        pytorch_or_file(model_a, weights, backend_a), pytorch_or_file(model_b, weights, backend_b), images, settings,
        runner_b=replace(runner, backend=backend_b), min_agreement=min_agreement, iou_threshold=match_iou,
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
            f"on {c.images} image(s), {task.task}, {result.preprocess.describe()}",
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
