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
    """Who chose the size for a dynamic input (``--size``, a preprocessing given or recorded, or nobody), and what
    the graph seems to need: multiples of ``multiple`` (height, width; 1: any size), an estimate that is only said
    (see :mod:`pt2trt.onnx.strides`), never applied."""

    source: str | None = None
    multiple: tuple[int, int] = (1, 1)
    exact: bool = True


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
        notes.append(f"input '{name}' {_shape_text(shape)} is fed {layout} pictures (read from its shape)")
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
    fixed = tuple(int(d) if isinstance(d, int) and d > 0 else None for d in hw)
    static_size = (int(hw[0]), int(hw[1])) if None not in fixed else None
    if static_size is not None:
        changes["size"] = static_size
    elif preprocess.size is None:
        raise UsageError(f"{model_name} has a dynamic input size", f"Pass --size {_size_hint(fixed)}")
    else:
        fitted, size_notes = _fit_dynamic_size(model_name, tuple(preprocess.size), fixed, preprocess.preset, size)
        if fitted != tuple(preprocess.size):
            changes["size"] = fitted
        notes += size_notes
    new_size: tuple[int, int] | None = changes.pop("size", None)
    settled = replace(preprocess, **changes) if changes else preprocess
    if new_size is not None:
        settled = settled.with_size(*new_size)  # checks that it is a picture size
    static_batch = _static_batch(model_name, name, shape, settled, batch)
    return ImageInput(name, input_dtype, settled, static_size, static_batch, tuple(notes))


def _layout(shape: tuple[Any, ...], layout: str) -> str:
    """[N, H, W, C] where NCHW was expected (or the reverse): the input's shape says which layout it takes.

    The expected channel axis holding a size that is not a channel count, or no number at all (``N x H x W x 3``
    with a dynamic height), while the other end holds 1, 3 or 4 channels: the other layout.
    """
    channels = shape[1] if layout == "NCHW" else shape[3]
    other = shape[3] if layout == "NCHW" else shape[1]
    not_channels = not isinstance(channels, int) or channels <= 0 or channels not in (1, 3, 4)
    if not_channels and isinstance(other, int) and other in (1, 3, 4):
        return "NHWC" if layout == "NCHW" else "NCHW"
    return layout


def _fit_dynamic_size(
    model_name: str,
    size: tuple[int, ...],
    fixed: tuple[int | None, ...],
    preset: str | None,
    choice: SizeChoice,
) -> tuple[tuple[int, int], list[str]]:
    """A dynamic height and/or width: the size asked, with the dims the model fixes; said in notes.

    The graph's stride estimate never changes the size: it adds a note when the size is not a multiple of it.
    """
    asked = (int(size[0]), int(size[1]))
    fitted = (fixed[0] or asked[0], fixed[1] or asked[1])
    notes = []
    if fitted != asked:
        axes = " and ".join(f"{axis} at {value}" for axis, value in zip(("height", "width"), fixed) if value)
        if choice.source == "--size":
            raise UsageError(
                f"--size {asked[0]}x{asked[1]} does not fit {model_name}: its input fixes the {axes}",
                f"Pass --size {fitted[0]}x{fitted[1]}",
            )
        notes.append(f"the model fixes its input's {axes}: running at {fitted[0]}x{fitted[1]}")
    elif choice.source is None:
        notes.append(
            f"the model's input size is dynamic: running at {fitted[0]}x{fitted[1]} ({preset or 'default'} "
            "preset); choose another with --size HxW"
        )
    multiple = choice.multiple
    if fitted[0] % multiple[0] or fitted[1] % multiple[1]:
        rounded = (-(-fitted[0] // multiple[0]) * multiple[0], -(-fitted[1] // multiple[1]) * multiple[1])
        bound = "" if choice.exact else " (an upper bound)"
        notes.append(
            f"the graph merges maps downsampled by up to {multiple[0]}x{multiple[1]}{bound}, by an estimate from "
            f"its strides; if {fitted[0]}x{fitted[1]} fails, try --size {rounded[0]}x{rounded[1]}"
        )
    return fitted, notes


def _shape_text(shape: tuple[Any, ...]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) and d > 0 else "?" for d in shape) + "]"


def _size_hint(fixed: tuple[int | None, ...]) -> str:
    """``HxW`` with the dims the model fixes filled in (``48xW``)."""
    return f"{fixed[0] or 'H'}x{fixed[1] or 'W'}"


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
