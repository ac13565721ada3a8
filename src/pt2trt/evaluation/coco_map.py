"""COCO box mAP through pycocotools, and the same average precision recomputed on bootstrap draws of the images.

:func:`coco_evaluate` runs pycocotools' ``COCOeval`` (``iouType="bbox"``: IoU 0.50:0.05:0.95, 101 recall points,
at most 100 detections per image and category, area range "all") and keeps what it matched per image
(``evalImgs``).
A bootstrap draw only re-weights images, and pycocotools' matching is per image, so :meth:`CocoEvaluation.ap` redoes
only its accumulation step with the draw's image counts: sort once, weighted cumulative sums, the precision envelope,
the 101-point read. With every count 1 it equals pycocotools' own figure (checked on each run: see ``check``).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pt2trt.errors import Pt2trtError

#: the first three figures of COCOeval's standard summary (the area ranges small/medium/large are not evaluated)
STAT_NAMES = ("map", "map50", "map75")


def require_pycocotools() -> None:
    try:
        import pycocotools  # noqa: F401
    except ImportError as exc:
        raise Pt2trtError("detection metrics need pycocotools", "Install it with: pip install pycocotools") from exc


@dataclass
class _CategoryTable:
    """One category's detections over all images, best score first: image position, true/false positive per IoU."""

    image: np.ndarray  # [n] position of the detection's image
    tps: np.ndarray  # [T, n] float
    fps: np.ndarray  # [T, n] float
    ground_truth: np.ndarray  # [I] non-ignored ground-truth boxes per image position


@dataclass
class CocoEvaluation:
    """pycocotools' figures (``stats``: map, map50, ... as fractions, NaN where undefined) and per-category AP."""

    stats: dict[str, float]
    per_category: dict[int, float]  # category id -> AP@[.5:.95] (NaN: no ground truth)
    per_category_50: dict[int, float]
    image_positions: dict[int, int]  # COCO image id -> position in the evaluation's image order
    iou_thresholds: np.ndarray
    recall_thresholds: np.ndarray
    tables: dict[int, _CategoryTable] = field(repr=False, default_factory=dict)

    def ap(self, counts: np.ndarray | None = None, iou: float | None = None) -> float:
        """Mean AP over categories with ground truth, images weighted by ``counts`` (by position; None: all 1);
        ``iou`` one threshold (0.5: mAP@.5) instead of the mean over 0.50:0.95. NaN without ground truth."""
        t = slice(None) if iou is None else np.flatnonzero(np.isclose(self.iou_thresholds, iou))[:1]
        values = [self._category_ap(table, counts, t) for table in self.tables.values()]
        values = [v for v in values if not np.isnan(v)]
        return float(np.mean(values)) if values else float("nan")

    def _category_ap(self, table: _CategoryTable, counts: np.ndarray | None, t: Any) -> float:
        weights = np.ones(len(table.ground_truth)) if counts is None else counts.astype(np.float64)
        positives = float((table.ground_truth * weights).sum())
        if positives == 0:
            return float("nan")
        tps, fps = table.tps[t], table.fps[t]
        if tps.shape[1] == 0:
            return 0.0
        w = weights[table.image]
        tp = np.cumsum(tps * w, axis=1)
        fp = np.cumsum(fps * w, axis=1)
        recall = tp / positives
        precision = tp / (fp + tp + np.spacing(1))
        envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
        q = np.zeros((tp.shape[0], len(self.recall_thresholds)))
        for row in range(tp.shape[0]):
            at = np.searchsorted(recall[row], self.recall_thresholds, side="left")
            ok = at < tp.shape[1]
            q[row, ok] = envelope[row, at[ok]]
        return float(q.mean())

    def check(self) -> None:
        """The re-weighting path must give pycocotools' own mAP with every image counted once (a bug otherwise)."""
        mine, theirs = self.ap(), self.stats["map"]
        if not (np.isnan(mine) and np.isnan(theirs)) and abs(mine - theirs) > 1e-9:
            raise RuntimeError(f"bootstrap accumulation disagrees with pycocotools: {mine!r} vs {theirs!r}")


