"""What a measured figure may claim: agreement as a count with its 95 % interval, and a verdict per output.

* :class:`Agreement`: ``agreed`` of ``total`` (images for classify, boxes for detect, pixels for segment) on
  ``images`` samples, with the Wilson score interval (counts of images and boxes; pixels of one image are not
  independent, so a pixel agreement gets no interval). Fewer than :data:`MIN_SAMPLES` samples, or an interval that
  reaches below the target, is said aloud: too few to conclude.
* :func:`judge_output`: each output on its own, for models without a task metric (a detector's raw heads): cosine
  similarity, correlation (the cosine of the centred values: a large common offset cannot hide a lost signal),
  relative error ``||b - a|| / ||a||`` and spread ratio ``std(b) / std(a)``. An output whose cosine or correlation
  falls below :data:`COLLAPSED_COSINE`, whose relative error exceeds :data:`COLLAPSED_REL_ERROR`, or whose spread
  shrinks or grows by 2x has **collapsed**: the converted model no longer computes that output. Below
  :data:`DEGRADED_COSINE` it is **degraded**.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Z95 = 1.959964
MIN_SAMPLES = 30
COLLAPSED_COSINE = 0.9
COLLAPSED_REL_ERROR = 0.5
COLLAPSED_SPREAD = 2.0
DEGRADED_COSINE = 0.99
DEGRADED_REL_ERROR = 0.1


def wilson(agreed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``agreed / total`` (0-1); (0, 1) for no sample."""
    if total <= 0:
        return 0.0, 1.0
    p = agreed / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Agreement:
    """``agreed`` of ``total`` units (``unit``: images, boxes, pixels) agree, measured on ``images`` samples."""

    metric: str  # "top-1 agreement", "boxes agreeing", "pixel agreement"
    agreed: int
    total: int
    unit: str
    images: int
    detail: str = ""  # "at IoU >= 0.5, same class"

    @property
    def fraction(self) -> float:
        return self.agreed / self.total if self.total else 1.0

    @property
    def interval(self) -> tuple[float, float] | None:
        """95 % Wilson interval, for independent units (images, boxes); None for pixels."""
        return wilson(self.agreed, self.total) if self.unit != "pixels" and self.total else None

    def too_few(self, target: float | None = None) -> str | None:
        """Why this figure cannot settle the question, or None."""
        low = self.interval[0] if self.interval else None
        if self.images < MIN_SAMPLES:
            return (
                f"{self.images} sample{'s' if self.images != 1 else ''}: too few to conclude"
                + (f" (the 95 % interval reaches down to {low:.0%})" if low is not None else "")
                + f"; measure on {MIN_SAMPLES} or more"
            )
        if target is not None and low is not None and self.fraction >= target > low:
            return f"the 95 % interval reaches down to {low:.1%}, below the target {target:g}: measure on more samples"
        return None

    def text(self) -> str:
        """``top-1 agreement 15/16 = 93.8 % (95 % CI 71.7-98.9 %) on 16 samples``."""
        figure = f"{self.metric} {self.agreed}/{self.total} = {_pct(self.fraction)}"
        if self.interval is not None:
            low, high = self.interval
            figure += f" (95 % CI {_pct(low, unit=False)}-{_pct(high)})"
        if self.detail:
            figure += f" {self.detail}"
        if self.unit != "images":
            figure += f" on {self.images} sample{'s' if self.images != 1 else ''}"
        return figure

    def to_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "metric": self.metric,
            "agreed": self.agreed,
            "total": self.total,
            "unit": self.unit,
            "samples": self.images,
            "fraction": self.fraction,
            "ci95": list(interval) if interval else None,
            "detail": self.detail,
        }


def _pct(value: float, unit: bool = True) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text} %" if unit else text


