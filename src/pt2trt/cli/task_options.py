"""Option groups of ``predict``, ``compare`` and ``eval``: the task, the preprocessing, the runner and how pictures
are read, each reaching the command as one settings object (``pt2trt.settings``).

The task, layout and backend choices are read from the registries (``pt2trt.tasks``, ``pt2trt.backends``) when
needed: see :mod:`pt2trt.cli.choices`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from pt2trt.cli.choices import backend_choice, layout_choice, task_choice
from pt2trt.cli.options import Decorator, option_group
from pt2trt.errors import UsageError

RESIZE_NAMES = ("stretch", "letterbox", "crop", "none")


def task_options(required: bool = True) -> Decorator:
    """--task, --layout, --output-name, --conf, --iou, --max-det, --top-k, --mask-threshold -> ``task:
    TaskSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import TaskSettings

        return TaskSettings(**v)

    return option_group(
        "task",
        [
            click.Option(["--task"], type=task_choice(), required=required, help="What the model does."),
            click.Option(["--layout"], type=layout_choice(), default="auto", show_default=True,
                         help="Output layout [default: chosen from the output names and shapes]."),
            click.Option(["--output-name"], metavar="NAME",
                         help="The model output to decode, when several could be [default: the only one that fits]."),
            click.Option(["--conf"], type=float, default=0.25, show_default=True, help="detect/segment: min score."),
            click.Option(["--iou"], type=float, default=0.45, show_default=True, help="detect/segment: NMS IoU."),
            click.Option(["--max-det"], type=click.IntRange(min=1), default=300, show_default=True,
                         help="detect/segment: max boxes."),
            click.Option(["--top-k"], type=click.IntRange(min=1), default=5, show_default=True,
                         help="classify: classes to report."),
            click.Option(["--mask-threshold"], type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.5,
                         show_default=True, help="segment: a one-channel or instance mask's foreground probability."),
        ],
        make,
    )  # fmt: skip


def preprocess_options() -> Decorator:
    """--preprocess and the flags that override single settings -> ``preprocess: PreprocessSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import PreprocessSettings

        return PreprocessSettings(v["preprocess"], **preprocess_overrides(v))

    return option_group(
        "preprocess",
        [
            click.Option(
                ["--preprocess"], metavar="PRESET|FILE.yaml",
                help="imagenet-classification, imagenet-segmentation, yolo-letterbox-640, torchvision-detection, or "
                "a YAML file [default: recorded in the model, else the task's preset].",
            ),
            click.Option(["--resize"], type=click.Choice(RESIZE_NAMES), help="Override the resize mode."),
            click.Option(["--size"], metavar="HxW", help="Override the input size (e.g. 480x640, or 224)."),
            click.Option(["--mean"], metavar="R,G,B",
                         help="Override the mean (after --scale), e.g. 0.485,0.456,0.406."),
            click.Option(["--std"], metavar="R,G,B", help="Override the std (after --scale)."),
            click.Option(["--scale"], metavar="FACTOR", help="Override the pixel scale, e.g. 1/255 or 1."),
            click.Option(["--pad-value"], type=int, help="Override the letterbox padding value (0-255)."),
            click.Option(["--bgr"], is_flag=True, default=None, help="Feed BGR instead of RGB."),
            click.Option(["--channels"], type=click.Choice(["RGB", "BGR", "L", "RGBA"], case_sensitive=False),
                         help="Picture channels to feed [default: RGB, or L for a 1-channel model]."),
            click.Option(["--nhwc"], is_flag=True, default=None, help="Feed NHWC instead of NCHW."),
        ],
        make,
    )  # fmt: skip


def runner_options(*, backend: bool = True, threads: bool = True) -> Decorator:
    """--backend, --threads, --url, --model, --ignore-metadata -> ``runner: RunnerSettings`` (``backend=False``: the
    command names its backends itself; ``threads=False``: no --threads)."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import RunnerSettings

        return RunnerSettings(
            backend=v.get("backend", "auto"), threads=v.get("threads"), url=v["url"], model_name=v["served_model"],
            check_metadata=not v["ignore_metadata"],
        )  # fmt: skip

    params = [click.Option(["--backend"], type=backend_choice(), default="auto", show_default=True)] if backend else []
    if threads:
        params.append(
            click.Option(
                ["--threads"], type=int, help="ONNX Runtime intra-op threads [default: ONNX Runtime's choice]."
            )
        )
    params += [*_server_options(), _ignore_metadata()]
    return option_group("runner", params, make)


