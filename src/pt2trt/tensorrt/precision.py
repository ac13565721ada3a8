"""The precision plan: how FP16 and INT8 are obtained on each TensorRT version.

TensorRT 8.6 and 10 build weakly typed networks: FP16/INT8 are builder flags, and INT8 without Q/DQ nodes needs
calibration data. TensorRT 11 builds strongly typed networks only: FP16 means converting the ONNX to FP16 before
parsing, and INT8 comes from QuantizeLinear/DequantizeLinear nodes (there is no calibration).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    import onnx

    from pt2trt.tensorrt.plan import BuildPlan
    from pt2trt.tensorrt.versions import Target

#: the calibration data files the INT8 calibrator reads (:mod:`pt2trt.tensorrt.calibration`)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
ARRAY_SUFFIXES = (".npy", ".npz")
QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
QDQ_HINT = (
    "Quantize the ONNX first, e.g. NVIDIA ModelOpt (python -m modelopt.onnx.quantization --onnx_path MODEL.onnx "
    "--quantize_mode int8 --calibration_data calib.npy) or onnxruntime.quantization.quantize_static(..., "
    "quant_format=QuantFormat.QDQ), then build the quantized ONNX"
)


def builder_flags(target: Target, *, fp16: bool, int8: bool) -> list[str]:
    """Precision builder flags (TensorRT 8.6/10 only)."""
    if target.strongly_typed_only:
        return []
    return [name for name, on in (("FP16", fp16), ("INT8", int8)) if on]


def converts_to_fp16(target: Target, *, fp16: bool) -> bool:
    """TensorRT 11: the ONNX is converted to FP16 before parsing (no FP16 builder flag exists)."""
    return fp16 and target.strongly_typed_only


def precision_name(*, fp16: bool, int8: bool) -> str:
    """``fp32``, ``fp16``, ``int8`` or ``fp16+int8``."""
    return "+".join(p for p, on in (("fp16", fp16), ("int8", int8)) if on) or "fp32"


def describe_precision(plan: BuildPlan) -> str:
    """The precision line of the plan: flags, FP16 conversion, where INT8 comes from."""
    text = plan.precision
    if plan.builder_flags:
        text += f" (builder flags {', '.join(plan.builder_flags)})"
    if plan.convert_to_fp16:
        io = "float32 I/O kept" if plan.keep_io_types else "I/O converted too"
        text += f" (ONNX converted to FP16 first, {io})"
    if plan.int8:
        text += f"; INT8 by {'Q/DQ nodes' if plan.int8_mode == 'qdq' else 'calibration'}"
        if plan.calibration_data:
            text += f" on {plan.calibration_data}"
        if plan.calibration_cache:
            text += f", cache {plan.calibration_cache}"
    return text


def resolve_precision(
    plan: BuildPlan, model: onnx.ModelProto, data: str | Path | None, cache: str | Path | None
) -> None:
    """Set the plan's INT8 mode and calibration inputs, and note what the flags mean on its target."""
    has_qdq = any(n.op_type in QDQ_OPS for n in model.graph.node)
    if (data or cache) and not plan.int8:
        raise UsageError("--calib-data/--calib-cache are given without --int8", "Add --int8, or drop them")
    if not plan.int8:
        if has_qdq:
            plan.notes.append("the ONNX holds Q/DQ nodes: those tensors run in INT8 whatever the flags")
        if plan.convert_to_fp16:
            plan.notes.append(
                "TensorRT 11 has no FP16 builder flag: the ONNX is converted to FP16 before parsing "
                f"({'float32 inputs/outputs kept' if plan.keep_io_types else 'inputs/outputs become float16'})"
            )
        return
    if has_qdq:
        plan.int8_mode = "qdq"
        if data or cache:
            plan.notes.append("the ONNX holds Q/DQ nodes, so no calibration runs: --calib-data/--calib-cache unused")
        if plan.strongly_typed:
            plan.notes.append("TensorRT 11 takes INT8 from the Q/DQ nodes; --int8 only documents it")
        return
    if plan.strongly_typed:
        raise Pt2trtError(
            "--int8 on TensorRT 11 needs an ONNX with QuantizeLinear/DequantizeLinear nodes: TensorRT 11 builds "
            "strongly typed networks only and has no INT8 calibration",
            QDQ_HINT,
        )
    _resolve_calibration(plan, data, cache)


def _resolve_calibration(plan: BuildPlan, data: str | Path | None, cache: str | Path | None) -> None:
    """INT8 by calibration (TensorRT 8.6/10, no Q/DQ nodes): data to calibrate on, or a cache of the scales."""
    plan.int8_mode = "calibration"
    plan.calibration_cache = Path(cache) if cache else None
    if data is None:
        if plan.calibration_cache is None or not plan.calibration_cache.is_file():
            raise UsageError(
                f"--int8 on TensorRT {plan.target.name} needs calibration data for a model without Q/DQ nodes",
                "Pass --calib-data DIR (images, preprocessed like the model's input) or .npy batches, "
                "and --calib-cache FILE to reuse the result; or build a Q/DQ-quantized ONNX",
            )
        plan.notes.append(f"INT8 scales are read from the calibration cache {plan.calibration_cache}")
    else:
        plan.calibration_data = calibration_source(Path(data))
    if plan.target.name == "10":
        plan.notes.append("INT8 calibration (implicit quantization) is deprecated in TensorRT 10; Q/DQ is the future")
    if plan.profiles:
        plan.notes.append("calibration batches must have the last profile's opt shapes")


def calibration_source(path: Path) -> Path:
    """``path`` if it is calibration data (a file, or a folder holding images or arrays); raises otherwise."""
    if not path.exists():
        raise Pt2trtError(f"calibration data not found: {path}", "Pass a folder of images or .npy/.npz batches")
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    usable = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES + ARRAY_SUFFIXES]
    if not usable:
        raise Pt2trtError(
            f"no calibration data in {path}",
            f"Put images ({', '.join(IMAGE_SUFFIXES)}) or .npy/.npz batches there",
        )
    return path
