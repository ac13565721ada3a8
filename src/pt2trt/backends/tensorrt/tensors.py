"""The engine's I/O tensors as the runner sees them: name, direction, dtype, engine shape, profile range, and the
check that a fed shape fits them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pt2trt.errors import Pt2trtError

#: TensorRT DataType member name -> numpy/torch dtype name
TRT_DTYPES = {
    "FLOAT": "float32", "HALF": "float16", "BF16": "bfloat16", "INT8": "int8", "INT32": "int32",
    "INT64": "int64", "BOOL": "bool", "UINT8": "uint8",
}  # fmt: skip


@dataclass(frozen=True)
class EngineTensor:
    """One engine I/O tensor: its engine shape has -1 for dynamic dims; inputs carry the profile's range."""

    name: str
    is_input: bool
    dtype: str
    shape: tuple[int, ...]
    profile: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None


def dtype_name(trt_dtype: Any) -> str:
    """A TensorRT DataType as a numpy/torch dtype name; FP8/INT4/FP4 I/O is not supported by this runner."""
    name = getattr(trt_dtype, "name", str(trt_dtype).rpartition(".")[2])
    if name not in TRT_DTYPES:
        raise Pt2trtError(
            f"engine I/O of TensorRT type {name} is not supported by the pt2trt runner",
            "Rebuild the engine with FP32/FP16/INT8/INT32/BOOL I/O, or run the ONNX with --backend onnxruntime",
        )
    return TRT_DTYPES[name]


def _dims(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape)) or "scalar"


def check_shape(tensor: EngineTensor, shape: Sequence[int], profile_index: int = 0) -> None:
    """Raise a user error unless ``shape`` fits the input's engine shape and optimization profile."""
    shape = tuple(int(d) for d in shape)
    if len(shape) != len(tensor.shape):
        raise Pt2trtError(
            f"input '{tensor.name}' has shape {_dims(shape)} but the engine takes rank {len(tensor.shape)} "
            f"({_dims(tensor.shape)})",
            "Pass an input of the engine's rank (see `pt2trt inspect ENGINE`)",
        )
    fixed = [(i, d) for i, d in enumerate(tensor.shape) if d >= 0 and shape[i] != d]
    if fixed:
        axis, size = fixed[0]
        raise Pt2trtError(
            f"input '{tensor.name}' has shape {_dims(shape)} but the engine fixes dim {axis} at {size} "
            f"({_dims(tensor.shape)})",
            "Pass that size, or rebuild the engine with a dynamic dim (--min-shapes/--opt-shapes/--max-shapes)",
        )
    if tensor.profile is not None:
        low, _, high = tensor.profile
        if not all(a <= s <= b for a, s, b in zip(low, shape, high)):
            raise Pt2trtError(
                f"input '{tensor.name}' shape {_dims(shape)} is outside the engine's optimization profile "
                f"{profile_index} (min {_dims(low)}, max {_dims(high)})",
                "Feed shapes within the profile, or rebuild the engine with a wider --min-shapes/--max-shapes",
            )
