"""The precision plan: how FP16 and INT8 are obtained on each TensorRT version.

TensorRT 8.6 and 10 build weakly typed networks: FP16/INT8 are builder flags, and INT8 without Q/DQ nodes needs
calibration data. TensorRT 11 builds strongly typed networks only: FP16 means converting the ONNX to FP16 before
parsing, and INT8 comes from QuantizeLinear/DequantizeLinear nodes (there is no calibration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    import onnx

    from pt2trt.backends.tensorrt.versions import Target

#: the calibration data files the INT8 calibrator reads (:mod:`pt2trt.backends.tensorrt.calibration`)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
ARRAY_SUFFIXES = (".npy", ".npz")
QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
QDQ_HINT = (
    "Pass --calib-data DIR (images or .npy/.npz) to quantize it to Q/DQ first, or quantize it yourself "
    "(pt2trt quantize MODEL.onnx --precision int8 --calib DATA) and build the Q/DQ ONNX"
)
QUANTIZE = "quantize"  # int8_mode: Q/DQ written by pt2trt quantize before parsing (TensorRT 11)


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


@dataclass
class PrecisionChoice:
    """How INT8 is obtained (``qdq``, ``calibration`` or None), from which calibration files, and what to note."""

    int8_mode: str | None = None
    calibration_data: Path | None = None
    calibration_cache: Path | None = None
    notes: list[str] = field(default_factory=list)


def resolve_precision(
    model: onnx.ModelProto,
    target: Target,
    *,
    fp16: bool,
    int8: bool,
    keep_io_types: bool,
    data: str | Path | None,
    cache: str | Path | None,
    has_profiles: bool,
) -> PrecisionChoice:
    """Decide how INT8 is obtained on the target, and note what the precision flags mean there."""
    has_qdq = any(n.op_type in QDQ_OPS for n in model.graph.node)
    choice = PrecisionChoice()
    fp16_data = data is not None and not int8 and converts_to_fp16(target, fp16=fp16)
    if (data or cache) and not int8 and not fp16_data:
        raise UsageError("--calib-data/--calib-cache are given without --int8", "Add --int8, or drop them")
    if not int8:
        if fp16_data:
            choice.calibration_data = calibration_source(Path(str(data)))
        if has_qdq:
            choice.notes.append("the ONNX holds Q/DQ nodes: those tensors run in INT8 whatever the flags")
        if converts_to_fp16(target, fp16=fp16):
            choice.notes.append(
                "TensorRT 11 has no FP16 builder flag: the ONNX is converted to mixed FP16 before parsing by "
                "pt2trt quantize's analysis (what would overflow stays FP32; ranges observed on "
                f"{data or 'random inputs: pass --calib-data for real ranges'}; "
                f"{'float32 inputs/outputs kept' if keep_io_types else 'inputs/outputs become float16'})"
            )
        return choice
    if has_qdq:
        choice.int8_mode = "qdq"
        if data or cache:
            choice.notes.append("the ONNX holds Q/DQ nodes, so no calibration runs: --calib-data/--calib-cache unused")
        if target.strongly_typed_only:
            choice.notes.append("TensorRT 11 takes INT8 from the Q/DQ nodes; --int8 only documents it")
        return choice
    if target.strongly_typed_only:
        if data is None:
            raise Pt2trtError(
                "--int8 on TensorRT 11 needs an ONNX with QuantizeLinear/DequantizeLinear nodes (or --calib-data to "
                "write them): TensorRT 11 builds strongly typed networks only and has no INT8 calibration",
                QDQ_HINT,
            )
        choice.int8_mode = QUANTIZE
        choice.calibration_data = calibration_source(Path(data))
        choice.notes.append(
            f"TensorRT 11 has no INT8 calibration: the ONNX is first quantized to Q/DQ (pt2trt quantize, symmetric "
            f"INT8, calibrated on {choice.calibration_data}, accuracy measured against FP32), then parsed"
        )
        return choice
    _resolve_calibration(choice, target, data, cache, has_profiles)
    choice.notes.append(
        "Q/DQ is the recommended INT8 path (measured on CPU, portable to TensorRT 11): pt2trt quantize MODEL.onnx "
        "--precision int8 --calib DATA, then build that ONNX; builder calibration is the fallback"
    )
    return choice


def _resolve_calibration(
    choice: PrecisionChoice, target: Target, data: str | Path | None, cache: str | Path | None, has_profiles: bool
) -> None:
    """INT8 by calibration (TensorRT 8.6/10, no Q/DQ nodes): data to calibrate on, or a cache of the scales."""
    choice.int8_mode = "calibration"
    choice.calibration_cache = Path(cache) if cache else None
    if data is None:
        if choice.calibration_cache is None or not choice.calibration_cache.is_file():
            raise UsageError(
                f"--int8 on TensorRT {target.name} needs calibration data for a model without Q/DQ nodes",
                "Pass --calib-data DIR (images, preprocessed like the model's input) or .npy batches, "
                "and --calib-cache FILE to reuse the result; or build a Q/DQ-quantized ONNX",
            )
        choice.notes.append(f"INT8 scales are read from the calibration cache {choice.calibration_cache}")
    else:
        choice.calibration_data = calibration_source(Path(data))
    if target.name == "10":
        choice.notes.append("INT8 calibration (implicit quantization) is deprecated in TensorRT 10; Q/DQ is the future")
    if has_profiles:
        choice.notes.append("calibration batches must have the last profile's opt shapes")


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
