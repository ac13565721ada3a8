"""Object detection: raw or post-processed outputs -> boxes, scores and classes in original-image pixels.

Output layouts (``--layout``; ``auto`` picks one from the output names and shapes):

* ``yolov8`` – one ``[N, 4 + classes, anchors]`` output (YOLOv8/11 raw head): cx, cy, w, h in input pixels,
  then one score per class;
* ``yolov5`` – one ``[N, anchors, 5 + classes]`` output: cx, cy, w, h, objectness, class scores
  (score = objectness x class score);
* ``yolox`` / ``gfl`` – YOLOX grid-relative heads and multi-level (PP-PicoDet/GFL) heads, decoded with the strides
  their shapes give (see :mod:`pt2trt.tasks.heads`);
* ``torchvision`` – ``boxes [K, 4]`` (x1, y1, x2, y2), ``scores [K]``, ``labels [K]`` per image, NMS already done
  (several images: ``0_boxes``, ``1_boxes``...);
* ``nms`` – end-to-end NMS outputs ``num_dets [N, 1]``, ``boxes [N, K, 4]`` (x1, y1, x2, y2), ``scores [N, K]``,
  ``classes [N, K]`` (TensorRT's EfficientNMS plugin and most end-to-end exports).

Raw layouts are decoded, thresholded at ``conf``, reduced by class-aware NMS at ``iou`` and cut to ``max_det``;
post-processed layouts are only thresholded and cut. Boxes are then mapped back through the preprocessing
(letterbox padding and scale) to the original image.

``auto`` looks at every output and the input size: a fused YOLOv8 head beside its DFL bins is preferred (said), a
YOLOX or multi-level head is decoded (said), an SSD/RetinaFace head over priors is refused saying what decoding
needs, and several other candidates are named in the error, with ``--output-name`` and ``--layout`` to pick one.
Decoded results are sanity-checked (:mod:`pt2trt.tasks.box_checks`): boxes smaller than a pixel, boxes all in one
corner and scores outside [0, 1] add a warning to :attr:`Task.warnings`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import Transform
from pt2trt.settings.tasks import TaskSettings
from pt2trt.tasks.base import Labels, Outputs, Result, Task, batch_of, describe_outputs, pick_output
from pt2trt.tasks.box_checks import check_boxes
from pt2trt.tasks.boxes import cxcywh_to_xyxy, nms
from pt2trt.tasks.draw import color, font, tag
from pt2trt.tasks.heads import Head, analyse, gfl_candidates, grid_strides, yolox_rows

if TYPE_CHECKING:
    from PIL import Image

RAW_LAYOUTS = ("yolov8", "yolov5")
#: layouts decoded from a head the outputs form with the input size (see :mod:`pt2trt.tasks.heads`)
HEAD_LAYOUTS = ("yolox", "gfl")


@dataclass
class Detections(Result):
    """Boxes ``[K, 4]`` (x1, y1, x2, y2 in original pixels), scores ``[K]`` and class ids ``[K]``, best first."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    #: the score threshold they were kept at (a box near it may fall on either side of it in another run)
    threshold: float | None = None

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64))

    def to_dict(self, labels: Labels) -> dict[str, Any]:
        return {
            "detections": [
                {
                    "box": [round(float(v), 2) for v in box],
                    "score": round(float(score), 6),
                    "class": int(cls),
                    "label": labels(int(cls)),
                }
                for box, score, cls in zip(self.boxes, self.scores, self.classes)
            ]
        }


