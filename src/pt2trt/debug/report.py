"""Plain result objects of ``debug layers``: one row per compared layer, the unmatched ones, and the origin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.comparators.tensors import TensorComparison
from pt2trt.shapes import InputSpec

# Status of a layer's inputs: all compared within tolerance, one of them out, not all could be compared, or not
# looked at (bisection probes check a layer's outputs only).
OK, DIVERGED, UNKNOWN, UNCHECKED = "ok", "diverged", "unknown", "unchecked"
TOLERANCE_RULE = "|candidate - reference| <= atol + rtol * (rms(reference) + |reference|) per element"


@dataclass
class LayerResult:
    """One layer (a module call, or an ONNX node) compared on both sides."""

    name: str  # qualified module name ('' for the model itself), or the ONNX node name
    label: str  # what the table shows: name, "#2" for a second call, "(model)" for the model
    cls: str  # module class, or ONNX op type
    order: int  # position in execution order (completion order of calls / topological order of nodes)
    onnx_nodes: list[str]
    onnx_tensors: list[str]
    tensors: list[TensorComparison]
    inputs_status: str = UNCHECKED
    module: str | None = None  # for ONNX-vs-ONNX rows: the module the node's scope names, when it has one
    folded: list[str] = field(default_factory=list)  # modules this layer's ONNX node(s) also compute

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tensors)

    @property
    def worst(self) -> TensorComparison:
        """The comparison with the largest share of elements out of tolerance."""
        return max(self.tensors, key=lambda t: (not t.passed, t.outside_tolerance_pct or 0.0, t.max_abs_error or 0.0))

    def to_dict(self) -> dict[str, Any]:
        worst = self.worst
        return {
            "name": self.name,
            "label": self.label,
            "class": self.cls,
            "order": self.order,
            "passed": self.passed,
            "inputs": self.inputs_status,
            "max_abs_error": worst.max_abs_error,
            "max_rel_error": worst.max_rel_error,
            "mean_abs_error": worst.mean_abs_error,
            "cosine_similarity": worst.cosine_similarity,
            "outside_tolerance_pct": worst.outside_tolerance_pct,
            "onnx_nodes": self.onnx_nodes,
            "onnx_tensors": self.onnx_tensors,
            "tensors": [t.to_dict() for t in self.tensors],
            **({"module": self.module} if self.module is not None else {}),
            **({"folded": self.folded} if self.folded else {}),
        }


@dataclass
class UnmatchedLayer:
    """A layer without a counterpart on the other side, and why."""

    name: str
    label: str
    cls: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "class": self.cls, "reason": self.reason}


@dataclass
class LayersReport:
    """Everything ``debug layers`` found; ``origin`` is the first layer whose output left tolerance on good inputs."""

    reference: str
    candidate: str
    comparison: str  # "pytorch-vs-onnxruntime", "onnxruntime-vs-onnxruntime", "onnxruntime-vs-tensorrt"
    strategy: str  # "all-at-once" | "bisection"
    inputs: list[InputSpec]
    rtol: float
    atol: float
    layers: list[LayerResult] = field(default_factory=list)
    unmatched: list[UnmatchedLayer] = field(default_factory=list)
    origin: LayerResult | None = None
    origin_note: str = ""
    skipped: str | None = None
    exporter: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    onnx_path: Path | None = None
    fused_away: list[str] = field(default_factory=list)  # TensorRT: tensors the production engine does not keep

    @property
    def diverged(self) -> bool:
        return self.origin is not None

    @property
    def origin_name(self) -> str | None:
        """The origin's qualified module name (an ONNX-vs-ONNX origin without a module scope: its node name)."""
        if self.origin is None:
            return None
        return self.origin.module if self.origin.module is not None else self.origin.name

    @property
    def failed(self) -> list[LayerResult]:
        return [layer for layer in self.layers if not layer.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "candidate": self.candidate,
            "comparison": self.comparison,
            "strategy": self.strategy,
            "exporter": self.exporter,
            "inputs": [s.to_dict() for s in self.inputs],
            "rtol": self.rtol,
            "atol": self.atol,
            "tolerance_rule": TOLERANCE_RULE,
            "skipped": self.skipped,
            "diverged": self.diverged,
            "origin": self.origin_name,
            "origin_detail": self.origin.to_dict() if self.origin is not None else None,
            "origin_note": self.origin_note,
            "layers": [layer.to_dict() for layer in self.layers],
            "unmatched": [u.to_dict() for u in self.unmatched],
            "fused_away": self.fused_away,
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


def choose_origin(layers: list[LayerResult]) -> tuple[LayerResult | None, str]:
    """The first failing layer (execution order) whose inputs were all within tolerance, and a note on the choice."""
    failed = [layer for layer in sorted(layers, key=lambda x: x.order) if not layer.passed]
    if not failed:
        return None, ""
    for layer in failed:
        if layer.inputs_status == OK:
            return layer, "first layer out of tolerance whose inputs were all within tolerance"
    for layer in failed:
        if layer.inputs_status in (UNKNOWN, UNCHECKED):
            return layer, "first layer out of tolerance; not all of its inputs could be compared"
    return failed[0], "first layer out of tolerance; its inputs already differed (the error starts in unmapped code)"
