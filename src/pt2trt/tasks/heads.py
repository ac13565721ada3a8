"""Detection heads that are not one YOLO tensor in pixels, told apart by their output shapes and the input size.

* **fused head beside its parts** – a YOLOv8 exported from eval mode gives ``[N, 4 + C, A]`` (boxes in pixels and
  class scores) beside the ``[N, 64, A]`` DFL bins and the ``[N, C, A]`` class logits it was computed from: the one
  complete head is decoded, and that is said;
* **yolox** – ``[N, A, 5 + C]`` whose ``A`` is the number of grid cells at strides 8, 16, 32 (… 64) and whose
  boxes are grid-relative (x, y offsets within a cell, log-space w, h: YOLOX exported without
  ``decode_in_inference``): decoded with the strides, ``(x + col) * s``, ``exp(w) * s``;
* **gfl** – multi-level anchor-free heads (PP-PicoDet, NanoDet, GFL): per level ``[N, A_l, C]`` scores and
  ``[N, A_l, 4 (r + 1)]`` box distance distributions, ``A_l`` the cells at stride ``s_l``: decoded like PicoDet's
  own post-processing (cell centres, softmax over the ``r + 1`` bins, distances times the stride);
* **priors** – SSD / RetinaFace-style ``loc [N, A, 4]`` + ``conf [N, A, k]`` (+ ``landms [N, A, 10]``) over ``A``
  priors: the boxes are offsets from priors (anchors) the graph does not hold, so they cannot be decoded from the
  outputs; the error says what would be needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pt2trt.errors import Pt2trtError
from pt2trt.tasks.base import Outputs

#: stride sets of the common multi-level detectors, tried in order
STRIDE_SETS = ((8, 16, 32), (8, 16, 32, 64), (4, 8, 16, 32), (8, 16, 32, 64, 128), (4, 8, 16, 32, 64))
#: the strides a single level may have
LEVEL_STRIDES = (4, 8, 16, 32, 64, 128)

Size = tuple[int, int]  # (height, width) of the model input


@dataclass
class Head:
    """What the outputs were recognised as: ``kind`` (fused, yolox, gfl), the output(s) to decode, the strides,
    and a sentence saying so."""

    kind: str
    output: str | None = None
    strides: tuple[int, ...] = ()
    levels: list[tuple[str, str]] = field(default_factory=list)  # gfl: (scores, boxes) per level, finest first
    note: str = ""


def cells(size: Size, stride: int) -> int:
    """Grid cells of a ``stride`` level over a ``size`` input (partial cells count, as padding convolutions give)."""
    return math.ceil(size[0] / stride) * math.ceil(size[1] / stride)


def grid_strides(total: int, size: Size, per_cell: int = 1) -> tuple[int, ...] | None:
    """The stride set whose grid cells, ``per_cell`` each, add up to ``total`` anchors."""
    return next((s for s in STRIDE_SETS if per_cell * sum(cells(size, x) for x in s) == total), None)


def level_stride(count: int, size: Size) -> int | None:
    return next((s for s in LEVEL_STRIDES if cells(size, s) == count), None)


def shape_text(outputs: Outputs, name: str) -> str:
    return f"{name}{list(np.shape(outputs[name]))}"


def analyse(outputs: Outputs, size: Size, output: str | None = None) -> Head | None:
    """The head the outputs form (None: a plain YOLO head, or nothing recognised); raises when they form a head that
    cannot be decoded (priors), or when ``output`` picks one part of a head that needs all of its parts."""
    raw = [n for n, a in outputs.items() if np.ndim(a) == 3 and np.issubdtype(np.asarray(a).dtype, np.floating)]
    levels = _gfl_levels(outputs, raw, size)
    priors = _prior_parts(outputs, raw) if levels is None else None
    if output is not None:
        if levels is not None and output in {n for pair in levels[0] for n in pair}:
            raise Pt2trtError(
                f"output {shape_text(outputs, output)} is one part of a multi-level head "
                f"({_levels_text(outputs, levels)})",
                "Leave out --output-name: pt2trt decodes all its levels together (--layout gfl)",
            )
        if priors is not None and output in priors:
            raise _priors_error(outputs, priors, size)
        return None
    if levels is not None:
        pairs, strides = levels
        note = f"decoded as a multi-level anchor-free head (PP-PicoDet/GFL style): {_levels_text(outputs, levels)}"
        return Head("gfl", strides=strides, levels=pairs, note=note)
    if priors is not None:
        raise _priors_error(outputs, priors, size)
    fused = _fused(outputs, raw)
    if fused is not None:
        return fused
    if len(raw) == 1:
        return _yolox(outputs, raw[0], size)
    return None


# -- fused YOLOv8 head beside its parts -----------------------------------------------------------------------------
def _fused(outputs: Outputs, raw: Sequence[str]) -> Head | None:
    """``[N, 4 + C, A]`` beside ``[N, C, A]`` (class scores) of the same ``A``: the complete head."""
    shapes = {n: np.shape(outputs[n]) for n in raw}
    for name, (_, rows, anchors) in shapes.items():
        if rows >= anchors:
            continue
        scores = [n for n, s in shapes.items() if n != name and s[2] == anchors and s[1] + 4 == rows]
        if not scores:
            continue
        parts = [n for n, s in shapes.items() if n != name and s[2] == anchors]
        bins = [n for n in parts if shapes[n][1] % 4 == 0 and n not in scores]
        said = f"{shape_text(outputs, scores[0])} (its class scores)"
        if bins:
            said += f" and {shape_text(outputs, bins[0])} (box distribution bins, not boxes)"
        note = (
            f"decoded output {shape_text(outputs, name)}: the complete head (4 box values + {rows - 4} class scores "
            f"per anchor), computed from {said}; pass --output-name to decode another"
        )
        return Head("fused", output=name, note=note)
    return None


# -- YOLOX grid-relative head ---------------------------------------------------------------------------------------
def _yolox(outputs: Outputs, name: str, size: Size) -> Head | None:
    """A single ``[N, A, 5 + C]`` whose anchors are grid cells and whose boxes are not pixels."""
    _, anchors, values = np.shape(outputs[name])
    strides = grid_strides(anchors, size)
    if strides is None or anchors <= values or values < 6:
        return None
    if not looks_grid_relative(np.asarray(outputs[name])[..., :4], size):
        return None
    note = (
        f"decoded output {shape_text(outputs, name)} as YOLOX grid-relative boxes: its {anchors} anchors are the "
        f"grid cells at strides {', '.join(map(str, strides))} of the {size[0]}x{size[1]} input, and its boxes are "
        "not pixels (x, y within a cell, log-space w, h); pass --layout yolov5 to read them as pixels"
    )
    return Head("yolox", output=name, strides=strides, note=note)


def looks_grid_relative(boxes: np.ndarray, size: Size) -> bool:
    """cx, cy, w, h columns that cannot be pixels of a ``size`` input: negative widths or heights (log space), or
    every value within a few units on an input of 64 pixels or more."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if b.size == 0 or not np.isfinite(b).all():
        return False
    if (b[:, 2:4] < 0).mean() > 0.1:
        return True
    return max(size) >= 64 and float(np.abs(b).max()) <= 4.0


