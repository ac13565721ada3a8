"""``pt2trt compare``."""

from __future__ import annotations

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


@click.command("compare")
@click.argument("model_a")
@click.argument("model_b")
@click.argument("images", nargs=-1, required=True)
@task_options
@click.option("--backend-a", type=backend_choice(), default="auto", show_default=True)
@click.option("--backend-b", type=backend_choice(), default="auto", show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Images per inference.")
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1),
    default=0.99,
    show_default=True,
    help="Pass when top-1 agreement / matched boxes / pixel agreement reach this fraction.",
)
@click.option("--match-iou", type=click.FloatRange(0, 1), default=0.5, show_default=True, help="IoU to match boxes.")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Threads decoding images ahead of the models.",
)
@triton_options
@ignore_metadata_option
@preprocess_options
@model_options
@json_option
def command(
    model_a: str,
    model_b: str,
    images: tuple[str, ...],
    task: str,
    layout: str,
    output_name: str | None,
    conf: float,
    iou: float,
    max_det: int,
    top_k: int,
    mask_threshold: float,
    backend_a: str,
    backend_b: str,
    batch: int,
    min_agreement: float,
    match_iou: float,
    workers: int,
    url: str | None,
    served_model: str | None,
    ignore_metadata: bool,
    preprocess: str | None,
    weights: str | None,
    allow_pickle: bool,
    as_json: bool,
    **flags: object,
) -> None:
    """Run MODEL_A and MODEL_B on IMAGES and compare their answers for the task; exit 1 if they disagree.

    \b
    Any two of PyTorch spec / ONNX / engine, or one model on two backends:
      pt2trt compare torchvision:resnet18 r18.onnx photos/ --task classify
      pt2trt compare ssd.onnx ssd.onnx photos/ --task detect --backend-b openvino
      pt2trt compare r18.onnx r18.onnx photos/ --task classify --backend-b triton --url http://127.0.0.1:8000
    """
    from pt2trt.prediction.agreement import compare_models

    result = compare_models(
        model_a,
        model_b,
        images,
        task,
        backend_a=backend_a,
        backend_b=backend_b,
        preprocess=preprocess,
        overrides=preprocess_overrides(**flags),  # type: ignore[arg-type]
        batch=batch,
        workers=workers,
        min_agreement=min_agreement,
        iou_threshold=match_iou,
        weights=weights,
        allow_pickle=allow_pickle,
        runner_options=triton_runner_options(url, served_model, ignore_metadata),
        layout=layout,
        output=output_name,
        mask_threshold=mask_threshold,
        conf=conf,
        iou=iou,
        max_det=max_det,
        top_k=top_k,
    )
    for message in result.warnings:
        click.echo(f"warning: {message}", err=True)
    if as_json:
        print_json(result.to_dict())
    else:
        out = console()
        c = result.comparison
        out.print(
            f"A: {result.model_a} ({result.backend_a})  vs  B: {result.model_b} ({result.backend_b})  "
            f"on {c.images} image(s), {task}, {result.preprocess.describe()}",
            soft_wrap=True,
        )
        for line in c.summary():
            out.print(f"  {line}", soft_wrap=True)
        verdict = "[green]agree[/green]" if c.passed else "[red]DISAGREE[/red]"
        out.print(f"{verdict}: {c.criterion}", soft_wrap=True)
    if not result.passed:
        raise SystemExit(1)
