"""Task-aware comparators: do two runs give the same answer, not just close numbers?

* classification – top-1 agreement, top-5 agreement (same five classes; only for more than five classes),
  probability differences;
* detection – boxes matched one to one by IoU within a class: matched %, mean IoU, score difference, and the
  boxes left unmatched on each side;
* segmentation – pixel agreement and mean IoU between the class masks (plus the detection figures for instances).

Each comparator takes two equally long lists of per-image results and returns a plain result object with
``passed``, ``to_dict()`` and ``summary()``. No detections (or an empty mask) on one or both sides is a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pt2trt.comparators.boundaries import Side, allowed_differences, boundary_reason, score_noise
from pt2trt.errors import Pt2trtError
from pt2trt.tasks.base import Result
from pt2trt.tasks.boxes import box_iou
from pt2trt.tasks.classify import Classification
from pt2trt.tasks.detect import Detections
from pt2trt.tasks.segment import Segmentation

DEFAULT_MIN_AGREEMENT = 0.99
DEFAULT_MATCH_IOU = 0.5


@dataclass
class TaskComparison:
    """The figures of one task comparison; ``metrics`` hold fractions (0-1) and differences."""

    task: str
    images: int
    metrics: dict[str, float | int | None]
    passed: bool
    criterion: str
    per_image: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "images": self.images,
            "passed": self.passed,
            "criterion": self.criterion,
            **self.metrics,
            "per_image": self.per_image,
        }

    def summary(self) -> list[str]:
        """Human-readable lines, one figure each."""
        return [f"{_LABELS.get(k, k)}: {_format(k, v)}" for k, v in self.metrics.items()]


_LABELS = {
    "top1_agreement": "top-1 agreement",
    "top5_agreement": "top-5 agreement (same 5 classes)",
    "max_probability_difference": "max probability difference",
    "mean_probability_difference": "mean probability difference",
    "detections_a": "detections A",
    "detections_b": "detections B",
    "matched": "matched boxes",
    "matched_fraction": "matched",
    "mean_iou": "mean IoU of matched boxes",
    "mean_score_difference": "mean score difference",
    "max_score_difference": "max score difference",
    "unmatched_a": "unmatched in A",
    "unmatched_b": "unmatched in B",
    "at_decision_boundary": "unmatched at a decision boundary (the larger side)",
    "boundary_cut-off": "  of them tied at the cut-off score (A and B)",
    "boundary_threshold": "  of them scored at the threshold (A and B)",
    "boundary_suppression": "  of them overlapping a box the other run kept (A and B)",
    "unexplained_differences": "boxes differing otherwise",
    "allowed_differences": "allowed to differ",
    "pixel_agreement": "pixel agreement",
    "mean_iou_masks": "mean IoU of class masks",
}


def _format(key: str, value: float | int | None) -> str:
    if value is None:
        return "- (nothing to compare)"
    if key.endswith(("agreement", "fraction")):
        return f"{value * 100:.2f}%"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def compare_results(
    task: str,
    a: Sequence[Result],
    b: Sequence[Result],
    *,
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
    iou_threshold: float = DEFAULT_MATCH_IOU,
) -> TaskComparison:
    """Compare two runs' results image by image with ``task``'s comparator (found through the task registry)."""
    from pt2trt.tasks import make_task

    if len(a) != len(b):
        raise Pt2trtError(
            f"cannot compare {len(a)} results with {len(b)}: the runs saw different images",
            "Run both models on the same images",
        )
    decoder = make_task(task)
    a, b = _typed(a, decoder.result_type), _typed(b, decoder.result_type)
    return decoder.compare(a, b, min_agreement=min_agreement, iou_threshold=iou_threshold)


def compare_classifications(
    a: Sequence[Classification],
    b: Sequence[Classification],
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
    iou_threshold: float = DEFAULT_MATCH_IOU,
) -> TaskComparison:
    """Top-1 / top-5 agreement and probability differences (``iou_threshold`` is unused: no boxes)."""
    per_image, top1, top5, max_diffs, mean_diffs = [], [], [], [], []
    for ra, rb in zip(a, b):
        if ra.probabilities.shape != rb.probabilities.shape:
            raise Pt2trtError(
                f"the models predict {ra.probabilities.size} and {rb.probabilities.size} classes: not comparable",
                "Compare models trained for the same classes, or drop --task to compare raw outputs",
            )
        same1 = ra.top[0][0] == rb.top[0][0]
        k = min(5, ra.probabilities.size)
        same5 = set(np.argsort(-ra.probabilities)[:k]) == set(np.argsort(-rb.probabilities)[:k])
        diff = np.abs(ra.probabilities - rb.probabilities)
        top1.append(same1)
        top5.append(same5)
        max_diffs.append(float(diff.max()))
        mean_diffs.append(float(diff.mean()))
        record = {"top1_a": ra.top[0][0], "top1_b": rb.top[0][0], "max_diff": max_diffs[-1]}
        per_image.append(record | ({"top5_same": bool(same5)} if k < ra.probabilities.size else {}))
    agreement = float(np.mean(top1)) if top1 else 1.0
    metrics: dict[str, float | int | None] = {"top1_agreement": agreement}
    if a and a[0].probabilities.size > 5:  # with 5 classes or fewer the top five are every class: always the same
        metrics["top5_agreement"] = float(np.mean(top5))
    metrics |= {
        "max_probability_difference": max(max_diffs) if max_diffs else None,
        "mean_probability_difference": float(np.mean(mean_diffs)) if mean_diffs else None,
    }
    criterion = f"top-1 agreement >= {min_agreement * 100:g}%"
    return TaskComparison("classify", len(per_image), metrics, agreement >= min_agreement, criterion, per_image)


@dataclass
class BoxMatch:
    """One-to-one matches between two images' detections (indices into each side)."""

    pairs: list[tuple[int, int]]
    ious: list[float]
    unmatched_a: list[int]
    unmatched_b: list[int]


