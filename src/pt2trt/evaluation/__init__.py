"""Task metrics on the user's labelled data: ``pt2trt eval`` and :func:`pt2trt.evaluate`.

The same labelled images go through each model (and backend) on the prediction path (:mod:`pt2trt.prediction`),
and the answers are scored against the labels: top-1/top-5 (classify), COCO mAP through pycocotools (detect), mean
IoU and pixel accuracy (segment). The first model is the reference: every other one gets deltas with a paired read
of significance (exact McNemar on flipped samples; a bootstrap over images for mAP and mIoU).

Modules: ``datasets`` (the labelled data, one loader per format: ``imagefolder``, ``coco``, ``yolo``, ``masks``),
``classify``/``detect``/``segment`` (one scorer per task, registered in ``SCORERS``), ``coco_map``, ``significance``,
``class_map``, ``results``, ``changed`` (the changed samples, drawn) and ``runner`` (:func:`evaluate`). Nothing here
is imported by ``pt2trt --help``.
"""

from __future__ import annotations

#: task name -> "module:Class" of its scorer (one file per task, one line here)
SCORERS: dict[str, str] = {
    "classify": "pt2trt.evaluation.classify:ClassifyScorer",
    "detect": "pt2trt.evaluation.detect:DetectScorer",
    "segment": "pt2trt.evaluation.segment:SegmentScorer",
}
