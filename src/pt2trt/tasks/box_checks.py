"""Sanity checks on decoded boxes: signs of a misread layout, each said once as a task warning."""

from __future__ import annotations

import numpy as np

from pt2trt.tasks.base import Task, value_range


def check_boxes(task: Task, scores: np.ndarray, boxes: np.ndarray, input_size: tuple[int, int] | None = None) -> None:
    """Warn (once each) about boxes smaller than a pixel, boxes all in one corner of the input and scores outside
    [0, 1]: signs of a misread layout (normalised or grid-relative coordinates, logits). ``scores`` are every
    candidate's, ``boxes`` the kept ones (x1, y1, x2, y2 in input pixels)."""
    low, high = value_range(scores)
    if low < -1e-3 or high > 1 + 1e-3:
        task.warn(
            "scores-range",
            f"detection scores range from {low:.3g} to {high:.3g}, outside [0, 1]: the output may hold logits "
            "(no sigmoid in the model) or another layout; check --layout",
        )
    if len(boxes) == 0:
        return
    sizes = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)
    tiny = np.flatnonzero((sizes < 1).any(axis=1))
    if len(tiny) * 2 >= len(boxes):
        w, h = sizes[tiny[0]]
        task.warn(
            "tiny-boxes",
            f"{len(tiny)} of {len(boxes)} boxes are smaller than a pixel (e.g. {w:.1f}x{h:.1f} px in the input): "
            "the output may hold grid-relative or normalised coordinates, not pixels (e.g. YOLOX exported "
            "without decoding); export the model with its box decoding, or check --layout",
        )
    elif input_size is not None and len(boxes) >= 3:
        _check_corner(task, boxes, input_size)


def _check_corner(task: Task, boxes: np.ndarray, input_size: tuple[int, int]) -> None:
    """All boxes inside one eighth of the input, in a corner: coordinates on another scale (a stride grid, [0, 1])."""
    width, height = input_size
    reach = np.array([boxes[:, [0, 2]].min(), boxes[:, [1, 3]].min(), boxes[:, [0, 2]].max(), boxes[:, [1, 3]].max()])
    span_x, span_y = width / 8, height / 8
    near_left, near_top = reach[2] <= span_x, reach[3] <= span_y
    near_right, near_bottom = reach[0] >= width - span_x, reach[1] >= height - span_y
    if (near_left or near_right) and (near_top or near_bottom):
        corner = f"{'top' if near_top else 'bottom'}-{'left' if near_left else 'right'}"
        task.warn(
            "corner-boxes",
            f"all {len(boxes)} boxes lie in the {corner} corner of the {width}x{height} input (within "
            f"{span_x:.0f}x{span_y:.0f} px): the output may hold coordinates on another scale (a stride grid, "
            "normalised to [0, 1]) or another layout; check --layout",
        )
