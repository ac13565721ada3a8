"""The lint's findings and its report for one model and target, with their text and JSON forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.backends.tensorrt.versions import Target

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
    source: str = ""  # where the rule was read when not from operators.md (the importer's source file and commit)
    cause: str = ""  # the why without node-specific names: findings with the same cause are shown together

    def to_dict(self) -> dict[str, str]:
        return vars(self).copy()

    def line(self) -> str:
        return f"{self.severity}: {self.node} ({self.op}): {self.why}. {self.fix}"

    @property
    def group_key(self) -> tuple[str, ...]:
        return (self.severity, self.code, self.op, self.cause or self.why, self.fix)


@dataclass(frozen=True)
class FindingGroup:
    """Findings with one severity, op and cause on several nodes: shown once with a count and a few node names."""

    findings: tuple[Finding, ...]

    def line(self, shown: int = 3) -> str:
        first = self.findings[0]
        if len(self.findings) == 1:
            return first.line()
        names = [f.node for f in self.findings]
        listed = ", ".join(names[:shown]) + (f", ... and {len(names) - shown} more" if len(names) > shown else "")
        why = first.cause or first.why
        return f"{first.severity}: {len(names)} {first.op} nodes ({listed}): {why}. {first.fix}"


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
    def stand_in(self) -> bool:
        """True when no table of the target's major version exists and an older one stands in (10.x for 11)."""
        return self.table.split(".")[0] != self.target.name.split(".")[0]

    def groups(self) -> list[FindingGroup]:
        """The findings grouped by severity, op and cause, in order of first appearance."""
        groups: dict[tuple[str, ...], list[Finding]] = {}
        for finding in self.findings:
            groups.setdefault(finding.group_key, []).append(finding)
        return [FindingGroup(tuple(g)) for g in groups.values()]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def summary(self) -> str:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        verdict = "no blocking issue found" if self.passed else "the parser will reject this model"
        table = f"parser table {self.table}" + (
            f" as a stand-in: no TensorRT {self.target.name} table exists" if self.stand_in else ""
        )
        return (
            f"TensorRT {self.target.name} lint ({table}; opset {self.opset}): {verdict} "
            f"({counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.cli_name,
            "passed": self.passed,
            "opset": self.opset,
            "operator_table": self.table,
            "operator_table_source": self.table_source,
            "operator_table_stand_in": self.stand_in,
            "note": self.note,
            "findings": [f.to_dict() for f in self.findings],
        }


def node_label(node: onnx.NodeProto) -> str:
    """How a finding names a node: its name, or its op and first output for an unnamed node."""
    return node.name or (f"<{node.op_type} -> {node.output[0]}>" if node.output else f"<{node.op_type}>")