def match_boxes(a: Detections, b: Detections, iou_threshold: float = DEFAULT_MATCH_IOU) -> BoxMatch:
    """Greedy one-to-one matching, highest IoU first, boxes of the same class only, IoU >= ``iou_threshold``.

    Two boxes whose corners agree within half a pixel are the same box whatever their IoU (taken as 1): a box with
    little or no area (clipped flat against the image border, or a sliver 0.01 px wide, as untrained detectors
    produce) loses half its IoU to a shift of a few thousandths of a pixel.
    """
    iou = box_iou(a.boxes, b.boxes)
    if iou.size:
        iou = np.nan_to_num(iou, nan=0.0)
        close = np.abs(np.asarray(a.boxes)[:, None, :] - np.asarray(b.boxes)[None, :, :]).max(axis=-1) <= 0.5
        iou[close] = 1.0
        iou[np.asarray(a.classes)[:, None] != np.asarray(b.classes)[None, :]] = -1.0
    pairs: list[tuple[int, int]] = []
    ious: list[float] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    if iou.size:
        flat = np.argsort(-iou, axis=None, kind="stable")
        for index in flat:
            i, j = divmod(int(index), iou.shape[1])
            if iou[i, j] < iou_threshold:
                break
            if i in used_a or j in used_b:
                continue
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j))
            ious.append(float(iou[i, j]))
    return BoxMatch(
        pairs,
        ious,
        [i for i in range(len(a)) if i not in used_a],
        [j for j in range(len(b)) if j not in used_b],
    )


def compare_detections(
    a: Sequence[Detections],
    b: Sequence[Detections],
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
    iou_threshold: float = DEFAULT_MATCH_IOU,
    task: str = "detect",
) -> TaskComparison:
    """Boxes matched one to one; unmatched boxes on a decision boundary (:func:`boundary_reason`) are told apart
    from the rest, and only the rest count against ``min_agreement`` (with :func:`allowed_differences`)."""
    matches = [match_boxes(da, db, iou_threshold) for da, db in zip(a, b)]
    score_diffs = [
        abs(float(da.scores[i]) - float(db.scores[j])) for da, db, m in zip(a, b, matches) for i, j in m.pairs
    ]
    noise = score_noise(score_diffs)
    per_image = []
    all_ious: list[float] = []
    reasons: dict[str, int] = {}
    total_a = total_b = matched = unmatched_a = unmatched_b = differing = flips = 0
    for da, db, m in zip(a, b, matches):
        sides = (
            Side(da, db, m.unmatched_a, m.unmatched_b, {j for _, j in m.pairs}),
            Side(db, da, m.unmatched_b, m.unmatched_a, {i for i, _ in m.pairs}),
        )
        explained = [[boundary_reason(side, i, noise) for i in side.unmatched] for side in sides]
        for reason in (r for side in explained for r in side if r):
            reasons[reason] = reasons.get(reason, 0) + 1
        unexplained = max(sum(r is None for r in side) for side in explained)
        image_flips = max(sum(r is not None for r in side) for side in explained)
        all_ious += m.ious
        total_a, total_b, matched = total_a + len(da), total_b + len(db), matched + len(m.pairs)
        unmatched_a, unmatched_b = unmatched_a + len(m.unmatched_a), unmatched_b + len(m.unmatched_b)
        differing, flips = differing + unexplained, flips + image_flips
        per_image.append(
            {
                "detections_a": len(da),
                "detections_b": len(db),
                "matched": len(m.pairs),
                "mean_iou": float(np.mean(m.ious)) if m.ious else None,
                "at_decision_boundary": image_flips,
                "unexplained": unexplained,
            }
        )
    most = max(total_a, total_b)
    allowed = allowed_differences(most, min_agreement)
    metrics: dict[str, float | int | None] = {
        "detections_a": total_a,
        "detections_b": total_b,
        "matched": matched,
        "matched_fraction": matched / most if most else 1.0,  # no boxes on either side: the runs agree
        # matched, or told apart from an error as a decision taken the other way at a boundary
        "agreeing_fraction": (most - differing) / most if most else 1.0,
        "mean_iou": float(np.mean(all_ious)) if all_ious else None,
        "mean_score_difference": float(np.mean(score_diffs)) if score_diffs else None,
        "max_score_difference": float(np.max(score_diffs)) if score_diffs else None,
        "unmatched_a": unmatched_a,
        "unmatched_b": unmatched_b,
        "at_decision_boundary": flips,
        **{f"boundary_{reason}": count for reason, count in sorted(reasons.items())},
        "unexplained_differences": differing,
        "allowed_differences": allowed,
    }
    criterion = (
        f"matched (IoU >= {iou_threshold:g}, same class) or at a decision boundary (score ties at the cut-off, "
        f"scores within {noise:.1g} of the threshold, NMS overlaps) >= {min_agreement * 100:g}% of the larger side: "
        f"at most {allowed} of {most} box(es) differing otherwise"
    )
    return TaskComparison(task, len(per_image), metrics, differing <= allowed, criterion, per_image)


