"""``pt2trt check``: the ONNX checker (full check) and strict shape inference, reported as findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.onnx.model import ModelLike, OnnxModel


@dataclass
class CheckReport:
    path: Path
    checker_ok: bool = False
    shape_inference_ok: bool = False
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    inferred_values: int = 0

    @property
    def passed(self) -> bool:
        return self.checker_ok and self.shape_inference_ok and not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "passed": self.passed,
            "checker": self.checker_ok,
            "shape_inference": self.shape_inference_ok,
            "inferred_values": self.inferred_values,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def check(model: ModelLike) -> CheckReport:
    """Run ``onnx.checker.check_model(full_check=True)`` and strict shape inference on ``model`` (a handle or a path).

    A file that is not ONNX at all raises :class:`~pt2trt.errors.Pt2trtError`; a model that loads but breaks
    the spec is a report with ``errors``.
    """
    from onnx import checker, shape_inference

    # Weights in external data files stay on disk: the checker reads them through the path, shape inference only
    # needs the graph (loading them would also break the 2 GB protobuf limit that external data exists to avoid).
    handle = OnnxModel.of(model)
    proto = handle.proto
    report = CheckReport(handle.path or Path(handle.name))
    try:
        if handle.path is not None and (handle.has_external_data or handle.path.stat().st_size > 2_000_000_000):
            checker.check_model(str(handle.path), full_check=True)  # the path form handles external data / > 2 GB
        else:
            checker.check_model(proto, full_check=True)
        report.checker_ok = True
    except checker.ValidationError as exc:
        report.errors.append("checker: " + _clean(str(exc)))
    except Exception as exc:  # shape inference inside full_check raises its own error types
        report.errors.append(f"checker: {type(exc).__name__}: {_clean(str(exc))}")
    try:
        inferred = shape_inference.infer_shapes(proto, check_type=True, strict_mode=True, data_prop=True)
        report.shape_inference_ok = True
        report.inferred_values = len(inferred.graph.value_info)
        report.warnings.extend(_unknown_output_shapes(inferred))
    except Exception as exc:
        report.errors.append(f"shape inference: {_clean(str(exc))}")
    if not proto.graph.output:
        report.errors.append("graph has no outputs")
    return report


def _unknown_output_shapes(model: Any) -> list[str]:
    notes = []
    for out in model.graph.output:
        if not out.type.tensor_type.HasField("shape"):
            notes.append(f"output '{out.name}' has no inferred shape (rank unknown)")
    return notes


def _clean(text: str) -> str:
    """One readable line from the checker's multi-line messages."""
    text = re.sub(r"\s+", " ", text).strip()
    return text[:500]
