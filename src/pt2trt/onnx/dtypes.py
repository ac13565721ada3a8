"""ONNX element types in the numpy spelling the rest of pt2trt uses (``float32``, ``int64``, ``bfloat16``)."""

from __future__ import annotations


def dtype_name(elem_type: int) -> str:
    """``TensorProto.FLOAT`` -> ``"float32"``; types numpy lacks keep ONNX's lower-case name (``float8e4m3fn``)."""
    from onnx import TensorProto, helper

    if elem_type == TensorProto.UNDEFINED:
        return "?"
    if elem_type == TensorProto.BFLOAT16:
        return "bfloat16"
    try:
        name = str(helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        name = ""
    if name in ("", "object") or not name.isidentifier():
        try:
            return helper.tensor_dtype_to_string(elem_type).removeprefix("TensorProto.").lower()
        except (KeyError, TypeError, ValueError):
            return f"unknown({elem_type})"  # a type this onnx does not know: newer than it, or a corrupt file
    return name


def itemsize(elem_type: int) -> int:
    """Bytes per element (packed 4-bit and other exotic types count as one byte)."""
    from onnx import helper

    try:
        return max(1, helper.tensor_dtype_to_np_dtype(elem_type).itemsize)
    except (KeyError, TypeError, ValueError):
        return 1
