"""``pt2trt build`` as an API: plan, write the reduced precision a TensorRT 11 plan needs, then build.

TensorRT 11 builds strongly typed networks: FP16 must be Cast nodes in the ONNX and INT8 must be Q/DQ nodes. The
TensorRT wing cannot write them (``pt2trt.precision`` sits above it), so this step runs in order: the plan
(:func:`~pt2trt.backends.tensorrt.plan.make_plan`), then :func:`quantize` into a temporary folder when the plan needs
it, then :func:`~pt2trt.backends.tensorrt.build.build_engine` on that ONNX.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError
from pt2trt.onnx.model import ModelLike
from pt2trt.precision.api import quantize

if TYPE_CHECKING:
    from pt2trt.backends.tensorrt.build import BuildResult
    from pt2trt.backends.tensorrt.plan import BuildPlan
    from pt2trt.settings import BuildSettings


def build(
    onnx_path: ModelLike,
    output: str | Path | None = None,
    settings: BuildSettings | None = None,
    *,
    force: bool = False,
    device: int = 0,
    progress: bool = True,
) -> BuildResult:
    """Plan and build an engine (the Python form of ``pt2trt build``). TensorRT is checked first, so that a machine
    without it gets the install advice rather than a planning error."""
    from pt2trt.backends.tensorrt.build import build_engine
    from pt2trt.backends.tensorrt.plan import make_plan
    from pt2trt.backends.tensorrt.versions import import_tensorrt

    import_tensorrt()
    plan = make_plan(onnx_path, output, settings, force=force)
    if not (plan.convert_to_fp16 or plan.int8_mode == "quantize"):
        return build_engine(plan, device=device, progress=progress)
    with tempfile.TemporaryDirectory(prefix="pt2trt-build-", dir=plan.output.parent) as tmp:
        return build_engine(plan, device=device, progress=progress, onnx_file=for_build(plan, Path(tmp)))


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