def agreement_of(task: Any) -> Agreement | None:
    """The deciding figure of a :class:`~pt2trt.comparators.tasks.TaskComparison`, as counts."""
    per_image = task.per_image
    images = task.images
    if task.task == "classify":
        agreed = sum(1 for r in per_image if r.get("top1_a") == r.get("top1_b"))
        return Agreement("top-1 agreement", agreed, images, "images", images)
    metrics = task.metrics
    if "matched" in metrics and task.task != "segment":
        most = max(int(metrics.get("detections_a") or 0), int(metrics.get("detections_b") or 0))
        matched = int(metrics.get("matched") or 0)
        agreeing = max(most - int(metrics.get("unexplained_differences") or 0), matched)
        detail = f"({matched} matched at IoU >= 0.5 with the same class, {agreeing - matched} at a decision boundary)"
        return Agreement("boxes agreeing", agreeing, most, "boxes", images, detail)
    if "pixel_agreement" in metrics:
        fraction = float(metrics["pixel_agreement"] or 0.0)
        scale = 10_000
        return Agreement("pixel agreement", round(fraction * scale), scale, "pixels", images)
    return None


@dataclass
class OutputJudgement:
    """One output's verdict: close, degraded, collapsed, or not compared (and why)."""

    name: str
    verdict: str
    cosine: float | None = None
    correlation: float | None = None
    rel_error: float | None = None
    spread: float | None = None
    why: str = ""

    @property
    def collapsed(self) -> bool:
        return self.verdict == "collapsed"

    def text(self) -> str:
        why = f" ({self.why})" if self.why else ""
        figures = self.figures()
        return f"{self.verdict}{why}" + (f": {figures}" if figures else "")

    def figures(self) -> str:
        figures = []
        if self.cosine is not None:
            figures.append(f"cosine {self.cosine:.4f}")
        if self.correlation is not None:
            figures.append(f"correlation {self.correlation:.4f}")
        if self.rel_error is not None:
            figures.append(f"relative error {self.rel_error:.3g}")
        if self.spread is not None:
            figures.append(f"spread x{self.spread:.3g}")
        return ", ".join(figures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "cosine": self.cosine,
            "correlation": self.correlation,
            "relative_error": self.rel_error,
            "spread_ratio": self.spread,
            "why": self.why,
        }


def judge_output(name: str, reference: Sequence[np.ndarray], candidate: Sequence[np.ndarray]) -> OutputJudgement:
    """Judge one output from its per-sample arrays on both sides (pairs of different shapes are not compared)."""
    pairs = [(np.asarray(a), np.asarray(b)) for a, b in zip(reference, candidate)]
    if pairs and all(a.dtype.kind not in "fc" for a, _ in pairs):
        return OutputJudgement(name, "not compared", why="not a float output")
    same = [(a, b) for a, b in pairs if a.shape == b.shape]
    if not same:
        return OutputJudgement(name, "not compared", why="its shape depends on the data and differs on every sample")
    a = np.concatenate([x.reshape(-1) for x, _ in same]).astype(np.float64)
    b = np.concatenate([y.reshape(-1) for _, y in same]).astype(np.float64)
    finite = np.isfinite(a) & np.isfinite(b)
    a, b = a[finite], b[finite]
    norm_a, norm_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if a.size == 0 or norm_a == 0.0:
        return OutputJudgement(name, "not compared", why="FP32 output is empty or all zeros")
    cosine = float(a @ b / (norm_a * norm_b)) if norm_b else 0.0
    rel = float(np.linalg.norm(b - a) / norm_a)
    spread_a = float(a.std())
    spread = float(b.std() / spread_a) if spread_a > 0 else None
    correlation = None
    if spread_a > 0 and b.std() > 0:
        ca, cb = a - a.mean(), b - b.mean()
        correlation = float(ca @ cb / (np.linalg.norm(ca) * np.linalg.norm(cb)))
    skipped = len(pairs) - len(same)
    why = f"{skipped} of {len(pairs)} samples of another shape not compared" if skipped else ""
    lowest = min(cosine, correlation if correlation is not None else cosine)
    if (
        lowest < COLLAPSED_COSINE
        or rel > COLLAPSED_REL_ERROR
        or (spread is not None and not 1 / COLLAPSED_SPREAD <= spread <= COLLAPSED_SPREAD)
    ):
        verdict = "collapsed"
    elif lowest < DEGRADED_COSINE or rel > DEGRADED_REL_ERROR:
        verdict = "degraded"
    else:
        verdict = "close"
    return OutputJudgement(name, verdict, cosine, correlation, rel, spread, why)