def yolox_rows(pred: np.ndarray, strides: Sequence[int], size: Size) -> np.ndarray:
    """``[A, 5 + C]`` grid-relative rows -> the same rows with cx, cy, w, h in input pixels (YOLOX's own decoding)."""
    grids, steps = [], []
    for s in strides:
        h, w = math.ceil(size[0] / s), math.ceil(size[1] / s)
        ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        grids.append(np.stack([xs.reshape(-1), ys.reshape(-1)], axis=1))
        steps.append(np.full((h * w, 1), float(s)))
    grid, stride = np.concatenate(grids).astype(np.float64), np.concatenate(steps)
    rows = np.asarray(pred, dtype=np.float64).copy()
    rows[:, 0:2] = (rows[:, 0:2] + grid) * stride
    rows[:, 2:4] = np.exp(rows[:, 2:4].clip(-30, 30)) * stride
    return rows


# -- multi-level anchor-free heads (GFL, PP-PicoDet) ----------------------------------------------------------------
def _gfl_levels(
    outputs: Outputs, raw: Sequence[str], size: Size
) -> tuple[list[tuple[str, str]], tuple[int, ...]] | None:
    """(scores, boxes) output pairs per level with their strides, when the outputs pair up that way."""
    by_count: dict[int, list[str]] = {}
    for name in raw:
        _, count, values = np.shape(outputs[name])
        if count > values:
            by_count.setdefault(count, []).append(name)
    if len(by_count) < 2 or any(len(v) != 2 for v in by_count.values()):
        return None
    levels = []
    for count, names in by_count.items():
        stride = level_stride(count, size)
        if stride is None:
            return None
        last = [np.shape(outputs[n])[2] for n in names]
        boxes = [i for i in (1, 0) if last[i] % 4 == 0 and last[i] // 4 >= 2]  # prefer the later one: PicoDet order
        if not boxes:
            return None
        levels.append((stride, names[1 - boxes[0]], names[boxes[0]]))
    levels.sort()
    classes = {np.shape(outputs[s])[2] for _, s, _ in levels}
    bins = {np.shape(outputs[b])[2] for _, _, b in levels}
    if len(classes) != 1 or len(bins) != 1:
        return None
    return [(s, b) for _, s, b in levels], tuple(stride for stride, _, _ in levels)


def _levels_text(outputs: Outputs, levels: tuple[list[tuple[str, str]], tuple[int, ...]]) -> str:
    pairs, strides = levels
    first_scores, first_boxes = pairs[0]
    classes, bins = np.shape(outputs[first_scores])[2], np.shape(outputs[first_boxes])[2] // 4
    return (
        f"{len(pairs)} levels of class scores ({shape_text(outputs, first_scores)}, ...) and box distributions "
        f"({shape_text(outputs, first_boxes)}, ...: {bins} bins per side) at strides {', '.join(map(str, strides))}; "
        f"{classes} classes"
    )


def gfl_candidates(outputs: Outputs, head: Head, index: int, size: Size) -> tuple[np.ndarray, np.ndarray]:
    """Boxes ``[A, 4]`` (x1, y1, x2, y2 in input pixels) and class scores ``[A, C]`` of image ``index``."""
    all_boxes, all_scores = [], []
    for (scores_name, boxes_name), s in zip(head.levels, head.strides):
        h, w = math.ceil(size[0] / s), math.ceil(size[1] / s)
        ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        centres = np.stack([xs.reshape(-1), ys.reshape(-1)], axis=1).astype(np.float64)
        centres = (centres + 0.5) * s
        dist = np.asarray(outputs[boxes_name][index], dtype=np.float64)
        bins = dist.shape[-1] // 4
        logits = dist.reshape(-1, bins)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        distance = (weights @ np.arange(bins, dtype=np.float64)).reshape(-1, 4) * s  # left, top, right, bottom
        all_boxes.append(np.concatenate([centres - distance[:, :2], centres + distance[:, 2:]], axis=1))
        all_scores.append(np.asarray(outputs[scores_name][index], dtype=np.float64))
    return np.concatenate(all_boxes), np.concatenate(all_scores)


# -- prior-based heads (SSD, RetinaFace) ------------------------------------------------------------------------------
def _prior_parts(outputs: Outputs, raw: Sequence[str]) -> list[str] | None:
    """Outputs ``[N, A, k]`` sharing ``A``, one of them ``[N, A, 4]``: box offsets and scores over ``A`` priors."""
    by_count: dict[int, list[str]] = {}
    for name in raw:
        _, count, values = np.shape(outputs[name])
        if count > values:
            by_count.setdefault(count, []).append(name)
    for names in by_count.values():
        if len(names) >= 2 and any(np.shape(outputs[n])[2] == 4 for n in names):
            return names
    return None


def _priors_error(outputs: Outputs, parts: list[str], size: Size) -> Pt2trtError:
    count = np.shape(outputs[parts[0]])[1]
    loc = next(n for n in parts if np.shape(outputs[n])[2] == 4)
    others = [n for n in parts if n != loc]
    conf = next((n for n in others if np.shape(outputs[n])[2] != 10), others[0])
    rest = [n for n in others if n != conf]
    listed = f"{shape_text(outputs, loc)} (box offsets) + {shape_text(outputs, conf)} (scores)"
    for name in rest:
        listed += f" + {shape_text(outputs, name)}" + (" (landmarks)" if np.shape(outputs[name])[2] == 10 else "")
    layout = next(
        ((k, s) for k in range(1, 10) if (s := grid_strides(count, size, k)) is not None),
        None,
    )
    where = ""
    if layout is not None:
        where = f" ({layout[0]} per cell at strides {', '.join(map(str, layout[1]))} of the {size[0]}x{size[1]} input)"
    return Pt2trtError(
        f"this looks like an SSD/RetinaFace-style head: {listed} over {count} priors{where}; pt2trt cannot "
        "decode it without its priors (min_sizes, steps, variance), "
        "which the graph does not hold",
        "Export the model with its box decoding and NMS (boxes/scores/labels or num_dets/boxes/scores/classes "
        "outputs), or decode these outputs with the model's own code; --layout yolov8|yolov5 cannot read them",
    )
