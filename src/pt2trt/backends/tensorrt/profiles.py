"""Optimization profiles checked against a model: the ONNX inputs and the min/opt/max shapes a build gives each.

Profiles arrive as :class:`~pt2trt.settings.Profile` objects (the CLI parses trtexec's ``--shapes``,
``--min-shapes``/``--opt-shapes``/``--max-shapes`` with :func:`pt2trt.settings.tensorrt.parse_profile_flags`);
every dynamic input needs a range in every profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError
from pt2trt.onnx import metadata as meta
from pt2trt.onnx.graph import input_dims, real_inputs
from pt2trt.settings.tensorrt import Profile, Shape, shape_text

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class InputInfo:
    """One ONNX graph input: name, dtype and dims (ints, or names/None for dynamic dims)."""

    name: str
    dtype: str
    dims: tuple[int | str | None, ...]

    @property
    def dynamic_axes(self) -> list[int]:
        return [i for i, d in enumerate(self.dims) if not isinstance(d, int)]

    @property
    def dims_text(self) -> str:
        return "x".join(str(d) if d is not None else "?" for d in self.dims) or "scalar"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.dims)}


def onnx_inputs(model: onnx.ModelProto) -> list[InputInfo]:
    """The graph's real inputs (initializers excluded) with their dims."""
    from onnx import helper

    inputs = []
    for value in real_inputs(model):
        elem_type = value.type.tensor_type.elem_type
        dtype = helper.tensor_dtype_to_np_dtype(elem_type).name if elem_type else "float32"
        inputs.append(InputInfo(value.name, dtype, tuple(input_dims(value))))
    return inputs


def resolve_profiles(
    inputs: Sequence[InputInfo], profiles: Sequence[Profile], metadata: dict[str, str] | None = None
) -> list[Profile]:
    """``profiles`` checked against the model's inputs and completed with its static ones; every dynamic input needs
    a range in every profile."""
    names = {i.name for i in inputs}
    for k, profile in enumerate(profiles):
        unknown = [n for n in profile.shapes if n not in names]
        if unknown:
            raise UsageError(
                f"profile {k} names '{unknown[0]}', which is not an input of the model",
                f"Inputs are: {', '.join(i.name for i in inputs)}",
            )
    complete = [_complete_profile(k, dict(p.shapes), inputs, metadata or {}) for k, p in enumerate(profiles)]
    if not complete:
        dynamic = [i for i in inputs if i.dynamic_axes]
        if dynamic:
            raise _missing_range(dynamic[0], metadata or {})
    return complete


def _complete_profile(
    k: int, given: dict[str, tuple[Shape, Shape, Shape]], inputs: Sequence[InputInfo], metadata: dict[str, str]
) -> Profile:
    """Check each given range against the model; add static inputs; reject dynamic inputs without a range."""
    complete: dict[str, tuple[Shape, Shape, Shape]] = {}
    for info in inputs:
        if info.name not in given:
            if info.dynamic_axes:
                raise _missing_range(info, metadata, profile=k)
            static = tuple(int(d) for d in info.dims)  # type: ignore[arg-type]
            complete[info.name] = (static, static, static)
            continue
        low, opt, high = given[info.name]
        for label, shape in (("min", low), ("opt", opt), ("max", high)):
            if len(shape) != len(info.dims):
                raise UsageError(
                    f"profile {k}: {label} shape {shape_text(shape)} of '{info.name}' has {len(shape)} dims, "
                    f"the model's input has {len(info.dims)} ({info.dims_text})",
                    "Give a shape of the input's rank (see `pt2trt inspect MODEL.onnx`)",
                )
            for axis, (size, dim) in enumerate(zip(shape, info.dims)):
                if isinstance(dim, int) and size != dim:
                    raise UsageError(
                        f"profile {k}: {label} shape {shape_text(shape)} of '{info.name}' sets dim {axis} to {size}, "
                        f"but the model fixes it at {dim} ({info.dims_text})",
                        "Only the model's dynamic dims can vary",
                    )
        if not all(a <= b <= c for a, b, c in zip(low, opt, high)):
            raise UsageError(
                f"profile {k}: '{info.name}' needs min <= opt <= max in every dim, got min {shape_text(low)}, "
                f"opt {shape_text(opt)}, max {shape_text(high)}",
                "Give shapes with min <= opt <= max in every dim",
            )
        complete[info.name] = (low, opt, high)
    return Profile(complete)


def _missing_range(info: InputInfo, metadata: dict[str, str], profile: int | None = None) -> UsageError:
    """The error for a dynamic input without a shape range, with example flags filled in from the model."""
    example = {}
    recorded = meta.recorded_inputs(metadata) or []
    for spec in recorded:
        if spec.name == info.name and len(spec.shape) == len(info.dims):
            example = dict(enumerate(spec.shape))
    sizes = []
    for axis, dim in enumerate(info.dims):
        if isinstance(dim, int):
            sizes.append((dim, dim, dim))
        elif axis == 0:
            sizes.append((1, 8, 32))
        else:
            size = example.get(axis) or 224
            sizes.append((size, size, size))
    low, opt, high = ("x".join(str(s[k]) for s in sizes) for k in range(3))
    where = f" in profile {profile}" if profile is not None else ""
    return UsageError(
        f"input '{info.name}' has dynamic shape {info.dims_text} and no shape range{where}",
        f"Give one, e.g. --min-shapes {info.name}:{low} --opt-shapes {info.name}:{opt} --max-shapes "
        f"{info.name}:{high} (or --shapes {info.name}:{opt} for one fixed shape)",
    )
