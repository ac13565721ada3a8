"""Options shared by ``predict`` and ``compare``: the task, its decoding settings and the preprocessing flags.

The task, layout and backend choices are read from the registries (``pt2trt.tasks``, ``pt2trt.backends``) when
needed: see :mod:`pt2trt.cli.choices`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from pt2trt.cli.choices import layout_choice, task_choice
from pt2trt.errors import UsageError

RESIZE_NAMES = ("stretch", "letterbox", "crop", "none")

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _apply(f: Callable[..., Any], options: list[Decorator]) -> Callable[..., Any]:
    for option in reversed(options):
        f = option(f)
    return f


def task_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--task, --layout, --output-name, --conf, --iou, --max-det, --top-k, --mask-threshold."""
    return _apply(
        f,
        [
            click.option("--task", type=task_choice(), required=True, help="What the model does."),
            click.option(
                "--layout",
                type=layout_choice(),
                default="auto",
                show_default=True,
                help="Output layout [default: chosen from the output names and shapes].",
            ),
            click.option(
                "--output-name",
                metavar="NAME",
                help="The model output to decode, when several could be [default: the only one that fits].",
            ),
            click.option(
                "--conf",
                type=float,
                default=0.25,
                show_default=True,
                help="detect/segment: min score.",
            ),
            click.option("--iou", type=float, default=0.45, show_default=True, help="detect/segment: NMS IoU."),
            click.option(
                "--max-det",
                type=click.IntRange(min=1),
                default=300,
                show_default=True,
                help="detect/segment: max boxes.",
            ),
            click.option(
                "--top-k", type=click.IntRange(min=1), default=5, show_default=True, help="classify: classes to report."
            ),
            click.option(
                "--mask-threshold",
                type=click.FloatRange(0, 1, min_open=True, max_open=True),
                default=0.5,
                show_default=True,
                help="segment: a one-channel or instance mask's foreground probability.",
            ),
        ],
    )


def preprocess_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--preprocess and the flags that override single settings."""
    return _apply(
        f,
        [
            click.option(
                "--preprocess",
                metavar="PRESET|FILE.yaml",
                help="imagenet-classification, imagenet-segmentation, yolo-letterbox-640, torchvision-detection, or "
                "a YAML file [default: recorded in the model, else the task's preset].",
            ),
            click.option("--resize", type=click.Choice(RESIZE_NAMES), help="Override the resize mode."),
            click.option("--size", metavar="HxW", help="Override the input size (e.g. 480x640, or 224)."),
            click.option("--mean", metavar="R,G,B", help="Override the mean (after --scale), e.g. 0.485,0.456,0.406."),
            click.option("--std", metavar="R,G,B", help="Override the std (after --scale)."),
            click.option("--scale", metavar="FACTOR", help="Override the pixel scale, e.g. 1/255 or 1."),
            click.option("--pad-value", type=int, help="Override the letterbox padding value (0-255)."),
            click.option("--bgr", is_flag=True, default=None, help="Feed BGR instead of RGB."),
            click.option(
                "--channels",
                type=click.Choice(["RGB", "BGR", "L", "RGBA"], case_sensitive=False),
                help="Picture channels to feed [default: RGB, or L for a 1-channel model].",
            ),
            click.option("--nhwc", is_flag=True, default=None, help="Feed NHWC instead of NCHW."),
        ],
    )


def triton_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--url and --model: where ``--backend triton`` sends requests."""
    return _apply(
        f,
        [
            click.option(
                "--url",
                metavar="URL",
                help="--backend triton: the server, http://HOST:8000 or grpc://HOST:8001 [default: http://127.0.0.1:8000].",
            ),
            click.option(
                "--model",
                "served_model",
                metavar="NAME",
                help="--backend triton: the model's name on the server [default: MODEL, or its file name's stem].",
            ),
        ],
    )


ignore_metadata_option = click.option(
    "--ignore-metadata",
    is_flag=True,
    help="TensorRT engine: load it even when its .json metadata is missing, malformed or names another engine.",
)


def triton_runner_options(url: str | None, served_model: str | None, ignore_metadata: bool = False) -> dict[str, Any]:
    """The runners' backend-specific options: Triton's from --url/--model, TensorRT's from --ignore-metadata."""
    out: dict[str, Any] = {"check_metadata": False} if ignore_metadata else {}
    if url:
        out["url"] = url
    if served_model:
        out["model_name"] = served_model
    return out


def preprocess_overrides(
    *,
    resize: str | None,
    size: str | None,
    mean: str | None,
    std: str | None,
    scale: str | None,
    pad_value: int | None,
    bgr: bool | None,
    nhwc: bool | None,
    channels: str | None = None,
) -> dict[str, Any]:
    """The preprocessing settings the flags override (only those given)."""
    from pt2trt.imaging.preprocess import parse_number, parse_size

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