@dataclass
class Candidates:
    """Boxes of one image in input pixels before thresholding, with optional per-box mask coefficients."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    coefficients: np.ndarray | None = None
    suppressed: bool = False  # True when the model already ran NMS
    class_count: int | None = None  # raw heads: scores per box


class DetectTask(Task):
    """Boxes from YOLO raw heads, torchvision detectors or end-to-end NMS outputs."""

    name = "detect"
    default_preset = "yolo-letterbox-640"
    layouts = ("yolov8", "yolov5", "yolox", "gfl", "torchvision", "nms")
    result_type = Detections
    comparator = "pt2trt.comparators.tasks:compare_detections"

    def __init__(
        self, conf: float = 0.25, iou: float = 0.45, max_det: int = 300, layout: str = "auto", output: str | None = None
    ) -> None:
        super().__init__(layout)
        self.output = output
        if not 0 <= conf <= 1 or not 0 <= iou <= 1:
            raise UsageError(f"--conf {conf} and --iou {iou} must be between 0 and 1", "e.g. --conf 0.25 --iou 0.45")
        if max_det < 1:
            raise UsageError(f"--max-det must be at least 1, got {max_det}", "Pass --max-det 1 or more")
        self.conf, self.iou, self.max_det = conf, iou, max_det

    @classmethod
    def from_settings(cls, settings: TaskSettings) -> DetectTask:
        return cls(settings.conf, settings.iou, settings.max_det, settings.layout, settings.output_name)

    def decode(self, outputs: Outputs, transforms: Sequence[Transform]) -> list[Result]:
        width, height = transforms[0].input_size if transforms else (0, 0)
        layout, head = self.head_layout(outputs, (height, width))
        self.resolved_layout = layout
        if head is not None and head.kind in HEAD_LAYOUTS:
            candidates = head_candidates(head, outputs, len(transforms), (height, width))
        else:
            output = head.output if head is not None else self.output
            candidates = extract_candidates(layout, outputs, len(transforms), output=output)
        results: list[Result] = []
        for cand, transform in zip(candidates, transforms):
            kept = self.select(cand)
            self.class_count = cand.class_count
            check_boxes(self, cand.scores, cand.boxes[kept], transform.input_size)
            results.append(
                Detections(
                    transform.boxes_to_original(cand.boxes[kept]), cand.scores[kept], cand.classes[kept], self.conf
                )
            )
        return results

    def head_layout(self, outputs: Outputs, size: tuple[int, int]) -> tuple[str, Head | None]:
        """The layout to decode, and the head the outputs form when it is not one plain tensor (said aloud)."""
        head = None
        if self.layout in ("auto", *HEAD_LAYOUTS):
            head = analyse(outputs, size, self.output)
            if head is not None and self.layout in HEAD_LAYOUTS and head.kind != self.layout:
                head = None
            if head is None and self.layout in HEAD_LAYOUTS:
                head = forced_head(self.layout, outputs, size, self.output)
            if head is not None and head.note:
                self.warn(f"head-{head.kind}", head.note)
        if self.layout != "auto":
            return self.layout, head
        if head is not None and head.kind in HEAD_LAYOUTS:
            return head.kind, head
        return detect_layout(outputs, head.output if head is not None else self.output), head

    def select(self, cand: Candidates) -> np.ndarray:
        """Indices kept after the confidence threshold, NMS (raw layouts) and the detection limit, best first."""
        above = np.flatnonzero(cand.scores >= self.conf)
        if cand.suppressed:
            order = above[np.argsort(-cand.scores[above], kind="stable")]
            return order[: self.max_det]
        kept = nms(
            cand.boxes[above],
            cand.scores[above],
            cand.classes[above],
            iou_threshold=self.iou,
            max_detections=self.max_det,
        )
        return above[kept]

    def label_set(self) -> str | None:
        if self.class_count in (80, 91):
            return "coco80" if self.class_count == 80 else "coco91-torchvision"
        return "coco91-torchvision" if self.resolved_layout == "torchvision" else "coco80"

    def result_classes(self, result: Result) -> list[int]:
        return [int(c) for c in result.classes] if isinstance(result, Detections) else []

    def draw(self, image: Image.Image, result: Result, labels: Labels) -> Image.Image:
        assert isinstance(result, Detections)
        return draw_detections(image, result, labels)

    def options(self) -> dict[str, Any]:
        return {**super().options(), "conf": self.conf, "iou": self.iou, "max_det": self.max_det}


def draw_detections(image: Image.Image, dets: Detections, labels: Labels) -> Image.Image:
    """Each box in its class colour with a "label score" tag, the best drawn last (on top)."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    face = font(image)
    width = max(2, round(min(image.size) / 250))
    for box, score, cls in reversed(list(zip(dets.boxes, dets.scores, dets.classes))):  # best drawn last, on top
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=color(cls), width=width)
        tag(draw, face, (x1, y1), f"{labels(cls)} {score:.2f}", color(cls), image.size)
    return image


