"""Optimization profiles: the ONNX inputs and the min/opt/max shapes a build gives each of them.

Shape flags use trtexec's spelling (``--shapes``, ``--min-shapes``/``--opt-shapes``/``--max-shapes``,
``NAME:DIMS[,NAME:DIMS...]``); every dynamic input needs a range in every profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError
from pt2trt.onnx import metadata as meta
from pt2trt.onnx.graph import input_dims, real_inputs
from pt2trt.shapes import parse_input

if TYPE_CHECKING:
    import onnx

Shape = tuple[int, ...]


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


@dataclass(frozen=True)
class Profile:
    """One optimization profile: input name -> (min, opt, max) shapes."""

    shapes: dict[str, tuple[Shape, Shape, Shape]]

    def to_dict(self) -> dict[str, dict[str, list[int]]]:
        return {n: {"min": list(a), "opt": list(b), "max": list(c)} for n, (a, b, c) in self.shapes.items()}

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, list[int]]]) -> Profile:
        return cls({n: (tuple(v["min"]), tuple(v["opt"]), tuple(v["max"])) for n, v in data.items()})

    def text(self) -> str:
        parts = []
        for name, (low, opt, high) in self.shapes.items():
            if low == opt == high:
                parts.append(f"{name} {shape_text(opt)}")
            else:
                parts.append(f"{name} min {shape_text(low)} opt {shape_text(opt)} max {shape_text(high)}")
        return "; ".join(parts)


def shape_text(shape: Sequence[int]) -> str:
    """``(1, 3, 224, 224)`` -> ``1x3x224x224`` (``scalar`` for rank 0)."""
    return "x".join(map(str, shape)) or "scalar"


def onnx_inputs(model: onnx.ModelProto) -> list[InputInfo]:
    """The graph's real inputs (initializers excluded) with their dims."""
    from onnx import helper

    inputs = []
    for value in real_inputs(model):
        elem_type = value.type.tensor_type.elem_type
        dtype = helper.tensor_dtype_to_np_dtype(elem_type).name if elem_type else "float32"
        inputs.append(InputInfo(value.name, dtype, tuple(input_dims(value))))
    return inputs


def _parse_shape_list(flag: str, text: str, inputs: dict[str, InputInfo]) -> dict[str, Shape]:
    """``input:1x3x224x224,mask:1x1x224x224`` -> {name: shape}, checked against the ONNX inputs."""
    result: dict[str, Shape] = {}
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise UsageError(f"malformed {flag} '{text}': an empty entry", "Separate NAME:DIMS entries with single commas")
    for item in items:
        if ":" not in item:
            raise UsageError(f"malformed {flag} entry '{item}'", f"Write NAME:DIMS, e.g. {flag} input:1x3x224x224")
        try:
            spec = parse_input(item)
        except UsageError as exc:
            raise UsageError(f"malformed {flag} entry '{item}': {exc.message}", exc.hint) from None
        name = str(spec.name)
        if name not in inputs:
            raise UsageError(
                f"{flag} names '{name}', which is not an input of the model", f"Inputs are: {', '.join(inputs)}"
            )
        if name in result:
            raise UsageError(f"{flag} gives input '{name}' twice in one profile", "Give each input once per profile")
        result[name] = spec.shape
    return result


def resolve_profiles(
    inputs: Sequence[InputInfo],
    shapes: Sequence[str],
    min_shapes: Sequence[str],
    opt_shapes: Sequence[str],
    max_shapes: Sequence[str],
    metadata: dict[str, str] | None = None,
) -> list[Profile]:
    """Optimization profiles from trtexec-style flags; every dynamic input needs a range in every profile."""
    by_name = {i.name: i for i in inputs}
    if shapes and (min_shapes or opt_shapes or max_shapes):
        raise UsageError(
            "--shapes cannot be combined with --min-shapes/--opt-shapes/--max-shapes",
            "Use --shapes for fixed-shape profiles, or the min/opt/max flags for ranges",
        )
    if len(min_shapes) != len(max_shapes) or len(opt_shapes) > len(max_shapes):
        raise UsageError(
            f"{len(min_shapes)} --min-shapes, {len(opt_shapes)} --opt-shapes and {len(max_shapes)} --max-shapes given",
            "Give one --min-shapes and one --max-shapes per profile (--opt-shapes defaults to the max shapes)",
        )
    raw: list[dict[str, tuple[Shape, Shape, Shape]]] = []
    for text in shapes:
        fixed = _parse_shape_list("--shapes", text, by_name)
        raw.append({n: (s, s, s) for n, s in fixed.items()})
    for k, (low_text, high_text) in enumerate(zip(min_shapes, max_shapes)):
        low = _parse_shape_list("--min-shapes", low_text, by_name)
        high = _parse_shape_list("--max-shapes", high_text, by_name)
        opt = _parse_shape_list("--opt-shapes", opt_shapes[k], by_name) if k < len(opt_shapes) else dict(high)
        if not set(low) == set(opt) == set(high):
            raise UsageError(
                f"profile {k} names different inputs in --min-shapes ({', '.join(low)}), --opt-shapes "
                f"({', '.join(opt)}) and --max-shapes ({', '.join(high)})",
                "Give every input of a profile in all three flags",
            )
        raw.append({n: (low[n], opt[n], high[n]) for n in high})
    profiles = [_complete_profile(k, p, inputs, metadata or {}) for k, p in enumerate(raw)]
    if not profiles:
        dynamic = [i for i in inputs if i.dynamic_axes]
        if dynamic:
            raise _missing_range(dynamic[0], metadata or {})
    return profiles


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
