"""How a model takes its pictures: which input, in which layout, channels, dtype and size, at which batch.

:func:`fit_image_input` reads a model's inputs (name, dtype, shape, from whatever runs it) and the preprocessing
chosen for it, and settles everything once: a model's static size and batch win over the preprocessing, an input
laid out NHWC (or with one channel, or uint8) changes the preprocessing, and every such decision is written into
``notes`` so the CLI can say it aloud.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import Preprocess

#: (name, dtype, shape) of one model input; dynamic dims are strings or None
InputDescription = tuple[str, str, Sequence[Any]]


@dataclass(frozen=True)
class ImageInput:
    """The settled input: its name and dtype, the preprocessing that feeds it, the static size and batch when the
    model fixes them, and what was decided for the user."""

    name: str
    dtype: str
    preprocess: Preprocess
    static_size: tuple[int, int] | None = None
    static_batch: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SizeChoice:
    """Who chose the size for a dynamic input (``--size``, a preprocessing given or recorded, or nobody) and the
    stride the graph's height and width must be multiples of (1: unknown)."""

    source: str | None = None
    stride: int = 1


def fit_image_input(
    model_name: str, inputs: Sequence[InputDescription], preprocess: Preprocess, batch: int, size: SizeChoice
) -> ImageInput:
    """Check the model has one image input and settle how to feed it (see the module docstring)."""
    if len(inputs) != 1:
        names = ", ".join(name for name, _, _ in inputs)
        raise Pt2trtError(
            f"{model_name} has {len(inputs)} inputs ({names}); predict needs one image input",
            "Use a model with a single image input, or feed it with `pt2trt verify --input`",
        )
    name, dtype, dims = inputs[0]
    shape = tuple(dims)
    if len(shape) != 4:
        raise Pt2trtError(
            f"{model_name}'s input '{name}' has rank {len(shape)}, not an image batch",
            "predict feeds [N, C, H, W] or [N, H, W, C] images; run other models with `pt2trt verify --input`",
        )
    changes: dict[str, Any] = {}
    notes: list[str] = []
    layout = _layout(shape, preprocess.layout)
    if layout != preprocess.layout:
        changes["layout"] = layout
    channels = shape[1] if layout == "NCHW" else shape[3]
    if isinstance(channels, int) and channels != len(preprocess.channels):
        if channels != 1:  # grayscale is unambiguous; an alpha channel (4) is only fed when asked for
            hint = "Pass --channels RGBA to feed RGBA pictures" if channels == 4 else "Feed it with the Python API"
            raise Pt2trtError(f"{model_name}'s input '{name}' {list(shape)} has {channels} channels in {layout}", hint)
        changes["channels"] = "L"
        notes.append("pictures converted to grayscale (L): the model takes 1 channel")
    input_dtype = dtype if dtype in ("float32", "float16", "uint8") else preprocess.dtype
    if input_dtype == "uint8" and preprocess.dtype != "uint8":
        changes["dtype"] = "uint8"  # a uint8 input normalises inside the model (`pt2trt edit --uint8-nhwc`): raw pixels
    hw = (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])
    static_size = (int(hw[0]), int(hw[1])) if all(isinstance(d, int) and d > 0 for d in hw) else None
    if static_size is not None:
        changes["size"] = static_size
    elif preprocess.size is None:
        raise UsageError(f"{model_name} has a dynamic input size", "Pass --size HxW")
    else:
        fitted, note = _fit_dynamic_size(model_name, tuple(preprocess.size), preprocess.preset, size)
        if fitted != tuple(preprocess.size):
            changes["size"] = fitted
        notes += [note] if note else []
    size = changes.pop("size", None)
    settled = replace(preprocess, **changes) if changes else preprocess
    if size is not None:
        settled = settled.with_size(*size)  # checks that it is a picture size
    static_batch = _static_batch(model_name, name, shape, settled, batch)
    return ImageInput(name, input_dtype, settled, static_size, static_batch, tuple(notes))


def _layout(shape: tuple[Any, ...], layout: str) -> str:
    """[N, H, W, C] where NCHW was expected (or the reverse): the input's shape says which layout it takes."""
    channels = shape[1] if layout == "NCHW" else shape[3]
    other = shape[3] if layout == "NCHW" else shape[1]
    if isinstance(channels, int) and channels not in (1, 3, 4) and other in (1, 3, 4):
        return "NHWC" if layout == "NCHW" else "NCHW"
    return layout


def _fit_dynamic_size(
    model_name: str, size: tuple[int, ...], preset: str | None, choice: SizeChoice
) -> tuple[tuple[int, int], str | None]:
    """A dynamic height/width: round the chosen size up to the graph's stride, and say which size runs."""
    h, w = int(size[0]), int(size[1])
    fitted = fit_to_stride((h, w), choice.stride)
    if fitted != (h, w) and choice.source == "--size":
        raise UsageError(
            f"--size {h}x{w} does not fit {model_name}: its strides need multiples of {choice.stride}",
            f"Pass --size {fitted[0]}x{fitted[1]}",
        )
    if choice.source is not None:
        return fitted, None
    rounded = f", rounded up to the model's stride {choice.stride}" if fitted != (h, w) else ""
    note = (
        f"the model's input size is dynamic: running at {fitted[0]}x{fitted[1]} ({preset or 'default'} "
        f"preset{rounded}); choose another with --size HxW"
    )
    return fitted, note


def fit_to_stride(size: tuple[int, int], stride: int) -> tuple[int, int]:
    """``size`` (height, width) rounded up to multiples of ``stride``."""
    return (-(-size[0] // stride) * stride, -(-size[1] // stride) * stride)


def _static_batch(model_name: str, name: str, shape: tuple[Any, ...], preprocess: Preprocess, batch: int) -> int | None:
    if not (isinstance(shape[0], int) and shape[0] > 0):
        return None
    from pt2trt.feeds import check_input_size

    assert preprocess.size is not None
    check_input_size(name, (shape[0], 3, *preprocess.size), preprocess.dtype)
    if batch > shape[0]:
        raise UsageError(
            f"{model_name} has a static batch size of {shape[0]}, so --batch {batch} cannot run",
            "Export with --dynamic-batch, or lower --batch",
        )
    return int(shape[0])
