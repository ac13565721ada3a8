"""What every task's scorer shares: collect one model's answers image by image, then its figures and its deltas
against the reference's (same images, same order)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from pt2trt.evaluation.results import ClassScore, MetricDelta
from pt2trt.evaluation.significance import Bootstrap, mcnemar_exact, paired_difference

if TYPE_CHECKING:
    from pt2trt.evaluation.datasets import LabelledData
    from pt2trt.tasks import Labels, Result, Task


@dataclass
class ScoringContext:
    """What a scorer needs beyond the data: the model's class names and the settings that shape the scores."""

    labels: Labels
    #: class names the model records in its metadata (ultralytics' ``names``); {} when it records none
    model_names: dict[int, str] = field(default_factory=dict)
    class_map: str | None = None
    #: keep each image's answer for drawing the changed ones (``--save``)
    keep: bool = False
    #: detections at or above this score are drawn and decide whether an image's answer changed
    draw_conf: float = 0.25


class Scores(ABC):
    """One model's figures, and what the paired comparison with the reference needs."""

    metrics: dict[str, float]
    per_class: list[ClassScore]
    notes: list[str]

    @abstractmethod
    def changed(self, reference: Scores) -> list[int]:
        """Indices of the images whose answer differs from ``reference``'s."""

    def deltas(self, reference: Scores, bootstrap: Bootstrap | None) -> list[MetricDelta]:
        """Each metric against ``reference``'s, with a bootstrap interval when ``bootstrap`` is given."""
        out = []
        for name in self.metrics:
            delta = MetricDelta(name, reference.metrics[name], self.metrics[name], "none")
            if bootstrap is not None and bootstrap.rounds:
                interval = paired_difference(_resampler(reference, name), _resampler(self, name), bootstrap)
                delta.test, delta.p_value = "bootstrap", interval.p_value
                delta.low, delta.high, delta.rounds = interval.low, interval.high, interval.rounds
            out.append(delta)
        return out

    def resampled(self, metric: str, counts: np.ndarray) -> float:
        """``metric`` with image ``i`` counted ``counts[i]`` times (a bootstrap draw)."""
        raise NotImplementedError


def _resampler(scores: Scores, metric: str) -> Callable[[np.ndarray], float]:
    return lambda counts: scores.resampled(metric, counts)


class Scorer(ABC):
    """Collects one model's answers on ``data`` (``add`` per image, in order), then :meth:`finish`."""

    metric_names: ClassVar[tuple[str, ...]]

    def __init__(self, data: LabelledData, context: ScoringContext) -> None:
        self.data = data
        self.context = context
        self.kept: dict[int, Result] = {}

    def targets(self, workers: int) -> Iterator[Any]:
        """Each image's label, in order, loaded ahead when it is costly (masks); None when the data holds it."""
        return iter([None] * len(self.data))

    @abstractmethod
    def add(self, index: int, result: Result, target: Any, task: Task) -> None:
        """Score image ``index``'s ``result`` (decoded by ``task``)."""

    @abstractmethod
    def finish(self, task: Task) -> Scores:
        """The figures, once every image was added."""

    @abstractmethod
    def truth(self, index: int) -> Result:
        """Image ``index``'s label as a result the task can draw."""


def mcnemar_delta(name: str, reference: np.ndarray, other: np.ndarray) -> MetricDelta:
    """A per-image right/wrong metric against the reference's: exact McNemar on the flipped images."""
    worse = int(np.count_nonzero(reference & ~other))
    better = int(np.count_nonzero(~reference & other))
    value = float(other.mean()) if other.size else math.nan
    ref = float(reference.mean()) if reference.size else math.nan
    return MetricDelta(name, ref, value, "mcnemar", mcnemar_exact(worse, better), flipped=(worse, better))
