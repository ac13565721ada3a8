"""``pt2trt triton``: a checked Triton Inference Server model repository for one model."""

from __future__ import annotations

import click

from pt2trt.cli.choices import layout_choice, task_choice
from pt2trt.cli.options import force_option
from pt2trt.errors import UsageError


def _sizes(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--preferred '{text}' is not a list of batch sizes", "e.g. --preferred 4,8") from None
    if any(v < 1 for v in values):
        raise UsageError(
            f"--preferred '{text}' has a batch size below 1", "Give batch sizes of 1 or more, e.g. --preferred 4,8"
        )
    return values


@click.command("triton")
@click.argument("model")
@click.option("-o", "--output", "repo", type=click.Path(file_okay=False), metavar="REPO", help="Model repository.")
@click.option("--name", help="The model's name in the repository [default: MODEL's file name without suffix].")
@click.option("--max-batch", type=int, help="max_batch_size for a dynamic batch [default: 8, within a profile].")
@click.option("--instances", type=int, default=1, show_default=True, help="Model instances (instance_group count).")
@click.option("--kind", type=click.Choice(["gpu", "cpu"]), default="gpu", show_default=True, help="Instance kind.")
@click.option("--dynamic-batching", is_flag=True, help="Let Triton group requests into batches.")
@click.option("--preferred", metavar="4,8", help="--dynamic-batching: preferred batch sizes.")
@click.option("--max-queue-delay-us", type=int, default=0, show_default=True, help="--dynamic-batching: delay.")
@click.option("--tensorrt-accelerator", is_flag=True, help="ONNX on GPU: use the TensorRT execution accelerator.")
@click.option(
    "--core",
    type=click.Choice(["native", "python"]),
    default="native",
    show_default=True,
    help="python: serve the ONNX file with ONNX Runtime inside a Python-backend model (CPU-only servers).",
)
@click.option("--ensemble", is_flag=True, help="Add preprocessing/postprocessing models and an ensemble chaining them.")
@click.option("--task", type=task_choice(), help="--ensemble: what the model does.")
@click.option("--layout", type=layout_choice(), default="auto", show_default=True)
@click.option("--top-k", type=int, default=5, show_default=True, help="classify: classes per image.")
@click.option("--conf", type=float, default=0.25, show_default=True, help="detect/segment: min score.")
@click.option("--iou", type=float, default=0.45, show_default=True, help="detect/segment: NMS IoU.")
@click.option("--max-det", type=int, default=300, show_default=True, help="detect/segment: max boxes.")
@click.option("--labels", type=click.Path(dir_okay=False), metavar="FILE", help="--ensemble: class names.")
@click.option("--preprocess", metavar="PRESET|FILE.yaml", help="--ensemble: preprocessing [default: recorded].")
@click.option("--size", metavar="HxW", help="--ensemble: input size for a model with a dynamic size.")
@click.option("--triton-version", metavar="YY.MM", help="The server's release: an engine's TensorRT must match.")
@click.option("--tensorrt-version", metavar="X.Y.Z", help="The server's TensorRT, for a release not in the table.")
@click.option("--check", "check_only", is_flag=True, help="Only check MODEL, an existing repository, and exit.")
@force_option
def command(
    model: str,
    repo: str | None,
    name: str | None,
    max_batch: int | None,
    instances: int,
    kind: str,
    dynamic_batching: bool,
    preferred: str | None,
    max_queue_delay_us: int,
    tensorrt_accelerator: bool,
    core: str,
    ensemble: bool,
    task: str | None,
    layout: str,
    top_k: int,
    conf: float,
    iou: float,
    max_det: int,
    labels: str | None,
    preprocess: str | None,
    size: str | None,
    triton_version: str | None,
    tensorrt_version: str | None,
    check_only: bool,
    force: bool,
) -> None:
    """Write REPO/NAME/1/model.* and REPO/NAME/config.pbtxt for MODEL (.onnx, TensorRT engine, OpenVINO .xml).

    Every config.pbtxt is parsed with Triton's own schema and checked against the model (names, dtypes, dims,
    batch vs an engine's profile, an engine's TensorRT vs the Triton release) before anything is written.

    \b
    Examples:
      pt2trt triton r18.plan -o repo --max-batch 16 --dynamic-batching --preferred 4,8 --triton-version 24.12
      pt2trt triton r18.onnx -o repo --ensemble --task classify --labels imagenet.txt --kind cpu --core python
      pt2trt triton --check repo
    """
    import time
    from pathlib import Path

    from pt2trt.serve import EnsembleOptions, ServeOptions, check_repository, write_repository

    if check_only:
        start = time.perf_counter()
        count = check_repository(model, release=triton_version, server_tensorrt=tensorrt_version)
        click.echo(
            f"checked {count} model(s) in {model}: schema and model cross-checks passed "
            f"({time.perf_counter() - start:.1f} s)"
        )
        return
    if repo is None:
        raise UsageError("missing -o/--output REPO", "e.g. pt2trt triton model.onnx -o model_repository")
    options = ServeOptions(
        name=name or Path(model).stem,
        max_batch=max_batch,
        instances=instances,
        kind=kind,
        dynamic_batching=dynamic_batching,
        preferred=_sizes(preferred),
        max_queue_delay_us=max_queue_delay_us,
        tensorrt_accelerator=tensorrt_accelerator,
        triton_release=triton_version,
        tensorrt_version=tensorrt_version,
        core=core,
    )
    pipeline = None
    if ensemble:
        if task is None:
            raise UsageError("--ensemble needs --task", "e.g. --task classify")
        from dataclasses import replace

        from pt2trt.imaging.preprocess import PRESETS, load_preprocess, parse_size
        from pt2trt.tasks import task_class

        recipe = load_preprocess(preprocess) if preprocess else None
        if size:
            recipe = replace(recipe or PRESETS[task_class(task).default_preset], size=parse_size(size))
        from pt2trt.settings import TaskSettings

        decoding = TaskSettings(task=task, layout=layout, top_k=top_k, conf=conf, iou=iou, max_det=max_det)
        pipeline = EnsembleOptions(task=decoding, preprocess=recipe, labels=labels)
    elif task or labels or preprocess or size:
        raise UsageError("--task, --labels, --preprocess and --size describe the ensemble", "Add --ensemble")
    result = write_repository(model, repo, options, ensemble=pipeline, force=force)
    batch = f"max_batch_size {result.max_batch_size}" if result.max_batch_size else "no batching"
    click.echo(
        f"wrote {', '.join(result.models)} into {result.repo} ({result.io.kind}, {batch}; configs checked against "
        f"Triton's schema and the model) in {result.seconds:.1f} s; clients call '{result.entry}'"
    )
