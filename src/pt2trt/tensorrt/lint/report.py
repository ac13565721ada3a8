"""The lint's findings and its report for one model and target, with their text and JSON forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.tensorrt.versions import Target

if TYPE_CHECKING:
    import onnx

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One thing the TensorRT parser will reject (error), may reject or change (warning), or needs (info)."""

    severity: str
    code: str
    node: str
    op: str
    why: str
    fix: str
    documented: str = ""  # the restriction as operators.md words it

    def to_dict(self) -> dict[str, str]:
        return vars(self).copy()

    def line(self) -> str:
        return f"{self.severity}: {self.node} ({self.op}): {self.why}. {self.fix}"


@dataclass
class TrtCompatReport:
    """The lint of one model for one TensorRT target."""

    path: Path | None
    target: Target
    table: str
    table_source: str
    opset: int | None
    findings: list[Finding] = field(default_factory=list)
    note: str = ""

    @property
    def passed(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def summary(self) -> str:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        verdict = "no blocking issue found" if self.passed else "the parser will reject this model"
        return (
            f"TensorRT {self.target.name} lint (parser table {self.table}, opset {self.opset}): {verdict} "
            f"({counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.cli_name,
            "passed": self.passed,
            "opset": self.opset,
            "operator_table": self.table,
            "operator_table_source": self.table_source,
            "note": self.note,
            "findings": [f.to_dict() for f in self.findings],
        }


def node_label(node: onnx.NodeProto) -> str:
    """How a finding names a node: its name, or its op and first output for an unnamed node."""
    return node.name or (f"<{node.op_type} -> {node.output[0]}>" if node.output else f"<{node.op_type}>")
