"""Detection scores: COCO mAP@[.5:.95], mAP@.5, mAP@.75 and per-category AP through pycocotools, on boxes in the
original pictures' pixels, with the model's classes mapped to the data's category ids (:mod:`class_map`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pt2trt.evaluation.class_map import ClassMap, resolve_class_map
from pt2trt.evaluation.coco_map import CocoEvaluation, coco_evaluate, require_pycocotools
from pt2trt.evaluation.datasets import DetectionData
from pt2trt.evaluation.results import ClassScore
from pt2trt.evaluation.scoring import Scorer, Scores
from pt2trt.tasks import Result, Task
from pt2trt.tasks.boxes import box_iou

#: IoU at which a drawn box counts as finding a ground-truth box (for "did this image's answer change")
MATCH_IOU = 0.5


class DetectScores(Scores):
    def __init__(
        self, evaluation: CocoEvaluation, positions: np.ndarray, outcomes: list[tuple[int, int]], **kw: Any
    ) -> None:
        self.evaluation = evaluation
        self.positions = positions  # sample index -> the evaluation's image position
        self.outcomes = outcomes  # per image: (ground-truth boxes found, false boxes) at the drawing threshold
        self.metrics = {k: evaluation.stats[k] for k in ("map", "map50", "map75")}
        self.per_class: list[ClassScore] = kw["per_class"]
        self.notes: list[str] = kw["notes"]
        self.class_map: ClassMap = kw["class_map"]

    def resampled(self, metric: str, counts: np.ndarray) -> float:
        weights = np.zeros(len(self.evaluation.image_positions))
        weights[self.positions] = counts
        iou = {"map": None, "map50": 0.5, "map75": 0.75}[metric]
        return self.evaluation.ap(weights, iou)

    def changed(self, reference: Scores) -> list[int]:
        assert isinstance(reference, DetectScores)
        return [i for i, (a, b) in enumerate(zip(reference.outcomes, self.outcomes)) if a != b]


class DetectScorer(Scorer):
    metric_names = ("map", "map50", "map75")
    data: DetectionData

    def __init__(self, data: Any, context: Any) -> None:
        require_pycocotools()
        super().__init__(data, context)
        self.answers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, index: int, result: Result, target: Any, task: Task) -> None:
        from pt2trt.tasks.detect import Detections

        assert isinstance(result, Detections)
        boxes = np.asarray(result.boxes, dtype=np.float64).reshape(-1, 4)
        self.answers.append((boxes, np.asarray(result.scores, np.float64), np.asarray(result.classes, np.int64)))
        if self.context.keep:
            keep = result.scores >= self.context.draw_conf
            self.kept[index] = Detections(boxes[keep], result.scores[keep], result.classes[keep])

    def finish(self, task: Task) -> DetectScores:
        categories = self.data.class_names
        model_names = self.context.model_names or dict(self.context.labels.names)
        class_map = resolve_class_map(
            self.context.class_map, categories, model_names, task.class_count, task.resolved_layout
        )
        results, dropped = self._results(class_map.mapping)
        notes = [f"class map: {class_map.rule}"] if not class_map.guessed else []
        notes += class_map.notes
        if dropped:
            notes.append(f"{dropped} detection(s) of classes with no category in the data were left out")
        evaluation = coco_evaluate(self.data.coco, results)
        support: dict[int, int] = {}
        for ann in self.data.coco["annotations"]:
            if not ann["iscrowd"]:
                support[ann["category_id"]] = support.get(ann["category_id"], 0) + 1
        per_class = [
            ClassScore(c, categories[c], evaluation.per_category.get(c), support.get(c, 0)) for c in sorted(categories)
        ]
        positions = np.array([evaluation.image_positions[i] for i in self.data.image_ids], dtype=np.int64)
        outcomes = [self._outcome(i, class_map.mapping) for i in range(len(self.answers))]
        return DetectScores(evaluation, positions, outcomes, per_class=per_class, notes=notes, class_map=class_map)

    def _results(self, mapping: dict[int, int]) -> tuple[list[dict[str, Any]], int]:
        results, dropped = [], 0
        for image_id, (boxes, scores, classes) in zip(self.data.image_ids, self.answers):
            for box, score, cls in zip(boxes.tolist(), scores.tolist(), classes.tolist()):
                category = mapping.get(int(cls))
                if category is None:
                    dropped += 1
                    continue
                x1, y1, x2, y2 = box
                results.append(
                    {"image_id": image_id, "category_id": category, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score}
                )
        return results, dropped

    def _outcome(self, index: int, mapping: dict[int, int]) -> tuple[int, int]:
        """(ground-truth boxes found, false boxes) among the boxes drawn, matched greedily by score at IoU 0.5."""
        boxes, scores, classes = self.answers[index]
        keep = scores >= self.context.draw_conf
        boxes, classes = boxes[keep], np.array([mapping.get(int(c), -1) for c in classes[keep]], dtype=np.int64)
        truth, truth_classes = self.data.boxes_of(index)
        iou = box_iou(boxes, truth) * (classes[:, None] == truth_classes[None, :])
        taken = np.zeros(len(truth), dtype=bool)
        found = 0
        for row in iou:  # boxes are best first
            free = np.where(taken, -1.0, row)
            j = int(np.argmax(free)) if free.size else -1
            if j >= 0 and free[j] >= MATCH_IOU:
                taken[j] = True
                found += 1
        return found, len(boxes) - found

    def truth(self, index: int) -> Result:
        from pt2trt.tasks.detect import Detections

        boxes, classes = self.data.boxes_of(index)
        return Detections(boxes, np.ones(len(boxes)), classes)
