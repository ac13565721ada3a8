"""What the TensorRT ONNX parser's operator tables say about an opset and an operator.

The tables come from onnx/onnx-tensorrt ``docs/operators.md`` for each TensorRT version and live in
``pt2trt/data/tensorrt_onnx_ops.json`` with their source, beside each target's opset range and type rules.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pt2trt.backends.tensorrt.lint.report import Finding, node_label
from pt2trt.backends.tensorrt.versions import Target

if TYPE_CHECKING:
    import onnx

_QUANT_OPS = {"ConvInteger", "MatMulInteger", "QLinearConv", "QLinearMatMul", "DynamicQuantizeLinear"}
_OP_FIXES = {
    **{op: "Quantize with QuantizeLinear/DequantizeLinear pairs instead (onnxruntime.quantization.quantize_static "
           "with quant_format=QuantFormat.QDQ, or NVIDIA ModelOpt), which TensorRT fuses into INT8 kernels"
       for op in _QUANT_OPS},
}  # fmt: skip
GENERIC_FIX = (
    "Avoid it in the PyTorch model before export, rewrite it with onnx-graphsurgeon, or supply a TensorRT plugin; "
    "ONNX Runtime still runs the model (`pt2trt verify`)"
)


@cache
def operator_data() -> dict[str, Any]:
    """The packaged operator tables and target descriptions."""
    return json.loads(resources.files("pt2trt").joinpath("data/tensorrt_onnx_ops.json").read_text())


def opset_findings(opset: int | None, info: dict[str, Any]) -> list[Finding]:
    """The model's ai.onnx opset against the range the target's parser supports."""
    low, high = info.get("opset_min"), info.get("opset_max")
    newer = info.get("newer_opsets", {})
    if opset is None:
        return [Finding("error", "opset", "(model)", "-", "the model imports no ai.onnx opset", "Export it again")]
    if low is not None and opset < low:
        return [
            Finding(
                "error", "opset", "(model)", "-",
                f"opset {opset} is older than the TensorRT parser supports (opset {low} to {high})",
                f"Re-export with --opset {high}, or convert it with onnx.version_converter.convert_version",
            )
        ]  # fmt: skip
    if high is not None and opset > high:
        if str(opset) in newer:
            why = f"opset {opset} needs TensorRT {newer[str(opset)]} or newer (older releases parse up to {high})"
        else:
            why = f"opset {opset} is newer than the newest the TensorRT parser documents ({high})"
        return [
            Finding(
                "warning", "opset", "(model)", "-", why,
                f"Re-export with --opset {high}, or convert it with onnx.version_converter.convert_version",
            )
        ]  # fmt: skip
    return []


def op_findings(
    node: onnx.NodeProto, ops: dict[str, Any], oldest: dict[str, Any] | None, target: Target, info: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[Finding]]:
    """What the operator table says about the node's op: its table entry and the findings.

    The entry is None when the parser cannot import the op as an ONNX operator (ai.onnx.ml, custom domain, missing
    or unsupported op): then the op's restrictions are not checked.
    """
    label, op = node_label(node), node.op_type
    if node.domain == "ai.onnx.ml":
        why = "TensorRT's ONNX parser supports no ai.onnx.ml (classical ML) operator"
        return None, [Finding("error", "unsupported-op", label, f"ai.onnx.ml::{op}", why, GENERIC_FIX)]
    if node.domain not in ("", "ai.onnx"):
        return None, [
            Finding(
                "warning", "plugin", label, f"{node.domain}::{op}",
                f"custom-domain op: the parser imports it only as a TensorRT plugin named '{op}'",
                "Load a plugin library that registers it when building and running (trtexec --staticPlugins, "
                "polygraphy --plugins), or replace the op",
            )
        ]  # fmt: skip
    entry = ops.get(op)
    if entry is None:
        return None, [
            Finding(
                "error", "plugin", label, op,
                f"{op} is not in the TensorRT {target.name} parser's operator table: the parser looks for a plugin "
                f"named '{op}' and fails without one",
                _OP_FIXES.get(op, GENERIC_FIX),
            )
        ]  # fmt: skip
    if not entry["supported"]:
        return None, [
            Finding(
                "error", "unsupported-op", label, op,
                f"the TensorRT {target.name} ONNX parser does not support {op} (onnx-tensorrt operators.md)",
                _OP_FIXES.get(op, GENERIC_FIX),
            )
        ]  # fmt: skip
    findings = []
    if oldest is not None and not oldest.get(op, {}).get("supported", False):
        findings.append(
            Finding(
                "warning", "newer-parser", label, op,
                f"{op} needs TensorRT > {info['oldest_table']}: the {info['table']} parser supports it, the "
                f"{info['oldest_table']} one does not (not an error: it builds on a recent TensorRT {target.name}.x)",
                f"Build with TensorRT {info['table']} or newer, or replace the op to support older {target.name}.x",
            )
        )  # fmt: skip
    return entry, findings
