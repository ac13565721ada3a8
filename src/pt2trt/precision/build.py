"""The precision step of a TensorRT 11 build: the ONNX TensorRT parses, written by :func:`quantize`.

TensorRT 11 builds strongly typed networks: FP16 must be Cast nodes in the ONNX and INT8 must be Q/DQ nodes.
``pt2trt build`` passes :func:`for_build` to :func:`pt2trt.backends.tensorrt.build.build` (which cannot import
this layer).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError
from pt2trt.precision.api import quantize

if TYPE_CHECKING:
    from pt2trt.backends.tensorrt.plan import BuildPlan


def for_build(plan: BuildPlan, folder: Path) -> Path:
    """Write the plan's ONNX in reduced precision into ``folder`` (mixed FP16, or Q/DQ INT8); refuse NaN/Inf."""
    if plan.int8_mode == "quantize":
        precision, name = "int8", "model_int8_qdq.onnx"
    else:
        precision, name = "fp16", "model_fp16.onnx"
    result = quantize(
        plan.onnx,
        folder / name,
        precision,
        calib=plan.calibration_data,
        fp16_io=precision == "fp16" and not plan.keep_io_types,
        force=True,
    )
    if result.accuracy.new_nonfinite:
        raise Pt2trtError(
            f"the {precision} conversion of {plan.onnx} produces NaN/Inf where FP32 does not",
            "Run pt2trt quantize on it with --calib DATA and --keep-fp32 NODE|MODULE to see and fix which layers",
        )
    return result.output
