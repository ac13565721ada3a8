"""Classification scores: top-1 and top-5 accuracy, per-class top-1 accuracy, McNemar on the flipped images."""

from __future__ import annotations

from typing import Any

import numpy as np

from pt2trt.errors import Pt2trtError
from pt2trt.evaluation.datasets import ClassificationData
from pt2trt.evaluation.results import ClassScore, MetricDelta
from pt2trt.evaluation.scoring import Scorer, Scores, mcnemar_delta
from pt2trt.evaluation.significance import Bootstrap
from pt2trt.tasks import Result, Task

TOP_K = 5


class ClassifyScores(Scores):
    def __init__(self, top: np.ndarray, targets: np.ndarray, per_class: list[Any], notes: list[str]) -> None:
        self.top, self.targets = top, targets
        self.top1 = top[:, 0] == targets
        self.topk = (top == targets[:, None]).any(axis=1)
        self.metrics = {"top1": float(self.top1.mean()), "top5": float(self.topk.mean())}
        self.per_class = per_class
        self.notes = notes

    def deltas(self, reference: Scores, bootstrap: Bootstrap | None) -> list[MetricDelta]:
        assert isinstance(reference, ClassifyScores)
        return [mcnemar_delta("top1", reference.top1, self.top1), mcnemar_delta("top5", reference.topk, self.topk)]

    def changed(self, reference: Scores) -> list[int]:
        assert isinstance(reference, ClassifyScores)
        return [int(i) for i in np.flatnonzero(reference.top[:, 0] != self.top[:, 0])]


class ClassifyScorer(Scorer):
    metric_names = ("top1", "top5")
    data: ClassificationData

    def __init__(self, data: Any, context: Any) -> None:
        super().__init__(data, context)
        self.top = np.full((len(data), TOP_K), -1, dtype=np.int64)
        self.classes: int | None = None

    def add(self, index: int, result: Result, target: Any, task: Task) -> None:
        from pt2trt.tasks.classify import Classification

        assert isinstance(result, Classification)
        k = min(TOP_K, result.probabilities.size)
        order = np.argsort(-result.probabilities, kind="stable")[:k]
        self.top[index, :k] = order
        self.classes = result.probabilities.size
        expected = self.data.targets[index]
        if expected >= self.classes:
            raise Pt2trtError(
                f"{self.data.samples[index].name} is labelled class {expected} "
                f"({self.data.class_names.get(expected, expected)}) but the model has {self.classes} classes: "
                "unknown class",
                "Pass --labels with the model's class names so that folders are matched by name",
            )
        if self.context.keep:
            self.kept[index] = _compact(result, order)

    def finish(self, task: Task) -> ClassifyScores:
        targets = np.asarray(self.data.targets, dtype=np.int64)
        notes = []
        if self.classes is not None and self.classes < TOP_K:
            notes.append(f"the model has {self.classes} classes: top5 counts the top {self.classes}")
        folders = len(self.data.class_names)
        if self.classes is not None and folders < self.classes and not self.context.labels.names:
            notes.append(
                f"the data has {folders} class folders and the model {self.classes} classes: folders are read as "
                f"classes 0-{folders - 1} in sorted order; pass --labels to match them by name"
            )
        correct = self.top[:, 0] == targets
        per_class = [
            ClassScore(c, name, float(correct[targets == c].mean()) if (targets == c).any() else None,
                       int((targets == c).sum()))
            for c, name in sorted(self.data.class_names.items())
            if (targets == c).any()
        ]  # fmt: skip
        return ClassifyScores(self.top, targets, per_class, notes)

    def truth(self, index: int) -> Result:
        from pt2trt.tasks.classify import Classification

        target = self.data.targets[index]
        probabilities = np.zeros(max(self.classes or 0, target + 1))
        probabilities[target] = 1.0
        return Classification(probabilities, False, top_k=1)


def _compact(result: Any, order: np.ndarray) -> Result:
    """The top classes only (a full probability vector per image would hold ImageNet's 1000 floats)."""
    from pt2trt.tasks.classify import Classification

    probabilities = np.zeros_like(result.probabilities)
    probabilities[order] = result.probabilities[order]
    return Classification(probabilities, result.from_logits, top_k=3)
