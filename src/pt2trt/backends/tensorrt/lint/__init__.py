"""TensorRT compatibility lint of an ONNX model (``pt2trt check --target``), run on CPU: what the target's ONNX
parser will reject or change.

:mod:`~pt2trt.backends.tensorrt.lint.facts` reads the parser's operator tables,
:mod:`~pt2trt.backends.tensorrt.lint.rules` checks each node against them,
:mod:`~pt2trt.backends.tensorrt.lint.plugins` knows which plugin nodes a target no longer imports (or has
deprecated) and :mod:`~pt2trt.backends.tensorrt.lint.report` holds the findings. Each :class:`Finding` names the node,
its op, why it is a problem for TensorRT and what to do about it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.backends.tensorrt.lint.facts import operator_data, opset_findings
from pt2trt.backends.tensorrt.lint.plugins import plugin_findings
from pt2trt.backends.tensorrt.lint.qdq import qdq_findings
from pt2trt.backends.tensorrt.lint.report import SEVERITIES, Finding, FindingGroup, TrtCompatReport
from pt2trt.backends.tensorrt.lint.rules import GraphFacts, dynamic_input_findings, node_findings, type_findings
from pt2trt.backends.tensorrt.versions import Target, parse_target
from pt2trt.onnx.model import ModelLike, OnnxModel

if TYPE_CHECKING:
    import onnx

__all__ = ["Finding", "FindingGroup", "TrtCompatReport", "lint_model", "operator_data", "trt_compatibility"]


def trt_compatibility(model: ModelLike, target: str | Target) -> TrtCompatReport:
    """Lint ``model`` (a handle or a path) for a TensorRT target (``8.6``, ``10``, ``11`` or ``trt-10``...)."""
    handle = OnnxModel.of(model)
    report = lint_model(handle.proto, target)
    report.path = handle.path or Path(handle.name)
    return report


def lint_model(model: onnx.ModelProto, target: str | Target) -> TrtCompatReport:
    """Lint an in-memory ONNX model (weights in external files are not read)."""
    tgt = target if isinstance(target, Target) else parse_target(target)
    data = operator_data()
    info = data["targets"][tgt.name]
    table = data["tables"][info["table"]]
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    report = TrtCompatReport(None, tgt, info["table"], table["source"], opset, note=info.get("note", ""))
    graph = GraphFacts(model)
    report.findings.extend(opset_findings(opset, info))
    oldest = data["tables"].get(info.get("oldest_table", ""), {}).get("ops")
    for node in graph.walk():
        report.findings.extend(node_findings(node, table["ops"], oldest, tgt, info, graph))
        report.findings.extend(plugin_findings(node, tgt))
    report.findings.extend(type_findings(graph, info))
    report.findings.extend(qdq_findings(graph, tgt))
    report.findings.extend(dynamic_input_findings(model))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    report.findings.sort(key=lambda f: order[f.severity])
    if info.get("oldest_table") and not any(f.code == "newer-parser" for f in report.findings):
        report.note = ""  # the target's note is the oldest table's "needs a recent 10.x" caveat: no op here needs it
    return report
