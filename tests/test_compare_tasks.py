"""Task-aware comparators on hand-made results with known answers, and ``verify --task`` on a small model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pt2trt
from pt2trt.comparators.tasks import (
    compare_classifications,
    compare_detections,
    compare_results,
    compare_segmentations,
    compare_task_outputs,
    match_boxes,
)
from pt2trt.errors import Pt2trtError
from pt2trt.settings import ExportSettings
from pt2trt.shapes import parse_input
from pt2trt.tasks.classify import Classification
from pt2trt.tasks.detect import Detections
from pt2trt.tasks.segment import Segmentation


def cls(*probs: float) -> Classification:
    return Classification(np.array(probs), from_logits=False)


def dets(boxes: list, scores: list, classes: list) -> Detections:
    return Detections(np.array(boxes, float).reshape(-1, 4), np.array(scores, float), np.array(classes, int))


def test_classification_agreement_figures() -> None:
    a = [cls(0.7, 0.2, 0.1, 0, 0, 0), cls(0.1, 0.5, 0.4, 0, 0, 0)]
    b = [cls(0.6, 0.3, 0.1, 0, 0, 0), cls(0.1, 0.4, 0.5, 0, 0, 0)]  # image 2: top-1 flips, top-5 set unchanged
    result = compare_classifications(a, b, min_agreement=0.5)
    assert result.metrics["top1_agreement"] == 0.5 and result.metrics["top5_agreement"] == 1.0
    assert result.metrics["max_probability_difference"] == pytest.approx(0.1)
    assert result.passed and not compare_classifications(a, b).passed  # default 99%
    c = [cls(0.7, 0.2, 0.1, 0, 0, 0), cls(0, 0, 0, 0, 0.5, 0.5)]
    assert compare_classifications(a, c).metrics["top5_agreement"] == 0.5
    with pytest.raises(Pt2trtError, match="6 and 3 classes"):
        compare_classifications(a[:1], [cls(1, 0, 0)])


def test_box_matching_is_one_to_one_within_a_class() -> None:
    a = dets([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60], [80, 80, 90, 90]], [0.9, 0.8, 0.7, 0.6], [0, 0, 1, 2])
    b = dets([[0, 0, 10, 11], [50, 50, 60, 60], [100, 100, 110, 110]], [0.85, 0.75, 0.5], [0, 2, 2])
    m = match_boxes(a, b)
    assert m.pairs == [(0, 0)] and m.ious == [pytest.approx(10 / 11)]
    assert m.unmatched_a == [1, 2, 3] and m.unmatched_b == [1, 2]  # (2, 1) overlap but classes differ
    result = compare_detections([a], [b])
    assert result.metrics["matched"] == 1 and result.metrics["matched_fraction"] == 0.25
    assert result.metrics["mean_score_difference"] == pytest.approx(0.05)
    assert (result.metrics["unmatched_a"], result.metrics["unmatched_b"]) == (3, 2)
    assert not result.passed


def test_empty_detections_are_results() -> None:
    empty, some = Detections.empty(), dets([[0, 0, 1, 1]], [0.5], [0])
    both = compare_detections([empty, empty], [empty, empty])
    assert both.passed and both.metrics["matched_fraction"] == 1.0 and both.metrics["mean_iou"] is None
    one = compare_detections([empty], [some])
    assert not one.passed and one.metrics["unmatched_b"] == 1 and one.metrics["matched_fraction"] == 0.0
    assert "nothing to compare" in " ".join(both.summary())


def test_segmentation_pixel_agreement_and_mean_iou() -> None:
    a = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
    b = np.array([[0, 0, 0, 1], [0, 0, 1, 1]])
    result = compare_segmentations([Segmentation(a)], [Segmentation(b)], min_agreement=0.8)
    assert result.metrics["pixel_agreement"] == 7 / 8
    assert result.metrics["mean_iou_masks"] == pytest.approx(np.mean([4 / 5, 3 / 4]))
    assert result.passed and not compare_segmentations([Segmentation(a)], [Segmentation(b)]).passed
    with pytest.raises(Pt2trtError, match="cannot be compared"):
        compare_segmentations([Segmentation(a)], [Segmentation(a[:1])])
    with pytest.raises(Pt2trtError, match="different images"):
        compare_results("segment", [Segmentation(a)], [])


def test_compare_task_outputs_decodes_raw_outputs() -> None:
    reference = {"logits": np.array([[1.0, 3.0, 2.0], [5.0, 0.0, 0.0]], np.float32)}
    candidate = {"logits": np.array([[1.0, 2.0, 3.0], [5.0, 0.0, 0.1]], np.float32)}
    result = compare_task_outputs("classify", reference, candidate, (2, 3, 8, 8))
    assert result.metrics["top1_agreement"] == 0.5 and result.images == 2
    boxes = {"boxes": np.zeros((0, 4), np.float32), "scores": np.zeros(0, np.float32), "labels": np.zeros(0)}
    assert compare_task_outputs("detect", boxes, boxes, (1, 3, 8, 8)).passed  # no detections either side


def test_verify_with_task(tmp_path: Path) -> None:
    path = tmp_path / "seednet.onnx"
    pt2trt.export("pt2trt.models:SeedNet", [parse_input("input:2x3x28x28")], path, ExportSettings(exporter="legacy"))
    result = pt2trt.verify("pt2trt.models:SeedNet", path, task="classify")
    assert result.task_comparison is not None and result.passed
    assert result.task_comparison.metrics["top1_agreement"] == 1.0 and result.task_comparison.images == 2
    record = result.to_dict()
    assert record["task"]["task"] == "classify" and record["passed"] is True


# -- decision boundaries and small sets --------------------------------------------------------------------------
def _grid_boxes(count: int, offset: float = 0.0) -> list:
    return [[i * 20 + offset, 0, i * 20 + 10 + offset, 10] for i in range(count)]


def test_ties_at_the_cut_off_are_decision_boundaries_not_errors() -> None:
    """An untrained SSD scores every box alike: both runs keep 10 of the tied boxes, 3 of them different ones."""
    from pt2trt.comparators.tasks import compare_detections

    boxes = _grid_boxes(13)
    a = dets(boxes[:10], [0.5] * 10, [1] * 10)
    b = dets(boxes[:7] + boxes[10:], [0.5] * 10, [1] * 10)
    result = compare_detections([a], [b])
    assert result.metrics["matched"] == 7 and result.metrics["boundary_cut-off"] == 6
    assert result.metrics["unexplained_differences"] == 0 and result.passed
    distinct = dets(boxes[:7] + boxes[10:], [0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.95, 0.97, 0.99], [1] * 10)
    failed = compare_detections(
        [dets(boxes[:10], [0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.52, 0.51], [1] * 10)], [distinct]
    )
    assert not failed.passed and failed.metrics["unexplained_differences"] == 3  # confident boxes that differ


def test_scores_at_the_threshold_and_nms_overlaps_are_decision_boundaries() -> None:
    from pt2trt.comparators.tasks import compare_detections
    from pt2trt.tasks.detect import Detections

    boxes = np.array(_grid_boxes(30), float)
    scores = np.linspace(0.9, 0.4, 30)
    a = Detections(boxes, scores, np.zeros(30, int), threshold=0.25)
    near = Detections(np.vstack([boxes, [[700, 0, 710, 10]]]), np.append(scores, 0.25003), np.zeros(31, int), 0.25)
    assert compare_detections([near], [a]).metrics["boundary_threshold"] == 1
    assert compare_detections([near], [a]).passed
    # a box beside a kept one (IoU 0.43) that the other run suppressed
    overlapping = Detections(np.vstack([boxes, [[4, 0, 14, 10]]]), np.append(scores, 0.5), np.zeros(31, int), 0.25)
    result = compare_detections([overlapping], [a])
    assert result.metrics["boundary_suppression"] == 1 and result.passed
    elsewhere = Detections(np.vstack([boxes, [[300, 300, 310, 310]]]), np.append(scores, 0.5), np.zeros(31, int), 0.25)
    assert compare_detections([elsewhere], [a]).metrics["unexplained_differences"] == 1


def test_the_match_threshold_is_count_aware_for_small_sets() -> None:
    from pt2trt.comparators.tasks import allowed_differences, compare_detections

    assert [allowed_differences(n, 0.99) for n in (2, 10, 17, 18, 21, 60, 100, 250)] == [0, 0, 0, 1, 1, 1, 1, 2]
    assert allowed_differences(21, 1.0) == 0
    scores = list(np.linspace(0.9, 0.5, 21))
    a = dets(_grid_boxes(21), scores, [1] * 21)
    moved = _grid_boxes(21)
    moved[5] = [500, 500, 510, 510]  # one confident box somewhere else: 20 of 21 agree
    result = compare_detections([a], [dets(moved, scores, [1] * 21)])
    assert result.metrics["unexplained_differences"] == 1 and result.passed and "at most 1 of 21" in result.criterion
    small = compare_detections(
        [dets(_grid_boxes(10), scores[:10], [1] * 10)], [dets(moved[:10], scores[:10], [1] * 10)]
    )
    assert not small.passed  # 9 of 10: not consistent with 99 %


def test_thin_boxes_that_agree_within_half_a_pixel_match() -> None:
    """Mask R-CNN with random weights: a box 0.013 px wide, 0.005 px apart in the two runs, has IoU 0.48."""
    from pt2trt.comparators.tasks import match_boxes

    a = dets([[96.4355, 0, 96.4487, 320]], [0.99997], [24])
    b = dets([[96.4309, 0, 96.4441, 320]], [0.99997], [24])
    assert len(match_boxes(a, b).pairs) == 1
