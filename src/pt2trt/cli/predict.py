"""``pt2trt predict``."""

from __future__ import annotations

import json
import sys

import click

from pt2trt.cli.choices import backend_choice
from pt2trt.cli.options import force_option, model_options
from pt2trt.cli.task_options import (
    ignore_metadata_option,
    preprocess_options,
    preprocess_overrides,
    task_options,
    triton_options,
    triton_runner_options,
)


@click.command("predict")
@click.argument("model")
@click.argument("images", nargs=-1, required=True)
@task_options
@click.option("--backend", type=backend_choice(), default="auto", show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Images per inference.")
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    metavar="FILE|NAME",
    help="Class names: .txt (one a line), .json, .yaml, or built in: coco (80 or 91 ids by layout), coco80, "
    "coco91-torchvision, imagenet, voc.",
)
@click.option("--save", type=click.Path(file_okay=False), metavar="DIR", help="Write annotated pictures into DIR.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), metavar="FILE", help="Write the JSON lines to FILE, not stdout."
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Threads decoding images ahead of the model.",
)
@click.option("--threads", type=int, help="ONNX Runtime intra-op threads [default: ONNX Runtime's choice].")
@click.option(
    "--fast-decode",
    is_flag=True,
    help="Decode JPEGs at reduced size when the input is much smaller: faster, pixels differ (docs/tasks.md).",
)
@click.option("--allow-large-images", is_flag=True, help="Decode images over PIL's ~179-megapixel safety limit.")
@triton_options
@ignore_metadata_option
@preprocess_options
@model_options
@force_option
def command(
    model: str,
    images: tuple[str, ...],
    task: str,
    layout: str,
    output_name: str | None,
    conf: float,
    iou: float,
    max_det: int,
    top_k: int,
    mask_threshold: float,
    backend: str,
    batch: int,
    labels: str | None,
    save: str | None,
    output: str | None,
    workers: int,
    threads: int | None,
    fast_decode: bool,
    allow_large_images: bool,
    url: str | None,
    served_model: str | None,
    ignore_metadata: bool,
    preprocess: str | None,
    weights: str | None,
    allow_pickle: bool,
    force: bool,
    **flags: object,
) -> None:
    """Predict on IMAGES (files, folders, globs; videos with OpenCV): one JSON line per image, in its own pixels.

    \b
    MODEL is an .onnx file, a TensorRT engine, an OpenVINO .xml or a PyTorch spec (torchvision:resnet18, ...).
    Examples:
      pt2trt predict r18.onnx photos/ --task classify --labels imagenet.txt --top-k 3
      pt2trt predict yolo.onnx 'street/*.jpg' --task detect --conf 0.4 --save annotated/
      pt2trt predict deeplab.onnx photo.png --task segment --save out/ --batch 4
      pt2trt predict r18.onnx photos/ --task classify --backend triton --url grpc://gpu-node:8001
    """
    from pt2trt.files import check_writable, publish, staging_dir
    from pt2trt.prediction.predict import Predictor

    out_path = check_writable(output, force=force) if output else None
    overrides = preprocess_overrides(**flags)  # type: ignore[arg-type]
    predictor = Predictor(
        model,
        task,
        backend=backend,
        preprocess=preprocess,
        overrides=overrides,
        batch=batch,
        labels=labels,
        workers=workers,
        threads=threads,
        fast_decode=fast_decode,
        allow_large_images=allow_large_images,
        weights=weights,
        allow_pickle=allow_pickle,
        layout=layout,
        output=output_name,
        mask_threshold=mask_threshold,
        runner_options=triton_runner_options(url, served_model, ignore_metadata),
        conf=conf,
        iou=iou,
        max_det=max_det,
        top_k=top_k,
    )
    shown = 0

    def warn_new() -> None:  # each doubt about the results once, on stderr, as soon as it is known
        nonlocal shown
        for message in predictor.warnings[shown:]:
            click.echo(f"warning: {message}", err=True)
        shown = len(predictor.warnings)

    with predictor:
        if out_path is None:
            for prediction in predictor.run(images, save=save, force=force):
                warn_new()
                sys.stdout.write(json.dumps(prediction.to_dict(predictor.labels)) + "\n")
                sys.stdout.flush()
        else:
            with staging_dir(out_path) as tmp:
                staged = tmp / out_path.name
                with staged.open("w", encoding="utf-8") as f:
                    for prediction in predictor.run(images, save=save, force=force):
                        warn_new()
                        f.write(json.dumps(prediction.to_dict(predictor.labels)) + "\n")
                publish(staged, out_path, replace=force)
    stats = predictor.stats
    where = f"; annotated pictures in {save}" if save else ""
    written = f"; JSON lines in {out_path}" if out_path else ""
    where += "".join(f"; {note}" for note in predictor.model.notes)
    click.echo(
        f"predicted {stats.images} image(s) with {predictor.model.describe()} in {stats.seconds:.1f} s "
        f"({stats.images_per_second:.1f} images/s){written}{where}",
        err=True,
    )
