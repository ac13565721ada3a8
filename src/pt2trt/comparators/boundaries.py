"""Detections one run kept and the other did not, on a decision boundary (a top-k cut-off, a score threshold, an
NMS overlap) rather than an error; and how many unexplained differences a set of a given size may have."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pt2trt.tasks.boxes import box_iou
from pt2trt.tasks.detect import Detections

#: IoU with a higher-scoring box the other run kept above which a missing box may have been suppressed there by NMS
SUPPRESSION_IOU = 0.3
#: the smallest score difference counted as a tie (float32 probabilities reorder at about 1e-6; 1e-4 leaves room)
SCORE_NOISE = 1e-4
#: the largest: FP16 moves probabilities by about 1e-3. A model whose scores move more than this changes answers
#: near its thresholds; those changes count against it (a band grown with the error would explain any error away)
MAX_SCORE_NOISE = 0.01


def score_noise(score_diffs: list[float]) -> float:
    """How far apart two scores may be and still be a tie: four times the 90th percentile of the score differences
    of the boxes both runs kept, between :data:`SCORE_NOISE` and :data:`MAX_SCORE_NOISE`."""
    typical = float(np.percentile(score_diffs, 90)) if score_diffs else 0.0
    return min(max(SCORE_NOISE, 4 * typical), MAX_SCORE_NOISE)


@dataclass
class Side:
    """One run's detections of one image, with what the other run kept."""

    dets: Detections
    other: Detections
    unmatched: list[int]
    other_unmatched: list[int]
    other_matched: set[int]


def boundary_reason(side: Side, i: int, noise: float) -> str | None:
    """Why box ``i``, kept by one run and not by the other, may sit on a decision boundary rather than be an error.

    * ``cut-off``: both runs kept as many boxes, box ``i`` ties the lowest score kept and the other run kept another
      box of that score instead (a top-k among equal scores: untrained detectors score many boxes alike);
    * ``threshold``: its score is within ``noise`` of the score threshold, on the other side of it in the other run;
    * ``suppression``: the other run kept a box of its class that scores at least as high and overlaps it
      (IoU >= 0.3), present in both runs: an NMS decision near its IoU threshold, taken the other way.
    """
    d, o = side.dets, side.other
    score = float(d.scores[i])
    tie = [j for j in side.other_unmatched if abs(float(o.scores[j]) - score) <= noise]
    if len(d) == len(o) and score <= float(d.scores.min()) + noise and tie:
        return "cut-off"
    if d.threshold is not None and abs(score - d.threshold) <= noise:
        return "threshold"
    kept = [j for j in side.other_matched if o.classes[j] == d.classes[i] and float(o.scores[j]) >= score - noise]
    if kept and float(box_iou(d.boxes[i : i + 1], o.boxes[kept]).max()) >= SUPPRESSION_IOU:
        return "suppression"
    return None


def allowed_differences(count: int, min_agreement: float) -> int:
    """How many of ``count`` boxes may differ unexplained under ``min_agreement``, aware of small sets.

    The plain share, ``floor((1 - min_agreement) * count)``, is 0 below 100 boxes at 99 %: one flip in 21 boxes would
    fail a healthy model. One box is allowed when ``count - 1`` agreeing is still consistent with ``min_agreement``
    (the 95 % Wilson interval of the agreeing share reaches it: from 18 boxes at 99 %); never more than
    the plain share otherwise.
    """
    plain = int(np.floor((1 - min_agreement) * count + 1e-9))
    if plain >= 1 or count < 2:
        return plain
    z = 1.96
    p = (count - 1) / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * np.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return 1 if centre + half >= min_agreement else 0