def detect_layout(outputs: Outputs, output: str | None = None) -> str:
    """The detection layout the outputs look like (all of them are looked at), or a user error naming the
    candidates and the flags that pick one."""
    if output is None:
        if _find(outputs, r"num(_?det(ection)?s?)?$") is not None and _find_boxes_3d(outputs) is not None:
            return "nms"
        if torchvision_groups(outputs):
            return "torchvision"
    name = raw_head(outputs, output)
    _, rows, cols = np.shape(outputs[name])
    if rows == cols:
        raise Pt2trtError(
            f"output {name}{list(np.shape(outputs[name]))} could be yolov8 or yolov5 (as many rows as columns)",
            "Pass --layout yolov8 ([N, 4+classes, anchors]) or yolov5 ([N, anchors, 5+classes])",
        )
    layout = "yolov8" if rows < cols else "yolov5"
    values = rows if layout == "yolov8" else cols
    if values < (5 if layout == "yolov8" else 6):
        raise Pt2trtError(
            f"output {name}{list(np.shape(outputs[name]))} holds {values} values per box: no class scores, "
            "so it is not a YOLO head",
            f"Outputs: {describe_outputs(outputs)}; pass --output-name and --layout if another output is the head",
        )
    return layout


def raw_head(outputs: Outputs, output: str | None = None) -> str:
    """The one 3-D output that can be a raw YOLO head: ``output`` when given; several candidates are refused."""
    raw = [n for n, a in outputs.items() if np.ndim(a) == 3 and np.issubdtype(np.asarray(a).dtype, np.floating)]
    if not raw and output is None:
        raise Pt2trtError(
            f"cannot tell the detection layout of outputs {describe_outputs(outputs)}",
            "Pass --layout yolov8, yolov5, torchvision or nms",
        )
    hint = " and --layout yolov8|yolov5"
    name = pick_output(outputs, output, raw, "a raw detection head", hint)
    if np.ndim(outputs[name]) != 3:
        raise Pt2trtError(
            f"output {name}{list(np.shape(outputs[name]))} is not 3-D, so it is not a YOLO head",
            f"Outputs: {describe_outputs(outputs)}; pick a [N, 4+classes, anchors] or [N, anchors, 5+classes] one",
        )
    return name


def extract_candidates(
    layout: str, outputs: Outputs, count: int, mask_channels: int = 0, output: str | None = None
) -> list[Candidates]:
    """Per-image candidate boxes (input pixels) of ``layout``; ``mask_channels`` trailing YOLO-seg coefficients."""
    if layout in RAW_LAYOUTS:
        name = raw_head(outputs, output)
        pred = batch_of(np.asarray(outputs[name]), count, name)
        return [yolo_candidates(p, layout, mask_channels) for p in pred]
    if layout == "torchvision":
        groups = torchvision_groups(outputs)
        if not groups:
            raise Pt2trtError(
                f"no boxes/scores/labels outputs among {describe_outputs(outputs)}",
                "Pass --layout for this model's outputs (see `pt2trt predict --help`)",
            )
        if len(groups) != count:
            raise Pt2trtError(
                f"torchvision-style outputs hold {len(groups)} image(s) for a batch of {count}",
                "Run with --batch 1, or pass another --layout",
            )
        return [
            Candidates(
                np.asarray(outputs[b], dtype=np.float64).reshape(-1, 4),
                np.asarray(outputs[s], dtype=np.float64).reshape(-1),
                np.asarray(outputs[lab]).reshape(-1).astype(np.int64),
                suppressed=True,
            )
            for b, s, lab in groups
        ]
    if layout == "nms":
        return nms_candidates(outputs, count)
    raise Pt2trtError(f"unknown detection layout '{layout}'", "Pass one of the layouts `pt2trt predict --help` lists")


def head_candidates(head: Head, outputs: Outputs, count: int, size: tuple[int, int]) -> list[Candidates]:
    """Per-image candidates of a head recognised by :func:`pt2trt.tasks.heads.analyse` (yolox, gfl)."""
    if head.kind == "yolox":
        assert head.output is not None
        pred = batch_of(np.asarray(outputs[head.output]), count, head.output)
        return [yolo_candidates(yolox_rows(p, head.strides, size), "yolov5") for p in pred]
    result = []
    for i in range(count):
        boxes, class_scores = gfl_candidates(outputs, head, i, size)
        classes = class_scores.argmax(axis=1)
        scores = class_scores[np.arange(len(classes)), classes]
        result.append(Candidates(boxes, scores, classes.astype(np.int64), class_count=class_scores.shape[1]))
    return result


