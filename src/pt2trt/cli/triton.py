"""``pt2trt triton``: a checked Triton Inference Server model repository for one model."""

from __future__ import annotations

from typing import Any

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.options import Decorator, combine, force_option, option_group
from pt2trt.cli.task_options import labels_option, preprocess_options, task_options
from pt2trt.errors import UsageError
from pt2trt.settings import EnsembleSettings, ServeSettings


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


def _kinds() -> list[str]:
    from pt2trt.settings.serving import INSTANCE_KINDS

    return list(INSTANCE_KINDS)


def _cores() -> list[str]:
    from pt2trt.settings.serving import CORES

    return list(CORES)


def serve_options() -> Decorator:
    """How the core model is served: --name, --max-batch, --instances, --kind, batching, --core and the server's
    release -> ``serve: ServeSettings``."""

    def make(v: dict[str, Any]) -> Any:
        return ServeSettings(
            name=v["name"], max_batch=v["max_batch"], instances=v["instances"], kind=v["kind"],
            dynamic_batching=v["dynamic_batching"], preferred=_sizes(v["preferred"]),
            max_queue_delay_us=v["max_queue_delay_us"], tensorrt_accelerator=v["tensorrt_accelerator"],
            triton_release=v["triton_version"], tensorrt_version=v["tensorrt_version"], core=v["core"],
        )  # fmt: skip

    return option_group(
        "serve",
        [
            click.Option(["--name"], help="The model's name in the repository [default: MODEL's file name without "
                         "suffix]."),
            click.Option(["--max-batch"], type=int,
                         help="max_batch_size for a dynamic batch [default: 8, within a profile]."),
            click.Option(["--instances"], type=int, default=1, show_default=True,
                         help="Model instances (instance_group count)."),
            click.Option(["--kind"], type=RegistryChoice(_kinds), default="gpu", show_default=True,
                         help="Instance kind."),
            click.Option(["--dynamic-batching"], is_flag=True, help="Let Triton group requests into batches."),
            click.Option(["--preferred"], metavar="4,8", help="--dynamic-batching: preferred batch sizes."),
            click.Option(["--max-queue-delay-us"], type=int, default=0, show_default=True,
                         help="--dynamic-batching: delay."),
            click.Option(["--tensorrt-accelerator"], is_flag=True,
                         help="ONNX on GPU: use the TensorRT execution accelerator."),
            click.Option(
                ["--core"], type=RegistryChoice(_cores), default="native", show_default=True,
                help="python: serve the ONNX file with ONNX Runtime inside a Python-backend model (CPU-only "
                "servers).",
            ),
            click.Option(["--triton-version"], metavar="YY.MM",
                         help="The server's release: an engine's TensorRT must match."),
            click.Option(["--tensorrt-version"], metavar="X.Y.Z",
                         help="The server's TensorRT, for a release not in the table."),
        ],
        make,
    )  # fmt: skip


def ensemble_options() -> Decorator:
    """--ensemble, the task, --labels and the preprocessing -> ``ensemble: EnsembleSettings | None``."""

    def make(v: dict[str, Any]) -> Any:
        task, preprocess, labels = v["task"], v["preprocess"], v["labels"]
        if not v["with_ensemble"]:
            if task.task or labels or preprocess.preprocess is not None or preprocess.overrides():
                raise UsageError(
                    "--task, --labels and the preprocessing options describe the ensemble", "Add --ensemble"
                )
            return None
        if task.task is None:
            raise UsageError("--ensemble needs --task", "e.g. --task classify")
        return EnsembleSettings(task, preprocess, labels)

    groups = [
        option_group(
            "with_ensemble",
            [click.Option(["--ensemble"], is_flag=True,
                          help="Add preprocessing/postprocessing models and an ensemble chaining them.")],
            lambda v: v["ensemble"],
        ),
        task_options(required=False),
        option_group("labels", [labels_option()], lambda v: v["labels"]),
        preprocess_options(),
    ]  # fmt: skip

    def decorator(f: Any) -> Any:
        f = combine("ensemble", ["with_ensemble", "task", "labels", "preprocess"], make)(f)
        for group in reversed(groups):
            f = group(f)
        return f

    return decorator


@click.command("triton")
@click.argument("model")
@click.option("-o", "--output", "repo", type=click.Path(file_okay=False), metavar="REPO", help="Model repository.")
@serve_options()
@ensemble_options()
@click.option("--check", "check_only", is_flag=True, help="Only check MODEL, an existing repository, and exit.")
@force_option
def command(
    model: str, repo: str | None, serve: ServeSettings, ensemble: EnsembleSettings | None, check_only: bool,
    force: bool,
) -> None:  # fmt: skip
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

    from pt2trt.serve import check_repository, write_repository

    if check_only:
        start = time.perf_counter()
        count = check_repository(model, release=serve.triton_release, server_tensorrt=serve.tensorrt_version)
        click.echo(
            f"checked {count} model(s) in {model}: schema and model cross-checks passed "
            f"({time.perf_counter() - start:.1f} s)"
        )
        return
    if repo is None:
        raise UsageError("missing -o/--output REPO", "e.g. pt2trt triton model.onnx -o model_repository")
    result = write_repository(model, repo, serve, ensemble=ensemble, force=force)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    batch = f"max_batch_size {result.max_batch_size}" if result.max_batch_size else "no batching"
    click.echo(
        f"wrote {', '.join(result.models)} into {result.repo} ({result.io.kind}, {batch}; configs checked against "
        f"Triton's schema and the model) in {result.seconds:.1f} s; clients call '{result.entry}'"
    )
