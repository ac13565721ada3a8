"""Q/DQ rules of the lint: what TensorRT's explicit quantization accepts.

TensorRT quantizes symmetrically: every QuantizeLinear/DequantizeLinear zero point must be 0 (the operator table's
restriction, checked in :mod:`~pt2trt.backends.tensorrt.lint.rules`), of a signed type
(INT8; FP8 and INT4 weights from TensorRT 10), scales constant, activations per-tensor (one scale), weights per
tensor or per output channel. A Dequantize of INT32 (ONNX Runtime's quantized biases) is rejected: biases stay float.
A Q/DQ pair in front of an op without an INT8 kernel is accepted but the op runs in float after the DequantizeLinear:
the pair then costs accuracy and buys nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pt2trt.backends.tensorrt.lint.report import Finding, node_label
from pt2trt.backends.tensorrt.versions import Target

if TYPE_CHECKING:
    import onnx

    from pt2trt.backends.tensorrt.lint.rules import GraphFacts

QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
#: ops TensorRT fuses with Q/DQ or runs in INT8 (compute, pooling, element-wise in fusions, data movement)
INT8_OPS = {
    "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Concat", "Reshape",
    "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Pad", "Resize", "Identity", "Split", "Gather",
    "QuantizeLinear", "DequantizeLinear", "ReduceMax", "BatchNormalization",
}  # fmt: skip
_TYPES_86 = {3}  # INT8
_TYPES_10 = {3, 17, 22}  # INT8, FLOAT8E4M3FN, INT4
_TYPE_NAMES = {2: "UINT8", 3: "INT8", 6: "INT32", 17: "FLOAT8E4M3FN", 21: "UINT4", 22: "INT4"}
_WEIGHT_AXIS = {"Conv": 0, "ConvTranspose": 1, "Gemm": None, "MatMul": 1}


def qdq_findings(graph: GraphFacts, target: Target) -> list[Finding]:
    """Findings for every Q/DQ node of the model."""
    allowed = _TYPES_86 if target.name == "8.6" else _TYPES_10
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.walk():
        for t in node.input:
            consumers.setdefault(t, []).append(node)
    findings: list[Finding] = []
    placements: dict[str, list[str]] = {}
    for node in graph.walk():
        if node.op_type not in QDQ_OPS or node.domain not in ("", "ai.onnx"):
            continue
        label = node_label(node)
        findings.extend(_zero_point(node, label, graph, allowed, target))
        scale_name = node.input[1] if len(node.input) > 1 else ""
        if scale_name not in graph.constants:
            findings.append(
                Finding(
                    "error",
                    "qdq-scale",
                    label,
                    node.op_type,
                    "its scale is computed, not a constant",
                    "TensorRT needs constant Q/DQ scales: fold constants, or quantize again",
                )
            )
        scale = graph.value(scale_name)
        per_channel = scale is not None and scale.size > 1
        if per_channel and node.input[0] not in graph.constants and node.op_type == "QuantizeLinear":
            findings.append(
                Finding(
                    "error",
                    "qdq-per-channel",
                    label,
                    node.op_type,
                    f"per-channel quantization ({scale.size} scales) of an activation",
                    "TensorRT quantizes activations per tensor: one scale (ActivationSymmetric, per_channel "
                    "applies to weights only)",
                )
            )
        if node.op_type == "DequantizeLinear":
            if per_channel and node.input[0] in graph.constants:
                findings.extend(_weight_axis(node, label, consumers))
            for user in consumers.get(node.output[0], []):
                if user.op_type not in INT8_OPS:
                    placements.setdefault(user.op_type, []).append(node_label(user))
    for op, users in sorted(placements.items()):
        findings.append(
            Finding(
                "warning",
                "qdq-placement",
                ", ".join(users[:3]) + (" ..." if len(users) > 3 else ""),
                op,
                f"{len(users)} {op} node(s) read dequantized INT8 but TensorRT has no INT8 kernel for {op}: "
                "they run in float after the DequantizeLinear",
                f"Leave {op} out of quantization (pt2trt quantize quantizes Conv/Gemm/MatMul/pooling/residual "
                "Add only): the Q/DQ pair costs accuracy and buys no speed",
            )
        )
    return findings


def _zero_point(node: onnx.NodeProto, label: str, graph: GraphFacts, allowed: set[int], target: Target) -> list:
    if len(node.input) < 3 or not node.input[2]:
        if node.op_type == "QuantizeLinear":
            return [
                Finding(
                    "error",
                    "qdq-type",
                    label,
                    node.op_type,
                    "no zero point: the output type defaults to UINT8",
                    "Give an INT8 zero point of 0 (quantize_static with QuantType.QInt8)",
                )
            ]
        return []
    init = graph.initializers.get(node.input[2])
    findings = []
    elem = init.data_type if init is not None else None
    if elem is not None and elem not in allowed:
        name = _TYPE_NAMES.get(elem, str(elem))
        fix = (
            "Keep biases in float (quantize_static extra_options QuantizeBias=False)"
            if elem == 6
            else "Quantize to signed INT8 (QuantType.QInt8 for activations and weights)"
        )
        findings.append(
            Finding(
                "error",
                "qdq-type",
                label,
                node.op_type,
                f"{name} quantization: TensorRT {target.name} takes "
                f"{', '.join(_TYPE_NAMES.get(t, str(t)) for t in sorted(allowed))} only",
                fix,
            )
        )
    return findings


def _weight_axis(node: onnx.NodeProto, label: str, consumers: dict[str, list]) -> list[Finding]:
    axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
    findings = []
    for user in consumers.get(node.output[0], []):
        wanted = _WEIGHT_AXIS.get(user.op_type)
        if user.op_type == "Gemm":
            trans_b = next((a.i for a in user.attribute if a.name == "transB"), 0)
            wanted = 0 if trans_b else 1
        if wanted is not None and len(user.input) > 1 and user.input[1] == node.output[0] and axis != wanted:
            findings.append(
                Finding(
                    "error",
                    "qdq-axis",
                    label,
                    node.op_type,
                    f"per-channel weights on axis {axis}; TensorRT needs the output-channel axis {wanted} of "
                    f"{user.op_type} {node_label(user)}",
                    "Quantize weights per output channel",
                )
            )
    return findings
