"""What ``eval`` returns: per model and backend its metrics, per-class figures and deltas against the reference."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pt2trt.evaluation.significance import ALPHA

#: each task's metrics, the first one being the one ``--max-drop`` judges
TASK_METRICS = {
    "classify": ("top1", "top5"),
    "detect": ("map", "map50", "map75"),
    "segment": ("miou", "pixel_accuracy"),
}


def _number(value: float | None, digits: int = 6) -> float | None:
    """JSON-friendly: NaN (undefined, e.g. no ground truth) becomes null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


@dataclass
class MetricDelta:
    """One metric of a model against the reference: the difference (a fraction) and its paired significance."""

    metric: str
    reference: float | None
    value: float | None
    #: "mcnemar" (exact, on the flipped samples), "bootstrap" (paired, over images) or "none"
    test: str
    p_value: float | None = None
    low: float | None = None  # bootstrap interval of the difference
    high: float | None = None
    #: McNemar's discordant samples: (right for the reference only, right for this model only)
    flipped: tuple[int, int] | None = None
    rounds: int | None = None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.reference is None or math.isnan(self.value) or math.isnan(self.reference):
            return None
        return self.value - self.reference

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "reference": _number(self.reference),
            "value": _number(self.value),
            "delta": _number(self.delta),
            "test": self.test,
            "p_value": _number(self.p_value, 6),
            "significant": self.significant,
        }
        if self.flipped is not None:
            out["worse"], out["better"] = self.flipped
        if self.low is not None:
            out["interval"] = [_number(self.low), _number(self.high)]
            out["rounds"] = self.rounds
        return out


@dataclass
class ClassScore:
    """One class's figure (AP, or IoU) and how much ground truth it rests on (boxes, or pixels)."""

    id: int
    name: str
    value: float | None
    support: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "value": _number(self.value), "support": self.support}


@dataclass
class ModelEvaluation:
    """One model on one backend, scored on the data."""

    model: str
    backend: str
    preprocess: str
    metrics: dict[str, float]
    per_class: list[ClassScore]
    images: int
    seconds: float
    reference: bool = False
    deltas: list[MetricDelta] = field(default_factory=list)
    #: images whose answer differs from the reference's (see the task's scorer), and the pictures saved of them
    changed: int = 0
    saved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.model} ({self.backend})"

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0

    def delta(self, metric: str) -> MetricDelta | None:
        return next((d for d in self.deltas if d.metric == metric), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "backend": self.backend,
            "reference": self.reference,
            "preprocess": self.preprocess,
            "images": self.images,
            "metrics": {k: _number(v) for k, v in self.metrics.items()},
            "deltas": {d.metric: d.to_dict() for d in self.deltas},
            "per_class": [c.to_dict() for c in self.per_class],
            "changed": self.changed,
            "saved": self.saved,
            "seconds": round(self.seconds, 3),
            "images_per_second": round(self.images_per_second, 2),
            "notes": self.notes,
            "warnings": self.warnings,
        }


@dataclass
class EvalReport:
    """Every model's evaluation on the same data; the first is the reference."""

    task: str
    data: str
    images: int
    evaluations: list[ModelEvaluation]
    max_drop: float | None = None  # points (percentage points) of the primary metric
    notes: list[str] = field(default_factory=list)

    @property
    def primary(self) -> str:
        return TASK_METRICS[self.task][0]

    @property
    def reference(self) -> ModelEvaluation:
        return self.evaluations[0]

    def drop(self, evaluation: ModelEvaluation) -> float | None:
        """How many points ``evaluation``'s primary metric lies below the reference's (negative: above)."""
        delta = evaluation.delta(self.primary)
        return None if delta is None or delta.delta is None else -100 * delta.delta

    @property
    def failures(self) -> list[str]:
        """The models whose drop exceeds ``max_drop`` (or whose metric is undefined), one line each."""
        if self.max_drop is None:
            return []
        out = []
        for evaluation in self.evaluations[1:]:
            drop = self.drop(evaluation)
            if drop is None:
                out.append(f"{evaluation.label}: {self.primary} is undefined")
            elif drop > self.max_drop:
                out.append(f"{evaluation.label}: {self.primary} dropped {drop:.2f} points (limit {self.max_drop:g})")
        return out

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "data": self.data,
            "images": self.images,
            "primary_metric": self.primary,
            "max_drop": self.max_drop,
            "passed": self.passed,
            "failures": self.failures,
            "models": [e.to_dict() for e in self.evaluations],
            "notes": self.notes,
        }
