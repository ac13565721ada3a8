"""ONNX -> OpenVINO IR (``.xml`` + ``.bin``): conversion, the weight format it will hold, and the ``pt2trt.*`` records.

``ov.convert_model`` reads the ONNX file and ``ov.save_model`` writes the IR; ``fp16=True`` stores the weights in
FP16 (OpenVINO decompresses them at load). A Q/DQ ONNX (``pt2trt`` INT8, or ``onnxruntime.quantization`` in QDQ
format) becomes an INT8 IR: OpenVINO folds the Q/DQ pairs into INT8 ops; an FP16 ONNX keeps its FP16 weights.
:func:`weight_format` says which of these the IR holds, and why. The ``pt2trt.*`` metadata (preprocessing,
export record) is carried into the IR's ``rt_info`` under ``pt2trt``. The verified export (IR checked against ONNX
Runtime before it is published) is :func:`pt2trt.verification.openvino.export_openvino`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError
from pt2trt.onnx.model import OnnxModel

if TYPE_CHECKING:
    import onnx


#: Ops that make a model INT8: Q/DQ pairs (QDQ format, what pt2trt and TensorRT write), ONNX Runtime's QOperator
#: format (QLinear*, QGemm...) and its dynamic quantization (DynamicQuantizeLinear + ConvInteger/MatMulInteger).
INT8_OPS = frozenset({
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "ConvInteger", "MatMulInteger",
    "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd",
    "QLinearMul", "QLinearGlobalAveragePool", "QLinearAveragePool", "QLinearConcat", "QLinearSigmoid",
    "QLinearLeakyRelu", "QLinearSoftmax",
})  # fmt: skip


@dataclass(frozen=True)
class WeightFormat:
    """What the IR's weights will hold (``fp32``, ``fp16`` or ``int8``) and where that comes from."""

    name: str
    origin: str  # "the ONNX's Q/DQ nodes", "--fp16"...

    def __str__(self) -> str:
        return f"{self.name} weights {self.origin}" if self.origin else f"{self.name} weights"


def onnx_precision(model: onnx.ModelProto) -> tuple[str, str]:
    """The precision an ONNX model computes in, and the evidence: ``("int8", "the ONNX's DequantizeLinear, ...
    nodes")``, ``("fp16", "the ONNX's float16 weights")`` or ``("fp32", "")``."""
    import numpy as np
    from onnx import TensorProto

    ops = sorted({n.op_type for n in model.graph.node if n.op_type in INT8_OPS})
    if ops:
        shown = ", ".join(ops[:3]) + (", ..." if len(ops) > 3 else "")
        return "int8", f"from the ONNX's {shown} nodes"
    sizes = {TensorProto.FLOAT: 0, TensorProto.FLOAT16: 0}
    constants = [a.t for n in model.graph.node if n.op_type == "Constant" for a in n.attribute if a.name == "value"]
    tensors = [*model.graph.initializer, *constants]
    for t in tensors:
        if t.data_type in sizes:
            sizes[t.data_type] += max(1, int(np.prod(t.dims))) if t.dims else 1
    if sizes[TensorProto.FLOAT16] > sizes[TensorProto.FLOAT]:
        return "fp16", "from the ONNX's float16 weights"
    return "fp32", ""


def weight_format(model: onnx.ModelProto, fp16: bool) -> WeightFormat:
    """What the IR's weights will be: ``int8`` (an INT8 ONNX), ``fp16`` (an FP16 ONNX, or ``fp16``: FP32 weights
    stored in FP16) or ``fp32``."""
    name, origin = onnx_precision(model)
    if name == "fp32" and fp16:
        return WeightFormat("fp16", "stored from FP32 by --fp16")
    return WeightFormat(name, origin)


def convert_to_ir(model: OnnxModel) -> Any:
    """``ov.convert_model`` of an ONNX file, its ``pt2trt.*`` metadata carried into ``rt_info``."""
    from pt2trt.backends.openvino.runner import import_openvino, load_error_cause
    from pt2trt.onnx.metadata import PREFIX

    source = model.path
    if source is None:
        raise Pt2trtError("OpenVINO converts ONNX files", "Save the model first, then convert the file")
    ov = import_openvino()
    try:
        ir = ov.convert_model(str(source))
    except Exception as exc:  # OpenVINO's frontends raise their own error types
        text = load_error_cause(str(exc), source) if str(exc).strip() else type(exc).__name__
        raise Pt2trtError(
            f"OpenVINO {ov.__version__} cannot convert {source}: {text}",
            "Check the model with `pt2trt check`, or simplify it first (`pt2trt simplify`)",
        ) from exc
    for key, value in model.metadata.items():
        ir.set_rt_info(value, ["pt2trt", key.removeprefix(PREFIX)])
    return ir


def save_ir(model: Any, xml: Path, *, fp16: bool) -> None:
    """Write ``model`` as ``xml`` and its ``.bin`` beside it (weights in FP16 with ``fp16``)."""
    from pt2trt.backends.openvino.runner import import_openvino

    import_openvino().save_model(model, str(xml), compress_to_fp16=fp16)
