"""ONNX -> OpenVINO IR (``.xml`` + ``.bin``): conversion, the weight format it will hold, and the ``pt2trt.*`` records.

``ov.convert_model`` reads the ONNX file and ``ov.save_model`` writes the IR; ``fp16=True`` stores the weights in
FP16 (OpenVINO decompresses them at load). A Q/DQ ONNX (``pt2trt`` INT8, or ``onnxruntime.quantization`` in QDQ
format) becomes an INT8 IR: OpenVINO folds the Q/DQ pairs into INT8 ops. The ``pt2trt.*`` metadata (preprocessing,
export record) is carried into the IR's ``rt_info`` under ``pt2trt``. The verified export (IR checked against ONNX
Runtime before it is published) is :func:`pt2trt.verification.openvino.export_openvino`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError


def has_qdq(path: Path) -> bool:
    from pt2trt.onnx.load import load_onnx

    model = load_onnx(path, load_external_data=False)
    return any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node)


def weight_format(source: Path, fp16: bool) -> str:
    """What the IR's weights will be: ``int8`` (from Q/DQ), ``fp16`` or ``fp32``."""
    return "int8" if has_qdq(source) else ("fp16" if fp16 else "fp32")


def convert_to_ir(source: Path) -> Any:
    """``ov.convert_model`` of an ONNX file, its ``pt2trt.*`` metadata carried into ``rt_info``."""
    from pt2trt.backends.openvino.runner import import_openvino

    ov = import_openvino()
    try:
        model = ov.convert_model(str(source))
    except Exception as exc:  # OpenVINO's frontends raise their own error types
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Pt2trtError(
            f"OpenVINO {ov.__version__} cannot convert {source}: {text}",
            "Check the model with `pt2trt check`, or simplify it first (`pt2trt simplify`)",
        ) from exc
    _carry_metadata(source, model)
    return model


def save_ir(model: Any, xml: Path, *, fp16: bool) -> None:
    """Write ``model`` as ``xml`` and its ``.bin`` beside it (weights in FP16 with ``fp16``)."""
    from pt2trt.backends.openvino.runner import import_openvino

    import_openvino().save_model(model, str(xml), compress_to_fp16=fp16)


def _carry_metadata(source: Path, model: Any) -> None:
    from pt2trt.onnx.load import load_onnx
    from pt2trt.onnx.metadata import PREFIX, read_metadata

    for key, value in read_metadata(load_onnx(source, load_external_data=False)).items():
        model.set_rt_info(value, ["pt2trt", key.removeprefix(PREFIX)])