def coco_evaluate(ground_truth: dict[str, Any], detections: list[dict[str, Any]]) -> CocoEvaluation:
    """pycocotools' bbox evaluation of ``detections`` (COCO results: image_id, category_id, bbox [x, y, w, h],
    score) against ``ground_truth`` (a COCO dataset dict). pycocotools' own printing is kept off stdout."""
    require_pycocotools()
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    results = [
        {**d, "id": i, "area": float(d["bbox"][2] * d["bbox"][3]), "iscrowd": 0}
        for i, d in enumerate(detections, start=1)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {k: ground_truth[k] for k in ("images", "annotations", "categories")}
        gt.createIndex()
        dt = COCO()
        dt.dataset = {
            "images": ground_truth["images"],
            "categories": ground_truth["categories"],
            "annotations": results,
        }
        dt.createIndex()
        evaluator = COCOeval(gt, dt, iouType="bbox")
        # only the "all" area range is reported: matching for small/medium/large too would take 4x the time
        evaluator.params.areaRng, evaluator.params.areaRngLbl = [[0, 1e10]], ["all"]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return _collect(evaluator)


def _collect(evaluator: Any) -> CocoEvaluation:
    params = evaluator.params
    stats = {name: _fraction(v) for name, v in zip(STAT_NAMES, evaluator.stats)}
    precision = evaluator.eval["precision"]  # [T, R, K, A, M]
    per_category, per_category_50 = {}, {}
    for k, category in enumerate(params.catIds):
        p = precision[:, :, k, 0, -1]
        per_category[int(category)] = float(p[p > -1].mean()) if (p > -1).any() else float("nan")
        p50 = precision[0, :, k, 0, -1]
        per_category_50[int(category)] = float(p50[p50 > -1].mean()) if (p50 > -1).any() else float("nan")
    positions = {int(image): i for i, image in enumerate(params.imgIds)}
    result = CocoEvaluation(
        stats, per_category, per_category_50, positions, np.asarray(params.iouThrs), np.asarray(params.recThrs)
    )
    result.tables = _tables(evaluator, len(positions))
    result.check()
    return result


def _fraction(value: float) -> float:
    return float("nan") if value < 0 else float(value)


def _tables(evaluator: Any, images: int) -> dict[int, _CategoryTable]:
    """Per category, pycocotools' per-image matches (area "all", the largest detection limit) in its own order."""
    params = evaluator.params
    areas = len(params.areaRng)
    max_det = params.maxDets[-1]
    thresholds = len(params.iouThrs)
    tables = {}
    for k, category in enumerate(params.catIds):
        base = k * areas * images  # evalImgs is ordered category, area range, image
        entries = [(i, evaluator.evalImgs[base + i]) for i in range(images)]
        entries = [(i, e) for i, e in entries if e is not None]
        ground_truth = np.zeros(images)
        for i, e in entries:
            ground_truth[i] = np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)
        if not entries:
            tables[int(category)] = _CategoryTable(np.zeros(0, int), *(np.zeros((thresholds, 0)),) * 2, ground_truth)
            continue
        scores = np.concatenate([np.asarray(e["dtScores"][:max_det], dtype=np.float64) for _, e in entries])
        image = np.concatenate([np.full(len(e["dtScores"][:max_det]), i) for i, e in entries]).astype(np.int64)
        matched = np.concatenate([e["dtMatches"][:, :max_det] for _, e in entries], axis=1)
        ignored = np.concatenate([e["dtIgnore"][:, :max_det] for _, e in entries], axis=1)
        order = np.argsort(-scores, kind="mergesort")  # pycocotools' own sort
        matched, ignored = matched[:, order].astype(bool), ignored[:, order].astype(bool)
        tps = (matched & ~ignored).astype(np.float64)
        fps = (~matched & ~ignored).astype(np.float64)
        tables[int(category)] = _CategoryTable(image[order], tps, fps, ground_truth)
    return tables
