"""``pt2trt predict``."""

from __future__ import annotations

import json
import sys

import click

from pt2trt.cli.options import force_option, pytorch_or_file, weights_options
from pt2trt.cli.task_options import preprocess_options, read_options, runner_options, task_options
from pt2trt.settings import PreprocessSettings, ReadSettings, RunnerSettings, TaskSettings, WeightsSettings


@click.command("predict")
@click.argument("model")
@click.argument("images", nargs=-1, required=True)
@task_options()
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
@runner_options()
@read_options()
@preprocess_options()
@weights_options()
@force_option
def command(
    model: str, images: tuple[str, ...], task: TaskSettings, labels: str | None, save: str | None,
    output: str | None, runner: RunnerSettings, read: ReadSettings, preprocess: PreprocessSettings,
    weights: WeightsSettings, force: bool,
) -> None:  # fmt: skip
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
    from pt2trt.settings import PredictSettings

    out_path = check_writable(output, force=force) if output else None
    settings = PredictSettings(task, preprocess, runner, read, labels)
    predictor = Predictor(pytorch_or_file(model, weights, runner.backend), settings)
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