def read_options(workers_help: str = "Threads decoding images ahead of the model.") -> Decorator:
    """--batch, --workers, --fast-decode, --allow-large-images -> ``read: ReadSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import ReadSettings

        return ReadSettings(**v)

    return option_group(
        "read",
        [
            click.Option(["--batch"], type=click.IntRange(min=1), default=1, show_default=True,
                         help="Images per inference."),
            click.Option(["--workers"], type=click.IntRange(min=0), default=2, show_default=True, help=workers_help),
            click.Option(["--fast-decode"], is_flag=True,
                         help="Decode JPEGs at reduced size when the input is much smaller: faster, pixels differ "
                         "(docs/tasks.md)."),
            click.Option(["--allow-large-images"], is_flag=True,
                         help="Decode images over PIL's ~179-megapixel safety limit."),
        ],
        make,
    )  # fmt: skip


def ignore_metadata_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """--ignore-metadata as a flag of its own (verify)."""
    f.__dict__.setdefault("__click_params__", []).append(_ignore_metadata())
    return f


def _ignore_metadata() -> click.Option:
    return click.Option(
        ["--ignore-metadata"], is_flag=True,
        help="TensorRT engine: load it even when its .json metadata is missing, malformed or names another engine.",
    )  # fmt: skip


def triton_options() -> Decorator:
    """--url and --model (where ``--backend triton`` sends requests) -> ``triton: RunnerSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import RunnerSettings

        return RunnerSettings(url=v["url"], model_name=v["served_model"])

    return option_group("triton", _server_options(), make)


def _server_options() -> list[click.Option]:
    """--url and --model: the Triton server and the model's name on it."""
    return [
        click.Option(
            ["--url"], metavar="URL",
            help="--backend triton: the server, http://HOST:8000 or grpc://HOST:8001 "
            "[default: http://127.0.0.1:8000].",
        ),
        click.Option(
            ["--model", "served_model"], metavar="NAME",
            help="--backend triton: the model's name on the server [default: MODEL, or its file name's stem].",
        ),
    ]  # fmt: skip


def preprocess_overrides(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The preprocessing settings the flags (``resize``, ``size``, ``mean``, ``std``, ``scale``, ``pad_value``,
    ``bgr``, ``channels``, ``nhwc``) override, parsed (only those given)."""
    from pt2trt.imaging.preprocess import parse_number, parse_size

    resize, size, mean, std, scale = (flags[k] for k in ("resize", "size", "mean", "std", "scale"))
    pad_value, bgr, channels, nhwc = (flags[k] for k in ("pad_value", "bgr", "channels", "nhwc"))
    out: dict[str, Any] = {}
    if resize:
        out["resize"] = resize
    if size:
        out["size"] = parse_size(size)
    for name, text in (("mean", mean), ("std", std)):
        if text:
            out[name] = _triple(name, text)
    if scale:
        try:
            out["scale"] = parse_number(scale)
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"--scale '{scale}' is not a number", "e.g. --scale 1/255") from None
    if pad_value is not None:
        out["pad_value"] = pad_value
    if bgr:
        out["channels"] = "BGR"
    if channels:
        out["channels"] = channels.upper()
    if nhwc:
        out["layout"] = "NHWC"
    return out


def _triple(name: str, text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--{name} '{text}' is not three numbers", f"e.g. --{name} 0.5,0.5,0.5") from None
    if len(values) != 3:
        raise UsageError(
            f"--{name} needs three values (R,G,B), got {len(values)}",
            f"Give three comma-separated numbers, e.g. --{name} 0.485,0.456,0.406",
        )
    return values  # type: ignore[return-value]
