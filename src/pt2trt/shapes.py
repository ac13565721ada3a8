"""Input specifications in trtexec's spelling: ``NAME:1x3x224x224[:DTYPE]``.

An :class:`InputSpec` names one model input, its example shape, its dtype and which axes are dynamic. Specs are
plain data: they are parsed from the command line, stored in the ONNX metadata at export time and read back by
``verify`` so that later steps default to the shapes the model was exported with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pt2trt.errors import UsageError

# Canonical dtype names (numpy spelling) and the aliases people type.
DTYPES: dict[str, str] = {
    "float32": "float32", "fp32": "float32", "float": "float32", "f32": "float32",
    "float16": "float16", "fp16": "float16", "half": "float16", "f16": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float64": "float64", "fp64": "float64", "double": "float64",
    "int64": "int64", "long": "int64", "i64": "int64",
    "int32": "int32", "int": "int32", "i32": "int32",
    "int16": "int16", "int8": "int8", "uint8": "uint8", "u8": "uint8",
    "bool": "bool",
}  # fmt: skip

_SHAPE_RE = re.compile(r"^\d+(x\d+)*$")
_AXIS_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class InputSpec:
    """One model input: name, example shape, dtype and dynamic axes (axis -> symbolic name)."""

    name: str | None
    shape: tuple[int, ...]
    dtype: str = "float32"
    # Not part of the hash (a dict is unhashable); equality still compares it.
    dynamic: Mapping[int, str] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        dims = "x".join(str(d) for d in self.shape) or "scalar"  # parse_input(str(spec)) gives the spec back
        text = f"{self.name}:{dims}" if self.name else dims
        return text if self.dtype == "float32" else f"{text}:{self.dtype}"

    @property
    def display_shape(self) -> str:
        """Shape with dynamic axes shown by name: ``batchx3x224x224``."""
        return "x".join(self.dynamic.get(i, str(d)) for i, d in enumerate(self.shape)) or "scalar"

    def with_name(self, name: str) -> InputSpec:
        return replace(self, name=name)

    def with_dynamic(self, axis: int, label: str | None = None) -> InputSpec:
        if not -len(self.shape) <= axis < len(self.shape):
            raise UsageError(
                f"input '{self.name}' has {len(self.shape)} dims, so axis {axis} cannot be dynamic",
                f"Use an axis between 0 and {len(self.shape) - 1}",
            )
        axis %= len(self.shape)
        default = "batch" if axis == 0 else f"{self.name}_dim{axis}"
        return replace(self, dynamic={**self.dynamic, axis: label or default})

    def with_dim(self, axis: int, size: int) -> InputSpec:
        shape = list(self.shape)
        shape[axis] = size
        return replace(self, shape=tuple(shape))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "dynamic": {str(k): v for k, v in sorted(self.dynamic.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputSpec:
        return cls(
            name=data.get("name"),
            shape=tuple(int(d) for d in data["shape"]),
            dtype=normalize_dtype(data.get("dtype", "float32")),
            dynamic={int(k): str(v) for k, v in (data.get("dynamic") or {}).items()},
        )


def normalize_dtype(text: str) -> str:
    """Canonical numpy-style name for a dtype alias, or a usage error listing the choices."""
    key = text.strip().lower().removeprefix("torch.")
    if key not in DTYPES:
        choices = ", ".join(sorted(set(DTYPES.values())))
        raise UsageError(f"unknown dtype '{text}'", f"Use one of: {choices}")
    return DTYPES[key]


def parse_shape(text: str) -> tuple[int, ...]:
    """``1x3x224x224`` -> ``(1, 3, 224, 224)``; also accepts ``1,3,224,224``. A scalar is ``scalar``."""
    t = text.strip().lower().replace(",", "x").replace("*", "x")
    if t in ("scalar", "()"):
        return ()
    if not _SHAPE_RE.match(t):
        raise UsageError(
            f"malformed shape '{text}'",
            "Write dimensions separated by 'x', e.g. input:1x3x224x224",
        )
    return tuple(int(d) for d in t.split("x"))


def _is_shape(text: str) -> bool:
    try:
        parse_shape(text)
    except UsageError:
        return False
    return True


def parse_input(text: str) -> InputSpec:
    """Parse ``[NAME:]SHAPE[:DTYPE]`` (trtexec spelling), e.g. ``mask:1x1x28x28:float16``."""
    parts = text.strip().split(":")
    if not text.strip() or any(p == "" for p in parts):
        raise UsageError(f"malformed input spec '{text}'", "Write it as NAME:SHAPE[:DTYPE], e.g. input:1x3x224x224")
    dtype = "float32"
    if len(parts) >= 2 and parts[-1].lower().removeprefix("torch.") in DTYPES:
        dtype = normalize_dtype(parts.pop())
    elif len(parts) >= 2 and not _is_shape(parts[-1]) and _is_shape(parts[-2]):
        # SHAPE:WORD where WORD is no shape: a misspelt dtype (x:1x3:float17), not a malformed shape
        choices = ", ".join(sorted(set(DTYPES.values())))
        raise UsageError(f"input spec '{text}' has unknown dtype '{parts[-1]}'", f"Use one of: {choices}")
    shape_text = parts.pop()
    name = ":".join(parts) or None
    try:
        shape = parse_shape(shape_text)
    except UsageError as exc:
        raise UsageError(
            f"malformed input spec '{text}': '{shape_text}' is not a shape",
            "Write it as NAME:SHAPE[:DTYPE] with SHAPE like 1x3x224x224",
        ) from exc
    if 0 in shape:
        fixed = "x".join(str(d or 1) for d in shape)
        example = f"{name}:{fixed}" if name else fixed
        raise UsageError(
            f"input spec '{text}' has a zero-sized dimension",
            f"Give every dimension a size of 1 or more, e.g. {example}; an axis that varies is declared with --dynamic "
            "(export) or --min-shapes/--max-shapes (build), not with 0",
        )
    return InputSpec(name=name, shape=shape, dtype=dtype)


def parse_dynamic(text: str) -> tuple[str, list[tuple[int, str | None]]]:
    """Parse ``NAME:AXIS[=LABEL],...``: ``input:0=batch,2`` -> ``('input', [(0, 'batch'), (2, None)])``."""
    name, sep, axes_text = text.rpartition(":")
    if not sep or not name or not axes_text:
        raise UsageError(f"malformed --dynamic '{text}'", "Expected NAME:AXIS[,AXIS...], e.g. input:0,2,3")
    axes: list[tuple[int, str | None]] = []
    for item in axes_text.split(","):
        axis_text, eq, label = item.partition("=")
        if eq and not label.strip():
            raise UsageError(
                f"malformed --dynamic '{text}': '{item}' has an empty dimension name after '='",
                "Write it as INPUT:AXIS=NAME, e.g. --dynamic input:0=batch",
            )
        try:
            axis = int(axis_text)
        except ValueError:
            raise UsageError(
                f"malformed --dynamic '{text}': '{axis_text}' is not an axis number",
                "Write it as INPUT:AXIS=NAME, e.g. --dynamic input:0=batch",
            ) from None
        if label and not _AXIS_NAME_RE.match(label):
            raise UsageError(
                f"malformed --dynamic '{text}': '{label}' is not a valid dimension name",
                "Use a name of letters, digits and _, e.g. --dynamic input:0=batch",
            )
        axes.append((axis, label or None))
    return name, axes


def apply_dynamic(
    specs: Sequence[InputSpec], *, dynamic_batch: bool = False, dynamic: Iterable[str] = ()
) -> list[InputSpec]:
    """Mark axes dynamic: dim 0 of every input with ``dynamic_batch``; finer control with ``NAME:AXIS,...``."""
    out = [s.with_dynamic(0, "batch") if dynamic_batch and s.shape else s for s in specs]
    for text in dynamic:
        name, axes = parse_dynamic(text)
        idx = next((i for i, s in enumerate(out) if s.name == name), None)
        if idx is None:
            known = ", ".join(str(s.name) for s in out)
            raise UsageError(
                f"--dynamic names input '{name}', which is not an input",
                f"Name one of the inputs ({known}), e.g. --dynamic {out[0].name if out else 'input'}:0",
            )
        for axis, label in axes:
            out[idx] = out[idx].with_dynamic(axis, label)
    return out


def with_batch(specs: Sequence[InputSpec], batch: int) -> list[InputSpec]:
    """Set dim 0 of every input whose batch axis is dynamic to ``batch``."""
    if batch < 1:
        raise UsageError(f"batch size must be at least 1, got {batch}", "Pass a batch size of 1 or more")
    return [s.with_dim(0, batch) if 0 in s.dynamic else s for s in specs]


def specs_to_json(specs: Sequence[InputSpec]) -> str:
    return json.dumps([s.to_dict() for s in specs], separators=(",", ":"))


def specs_from_json(text: str, source: str = "pt2trt.inputs metadata") -> list[InputSpec]:
    """Input specs from their JSON record (a list of ``{"name", "shape", "dtype", "dynamic"}``); a malformed record is
    a user error naming ``source``."""
    try:
        data = json.loads(text)
        if not isinstance(data, list) or not all(isinstance(d, Mapping) for d in data):
            raise TypeError("not a list of objects")
        specs = [InputSpec.from_dict(d) for d in data]
    except UsageError as exc:
        raise UsageError(f"malformed {source}: {exc.message}", exc.hint) from exc
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise UsageError(
            f"malformed {source}: {str(exc)[:120] or type(exc).__name__}",
            "Re-export the model, or remove the record (pt2trt edit --set-metadata KEY=) and pass --input",
        ) from exc
    for spec in specs:
        if any(d < 0 for d in spec.shape) or not isinstance(spec.name, str):
            raise UsageError(f"malformed {source}: input {spec.name!r} has shape {spec.shape}", "Re-export the model")
    return specs