def mask_agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Pixel agreement and mean IoU over the classes present in either mask."""
    if a.shape != b.shape:
        raise Pt2trtError(
            f"masks of shapes {a.shape} and {b.shape} cannot be compared",
            "Compare models with the same mask size, or drop --task to compare raw outputs",
        )
    if a.size == 0:
        return 1.0, 1.0
    agreement = float(np.mean(a == b))
    ious = []
    for c in np.union1d(np.unique(a), np.unique(b)):
        in_a, in_b = a == c, b == c
        ious.append(np.logical_and(in_a, in_b).sum() / np.logical_or(in_a, in_b).sum())
    return agreement, float(np.mean(ious))


def compare_segmentations(
    a: Sequence[Segmentation],
    b: Sequence[Segmentation],
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
    iou_threshold: float = DEFAULT_MATCH_IOU,
) -> TaskComparison:
    per_image = []
    equal = pixels = 0
    mious = []
    for sa, sb in zip(a, b):
        agreement, miou = mask_agreement(sa.mask, sb.mask)
        equal += int(np.count_nonzero(sa.mask == sb.mask))
        pixels += sa.mask.size
        mious.append(miou)
        per_image.append({"pixel_agreement": agreement, "mean_iou": miou})
    agreement_all = equal / pixels if pixels else 1.0
    metrics: dict[str, float | int | None] = {
        "pixel_agreement": agreement_all,
        "mean_iou_masks": float(np.mean(mious)) if mious else None,
    }
    passed = agreement_all >= min_agreement
    criterion = f"pixel agreement >= {min_agreement * 100:g}%"
    if any(s.instances is not None for s in [*a, *b]):
        instances = compare_detections(
            [s.instances or Detections.empty() for s in a],
            [s.instances or Detections.empty() for s in b],
            min_agreement,
            iou_threshold,
        )
        metrics.update(instances.metrics)
        passed = passed and instances.passed
        criterion += f" and instances {instances.criterion}"
    return TaskComparison("segment", len(per_image), metrics, passed, criterion, per_image)


def _typed(results: Sequence[Result], cls: type) -> list[Any]:
    wrong = [type(r).__name__ for r in results if not isinstance(r, cls)]
    if wrong:
        raise Pt2trtError(f"expected {cls.__name__} results, got {wrong[0]}", "Run both models with the same --task")
    return list(results)


def compare_task_outputs(
    task: str,
    reference: dict[str, np.ndarray],
    candidate: dict[str, np.ndarray],
    input_shape: Sequence[int],
    *,
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
    iou_threshold: float = DEFAULT_MATCH_IOU,
    **task_options: Any,
) -> TaskComparison:
    """Decode two runs' raw outputs with ``task`` (in input pixels: no preprocessing to undo) and compare them.

    ``input_shape`` is the image input's ``[N, C, H, W]`` (or ``[N, H, W, C]``) shape; this is what
    ``verify --task`` uses on its (random or given) inputs.
    """
    from pt2trt.imaging.preprocess import Transform
    from pt2trt.tasks import make_task

    if len(input_shape) != 4:
        raise Pt2trtError(
            f"--task needs an image input [N, C, H, W]; the first input has shape {list(input_shape)}",
            "Drop --task to compare raw outputs, or pass the image input first",
        )
    n, d1, d2, d3 = (int(d) for d in input_shape)
    height, width = (d2, d3) if d1 in (1, 3) or d3 not in (1, 3) else (d1, d2)
    transforms = [Transform.identity(width, height)] * n
    decoder = make_task(task, **task_options)
    return compare_results(
        decoder.name,
        decoder.decode(reference, transforms),
        decoder.decode(candidate, transforms),
        min_agreement=min_agreement,
        iou_threshold=iou_threshold,
    )