def forced_head(layout: str, outputs: Outputs, size: tuple[int, int], output: str | None) -> Head:
    """``--layout yolox`` on outputs whose boxes look like pixels: the one ``[N, A, 5 + C]`` whose anchors are
    grid cells, decoded as grid-relative all the same; ``--layout gfl`` needs the outputs to pair up in levels."""
    if layout == "yolox":
        name = raw_head(outputs, output)
        _, anchors, _ = np.shape(outputs[name])
        strides = grid_strides(anchors, size)
        if strides is not None:
            return Head("yolox", output=name, strides=strides)
        raise Pt2trtError(
            f"output {name}{list(np.shape(outputs[name]))} has {anchors} anchors, not the grid cells of strides "
            f"8, 16, 32 (64) over the {size[0]}x{size[1]} input, so it cannot be decoded as YOLOX",
            "Run at the size the model was exported at (--size HxW), or pass another --layout",
        )
    raise Pt2trtError(
        f"outputs {describe_outputs(outputs)} do not pair up into levels of class scores and box distributions "
        f"at strides that fit the {size[0]}x{size[1]} input",
        "Run at the size the model was exported at (--size HxW), or pass another --layout",
    )


def yolo_candidates(pred: np.ndarray, layout: str, mask_channels: int = 0) -> Candidates:
    """One image of a YOLO raw head: ``[4 + nc (+ nm), A]`` (v8) or ``[A, 5 + nc]`` (v5)."""
    rows = np.asarray(pred, dtype=np.float64)
    if layout == "yolov8":
        rows = rows.T
        class_scores = rows[:, 4 : rows.shape[1] - mask_channels]
    else:
        class_scores = rows[:, 5 : rows.shape[1] - mask_channels] * rows[:, 4:5]
    if class_scores.shape[1] < 1:
        raise Pt2trtError(
            f"a {layout} output needs at least one class score per box; this one has {rows.shape[1]} values per box",
            "Check --layout (yolov8: [N, 4+classes, anchors]; yolov5: [N, anchors, 5+classes])",
        )
    classes = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(rows.shape[0]), classes]
    coefficients = rows[:, rows.shape[1] - mask_channels :] if mask_channels else None
    boxes = cxcywh_to_xyxy(rows[:, :4])
    return Candidates(boxes, scores, classes.astype(np.int64), coefficients, class_count=class_scores.shape[1])


def nms_candidates(outputs: Outputs, count: int) -> list[Candidates]:
    num_name = _find(outputs, r"num(_?det(ection)?s?)?$")
    boxes_name = _find_boxes_3d(outputs)
    scores_name = _find(outputs, r"score", exclude={boxes_name})
    classes_name = _find(outputs, r"class|label", exclude={boxes_name})
    if None in (num_name, boxes_name, scores_name, classes_name):
        raise Pt2trtError(
            f"end-to-end NMS outputs need num_dets, boxes, scores and classes; got {describe_outputs(outputs)}",
            "Pass the --layout that matches the outputs (see `pt2trt inspect MODEL.onnx`)",
        )
    num = batch_of(np.asarray(outputs[num_name]), count, str(num_name)).reshape(count, -1)[:, 0]
    boxes = batch_of(np.asarray(outputs[boxes_name]), count, str(boxes_name))
    scores = batch_of(np.asarray(outputs[scores_name]), count, str(scores_name)).reshape(count, -1)
    classes = batch_of(np.asarray(outputs[classes_name]), count, str(classes_name)).reshape(count, -1)
    result = []
    for i in range(count):
        n = int(min(max(num[i], 0), boxes.shape[1]))
        result.append(
            Candidates(
                boxes[i, :n].astype(np.float64),
                scores[i, :n].astype(np.float64),
                classes[i, :n].astype(np.int64),
                suppressed=True,
            )
        )
    return result


def torchvision_groups(outputs: Outputs) -> list[tuple[str, str, str]]:
    """``(boxes, scores, labels)`` output names per image, in image order."""
    groups = []
    for name in outputs:
        if not name.endswith("boxes"):
            continue
        prefix = name[: -len("boxes")]
        scores, labels = prefix + "scores", prefix + "labels"
        if scores in outputs and labels in outputs:
            groups.append((name, scores, labels))
    return sorted(groups, key=lambda g: _index(g[0]))


def _index(name: str) -> int:
    digits = re.findall(r"\d+", name)
    return int(digits[-1]) if digits else -1


def _find(outputs: Outputs, pattern: str, exclude: set[str | None] | None = None) -> str | None:
    regex = re.compile(pattern, re.IGNORECASE)
    return next((n for n in outputs if regex.search(n) and n not in (exclude or set())), None)


def _find_boxes_3d(outputs: Outputs) -> str | None:
    return next((n for n, a in outputs.items() if np.ndim(a) == 3 and np.shape(a)[-1] == 4), None)
