"""Segmentation scores: mean IoU, per-class IoU and pixel accuracy from confusion matrices (pixels labelled 255 are
not scored). A class enters the mean when it is in the labels or the predictions (its union is not empty).

Each image's confusion is kept sparse (the (label, predicted) pairs it has, with their pixel counts), so that a
bootstrap draw sums the drawn images' confusions without revisiting any pixel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pt2trt.errors import Pt2trtError
from pt2trt.evaluation.datasets import SegmentationData
from pt2trt.evaluation.results import ClassScore
from pt2trt.evaluation.scoring import Scorer, Scores
from pt2trt.tasks import Result, Task

#: an image's answer "changed" when its pixel accuracy moved by at least this much
CHANGED_ACCURACY = 0.01


def iou_from_confusion(confusion: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Per-class IoU (NaN where a class is in neither labels nor predictions), their mean, and pixel accuracy."""
    confusion = np.asarray(confusion, dtype=np.float64)
    hits = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, hits / union, np.nan)
    total = confusion.sum()
    mean = float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")
    return iou, mean, float(hits.sum() / total) if total else float("nan")


class SegmentScores(Scores):
    def __init__(self, entries: tuple[np.ndarray, np.ndarray, np.ndarray], classes: int, **kw: Any) -> None:
        self.image, self.pair, self.count = entries  # sparse confusions: image index, label * classes + pred, pixels
        self.classes = classes
        confusion = np.bincount(self.pair, weights=self.count, minlength=classes * classes).reshape(classes, classes)
        self.confusion = confusion
        iou, miou, accuracy = iou_from_confusion(confusion)
        self.iou = iou
        self.metrics = {"miou": miou, "pixel_accuracy": accuracy}
        self.per_class: list[ClassScore] = kw["per_class"](iou, confusion)
        self.notes: list[str] = kw["notes"]
        images = kw["images"]
        correct = np.bincount(self.image, weights=self.count * self._diagonal(), minlength=images)
        total = np.bincount(self.image, weights=self.count, minlength=images)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.image_accuracy = np.where(total > 0, correct / total, np.nan)

    def _diagonal(self) -> np.ndarray:
        return (self.pair // self.classes == self.pair % self.classes).astype(np.float64)

    def resampled(self, metric: str, counts: np.ndarray) -> float:
        weights = counts[self.image] * self.count
        confusion = np.bincount(self.pair, weights=weights, minlength=self.classes**2).reshape(self.classes, -1)
        _, miou, accuracy = iou_from_confusion(confusion)
        return miou if metric == "miou" else accuracy

    def changed(self, reference: Scores) -> list[int]:
        assert isinstance(reference, SegmentScores)
        moved = np.abs(np.nan_to_num(self.image_accuracy) - np.nan_to_num(reference.image_accuracy))
        return [int(i) for i in np.flatnonzero(moved >= CHANGED_ACCURACY)]


class SegmentScorer(Scorer):
    metric_names = ("miou", "pixel_accuracy")
    data: SegmentationData

    def __init__(self, data: Any, context: Any) -> None:
        super().__init__(data, context)
        self.entries: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # image, label, pred, pixels
        self.classes = 0

    def targets(self, workers: int) -> Iterator[Any]:
        from pt2trt.prediction.prefetch import ordered_map

        return ordered_map(self.data.load_mask, range(len(self.data)), workers=min(1, workers), ahead=8)

    def add(self, index: int, result: Result, target: Any, task: Task) -> None:
        from pt2trt.tasks.segment import Segmentation

        assert isinstance(result, Segmentation)
        label, predicted = np.asarray(target), np.asarray(result.mask)
        if label.shape != predicted.shape:  # sizes were checked when the data was read: a bug if it happens
            raise RuntimeError(f"mask {label.shape} and prediction {predicted.shape} differ for image {index}")
        ignore = self.data.ignore_index
        present = np.bincount(label.ravel())
        if ignore < len(present):
            present[ignore] = 0
        top = int(np.flatnonzero(present)[-1]) if present.any() else 0
        model_classes = task.class_count
        if model_classes is not None and top >= model_classes:
            raise Pt2trtError(
                f"mask {self.data.masks[index]} holds class {top} but the model has {model_classes} classes "
                f"(0-{model_classes - 1}): unknown class",
                f"Check the masks' class indices (ignored pixels must be {ignore})",
            )
        size = max(top, int(predicted.max(initial=0)), (model_classes or 1) - 1) + 1
        code = label.astype(np.int64) * size + predicted
        code[label == ignore] = size * size  # one more bin for the pixels not scored, dropped below
        counts = np.bincount(code.ravel(), minlength=size * size + 1)[: size * size]
        pairs = np.flatnonzero(counts)
        self.entries.append((index, pairs // size, pairs % size, counts[pairs]))
        self.classes = max(self.classes, size)
        if self.context.keep:
            dtype = np.uint8 if size <= 256 else np.uint16
            self.kept[index] = Segmentation(result.mask.astype(dtype))

    def finish(self, task: Task) -> SegmentScores:
        k = max(self.classes, 1)
        image = np.concatenate([np.full(len(p), i) for i, p, _, _ in self.entries]) if self.entries else np.zeros(0)
        labels = np.concatenate([lab for _, lab, _, _ in self.entries]) if self.entries else np.zeros(0)
        predicted = np.concatenate([p for _, _, p, _ in self.entries]) if self.entries else np.zeros(0)
        counts = np.concatenate([c for _, _, _, c in self.entries]) if self.entries else np.zeros(0)
        entries = (image.astype(np.int64), (labels * k + predicted).astype(np.int64), counts.astype(np.float64))
        names = self.context.labels

        def per_class(iou: np.ndarray, confusion: np.ndarray) -> list[ClassScore]:
            support = confusion.sum(axis=1)
            return [
                ClassScore(c, names(c), None if np.isnan(iou[c]) else float(iou[c]), int(support[c]))
                for c in range(k)
                if not np.isnan(iou[c])
            ]

        notes = []
        if task.resolved_layout == "yolo-seg":
            notes.append("yolo-seg: instance class c is painted as c + 1 (0 = no instance), the masks are read so")
        return SegmentScores(entries, k, per_class=per_class, notes=notes, images=len(self.data))

    def truth(self, index: int) -> Result:
        from pt2trt.tasks.segment import Segmentation

        mask = self.data.load_mask(index)
        return Segmentation(np.where(mask == self.data.ignore_index, 0, mask))
