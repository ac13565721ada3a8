"""Segmentation: per-pixel class logits -> class mask, or YOLO-seg instances -> boxes with masks.

Output layouts (``--layout``; ``auto`` picks one):

* ``logits`` – ``[N, classes, H, W]`` scores (argmax per pixel; one channel: sigmoid > ``mask_threshold``) or an
  ``[N, H, W]`` integer class map. A model with several such outputs is read from ``out`` (torchvision's ``out``
  and ``aux``), else from ``--output-name``: pt2trt does not guess between them;
* ``probabilities`` – the same, already probabilities (a Sigmoid/Softmax ends the graph): one channel is
  foreground where the value is above ``mask_threshold`` (0.5). ``auto`` reads a one-channel output as
  probabilities when the ONNX graph computes it with Sigmoid/Softmax, or (no graph at hand) when every value is
  in [0, 1];
* ``yolo-seg`` – YOLOv8/11-seg: ``[N, 4 + classes + m, anchors]`` boxes with ``m`` mask coefficients, and
  ``[N, m, mh, mw]`` prototype masks. Instances are decoded like ``detect --layout yolov8``; each mask is
  ``coefficients @ prototypes`` upsampled (bilinear) to the input, cut to its box and thresholded at
  sigmoid ``mask_threshold``.

Masks are brought back to the original image size through the preprocessing (undoing letterbox padding or
crops; pixels a crop removed get class 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import Transform
from pt2trt.settings.tasks import TaskSettings
from pt2trt.tasks.base import Labels, Outputs, Result, Task, batch_of, describe_outputs, pick_output, value_range
from pt2trt.tasks.detect import Detections, DetectTask, check_boxes, draw_detections, yolo_candidates
from pt2trt.tasks.draw import LEGEND_ROWS, color, text_panel

if TYPE_CHECKING:
    from PIL import Image


@dataclass
class Segmentation(Result):
    """A class id per original pixel (``[h, w]``); for instance layouts also the instances and their masks.

    With instances, ``mask`` holds class id + 1 where an instance covers the pixel (the best one on top) and 0
    elsewhere.
    """

    mask: np.ndarray
    instances: Detections | None = None
    instance_masks: np.ndarray | None = None  # [K, h, w] bool

    def class_pixels(self) -> list[tuple[int, int]]:
        """``(class, pixel count)`` of every class present, largest first."""
        ids, counts = np.unique(self.mask, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return [(int(ids[i]), int(counts[i])) for i in order]

    def to_dict(self, labels: Labels) -> dict[str, Any]:
        if self.instances is not None:
            dets = self.instances.to_dict(labels)["detections"]
            masks = self.instance_masks if self.instance_masks is not None else np.zeros((len(dets), 0, 0), bool)
            for det, m in zip(dets, masks):
                det["pixels"] = int(m.sum())
            return {"instances": dets}
        total = max(1, self.mask.size)
        return {
            "classes": [
                {"class": c, "label": labels(c), "pixels": n, "fraction": round(n / total, 6)}
                for c, n in self.class_pixels()
            ]
        }


class SegmentTask(Task):
    """Class masks from per-pixel logits, or instance masks from a YOLO-seg head."""

    name = "segment"
    default_preset = "imagenet-segmentation"
    layouts = ("logits", "probabilities", "yolo-seg")
    result_type = Segmentation
    comparator = "pt2trt.comparators.tasks:compare_segmentations"
    uses_output_ops = True

    def __init__(
        self,
        layout: str = "auto",
        conf: float = 0.25,
        iou: float = 0.45,
        max_det: int = 300,
        output: str | None = None,
        mask_threshold: float = 0.5,
    ) -> None:
        super().__init__(layout)
        if not 0 < mask_threshold < 1:
            raise UsageError(
                f"--mask-threshold must be between 0 and 1 (exclusive), got {mask_threshold}",
                "Give a probability, e.g. --mask-threshold 0.5",
            )
        self.instances = DetectTask(conf=conf, iou=iou, max_det=max_det)
        self.output = output
        self.mask_threshold = mask_threshold

    @classmethod
    def from_settings(cls, settings: TaskSettings) -> SegmentTask:
        s = settings
        return cls(s.layout, s.conf, s.iou, s.max_det, s.output_name, s.mask_threshold)

    def decode(self, outputs: Outputs, transforms: Sequence[Transform]) -> list[Result]:
        layout = self.layout if self.layout != "auto" else segment_layout(outputs)
        if layout == "yolo-seg":
            self.resolved_layout = layout
            return self._instances(outputs, transforms)
        name = self._scores_output(outputs)
        scores = batch_of(np.asarray(outputs[name]), len(transforms), "segmentation scores")
        if transforms and channels_last(scores, transforms[0].input_size):
            _, rows, cols, classes = scores.shape
            width, height = transforms[0].input_size
            self.warn(
                "channels-last",
                f"read output {name}{list(scores.shape)} as NHWC ({classes} classes over a {rows}x{cols} grid): "
                f"read as NCHW its {cols}-wide map would not have the {width}x{height} input's shape",
            )
            scores = scores.transpose(0, 3, 1, 2)
        probabilities = self._probabilities(name, scores, self.layout)
        self.resolved_layout = "probabilities" if probabilities else "logits"
        if scores.ndim == 4:
            self.class_count = max(2, scores.shape[1])  # one channel: background and foreground
        threshold = self.mask_threshold if probabilities else logit(self.mask_threshold)
        results: list[Result] = []
        for image_scores, transform in zip(scores, transforms):
            results.append(Segmentation(class_mask_to_original(class_map(image_scores, threshold), transform)))
        return results

    def _scores_output(self, outputs: Outputs) -> str:
        """The per-pixel scores output: ``output``, else ``out``, else the only one shaped like scores."""
        if self.output is None and "out" in outputs and np.ndim(outputs["out"]) in (3, 4):
            return "out"
        candidates = [
            n
            for n, a in outputs.items()
            if np.ndim(a) == 4 or (np.ndim(a) == 3 and np.issubdtype(np.asarray(a).dtype, np.integer))
        ]
        if not candidates and self.output is None:
            raise Pt2trtError(
                f"no output looks like per-pixel class scores [N, classes, H, W]: {describe_outputs(outputs)}",
                "Is this a segmentation model? For YOLO-seg pass --layout yolo-seg",
            )
        return pick_output(outputs, self.output, candidates, "per-pixel class scores", "")

    def _probabilities(self, name: str, scores: np.ndarray, layout: str) -> bool:
        """Whether ``scores`` are probabilities: the layout given, else the graph's last op, else the value range."""
        if not np.issubdtype(scores.dtype, np.floating):
            return False
        low, high = value_range(scores)
        in_range = low >= 0 and high <= 1
        if layout == "probabilities":
            if not in_range:
                self.warn(
                    "probabilities-range",
                    f"--layout probabilities, but output {name} ranges from {low:.3g} to {high:.3g}, outside "
                    "[0, 1]: it looks like logits; pass --layout logits (or auto)",
                )
            return True
        if layout == "logits":
            return False
        op = self.output_ops.get(name)
        if op is None:  # no graph at hand (an engine, OpenVINO IR, PyTorch): the values decide
            return in_range
        if op not in PROBABILITY_OPS and in_range and scores.ndim == 4 and scores.shape[1] == 1:
            self.warn(
                "logits-in-range",
                f"output {name} is computed by {op}, so it is read as logits (sigmoid > --mask-threshold), though "
                "every value is in [0, 1]; pass --layout probabilities if it holds probabilities",
            )
        return op in PROBABILITY_OPS

    def _instances(self, outputs: Outputs, transforms: Sequence[Transform]) -> list[Result]:
        protos_name = next((n for n, a in outputs.items() if np.ndim(a) == 4), None)
        pred_name = next((n for n, a in outputs.items() if np.ndim(a) == 3), None)
        if protos_name is None or pred_name is None:
            raise Pt2trtError(
                f"yolo-seg needs a [N, 4+nc+nm, A] and a [N, nm, mh, mw] output: {describe_outputs(outputs)}",
                "Pass the --layout that matches the outputs (see `pt2trt inspect MODEL.onnx`)",
            )
        count = len(transforms)
        protos = batch_of(np.asarray(outputs[protos_name], dtype=np.float32), count, protos_name)
        pred = batch_of(np.asarray(outputs[pred_name]), count, pred_name)
        channels = protos.shape[1]
        results: list[Result] = []
        for p, proto, transform in zip(pred, protos, transforms):
            cand = yolo_candidates(p, "yolov8", channels)
            kept = self.instances.select(cand)
            self.class_count = cand.class_count
            check_boxes(self, cand.scores, cand.boxes[kept], transform.input_size)
            boxes = cand.boxes[kept]
            assert cand.coefficients is not None
            masks = instance_masks(
                cand.coefficients[kept], proto, boxes, transform.input_size, logit(self.mask_threshold)
            )
            original = transform.mask_to_original(masks, fill=0).astype(bool)
            detections = Detections(
                transform.boxes_to_original(boxes), cand.scores[kept], cand.classes[kept], self.instances.conf
            )
            semantic = np.zeros(transform.original_size[::-1], dtype=np.int64)
            for i in np.argsort(detections.scores, kind="stable"):  # best instance painted last, on top
                semantic[original[i]] = detections.classes[i] + 1
            results.append(Segmentation(semantic, detections, original))
        return results

    def draw(self, image: Image.Image, result: Result, labels: Labels) -> Image.Image:
        assert isinstance(result, Segmentation)
        return draw_segmentation(image, result, labels)

    def label_set(self) -> str | None:
        if self.resolved_layout == "yolo-seg":
            return "coco80"
        return "voc" if self.class_count == 21 else None

    def result_classes(self, result: Result) -> list[int]:
        if not isinstance(result, Segmentation):
            return []
        if result.instances is not None:
            return [int(c) for c in result.instances.classes]
        return [int(c) for c in np.unique(result.mask)]

    def options(self) -> dict[str, Any]:
        d = self.instances.options()
        return {**d, "layout": self.layout, "mask_threshold": self.mask_threshold}


def draw_segmentation(image: Image.Image, seg: Segmentation, labels: Labels, alpha: float = 0.5) -> Image.Image:
    """Masks blended over the picture in class colours (instances with their boxes), and a legend top right."""
    from PIL import Image

    pixels = np.asarray(image, dtype=np.float32)
    if seg.instances is not None and seg.instance_masks is not None:
        overlay = pixels.copy()
        covered = np.zeros(seg.mask.shape, dtype=bool)
        for i in np.argsort(seg.instances.scores, kind="stable"):
            overlay[seg.instance_masks[i]] = color(seg.instances.classes[i])
            covered |= seg.instance_masks[i]
        pixels[covered] = (1 - alpha) * pixels[covered] + alpha * overlay[covered]
        image = Image.fromarray(pixels.astype(np.uint8))
        image = draw_detections(image, seg.instances, labels)
        present = sorted({int(c) for c in seg.instances.classes})
        rows = [(c, f"{labels(c)}") for c in present]
    else:
        colours = np.array([color(c) for c in range(int(seg.mask.max(initial=0)) + 1)], dtype=np.float32)
        painted = seg.mask >= (1 if is_background(labels, 0) else 0)  # the picture shows through the background
        pixels[painted] = (1 - alpha) * pixels[painted] + alpha * colours[seg.mask[painted]]
        image = Image.fromarray(pixels.astype(np.uint8))
        total = max(1, seg.mask.size)
        rows = [(c, f"{labels(c)}  {n / total * 100:.1f}%") for c, n in seg.class_pixels()]
    if len(rows) > LEGEND_ROWS:
        rows = [*rows[: LEGEND_ROWS - 1], (-1, f"+{len(rows) - LEGEND_ROWS + 1} more")]
    unpainted = 0 if seg.instances is None and is_background(labels, 0) else -1
    swatches = [color(c) if c >= 0 and c != unpainted else None for c, _ in rows]
    text_panel(image, [text for _, text in rows], swatches, corner="top-right")
    return image


#: names of a class that is nothing in particular: the picture shows through it (class 0 without a name too)
BACKGROUND_NAMES = ("background", "__background__", "_background_", "bg")


def is_background(labels: Labels, class_id: int) -> bool:
    """Whether ``class_id`` is the background: named so, or class 0 without a name (the convention of
    torchvision's, VOC's and one-channel masks, and the class pt2trt fills cropped-out pixels with)."""
    name = labels(class_id).strip().lower()
    return name in BACKGROUND_NAMES or (class_id == 0 and name == "0")


def segment_layout(outputs: Outputs) -> str:
    three = [n for n, a in outputs.items() if np.ndim(a) == 3 and np.issubdtype(np.asarray(a).dtype, np.floating)]
    four = [n for n, a in outputs.items() if np.ndim(a) == 4]
    if len(three) == 1 and len(four) == 1 and np.shape(outputs[three[0]])[1] > np.shape(outputs[four[0]])[1] + 4:
        return "yolo-seg"
    return "logits"


def channels_last(scores: np.ndarray, input_size: tuple[int, int]) -> bool:
    """Whether ``[N, a, b, c]`` float scores are laid out NHWC: only ``a x b`` has the input's aspect ratio (``b x c``
    does not), and ``c`` is the smaller count. A square ``[N, 64, 64, 64]`` stays NCHW, the usual layout."""
    if scores.ndim != 4 or not np.issubdtype(scores.dtype, np.floating):
        return False
    _, a, b, c = scores.shape
    width, height = input_size
    aspect = np.log(width / height) if width > 0 and height > 0 else 0.0
    as_nchw = abs(np.log(c / b) - aspect) if b and c else np.inf
    as_nhwc = abs(np.log(b / a) - aspect) if a and b else np.inf
    return c < a and as_nhwc + 0.5 < as_nchw


#: ops whose output is a probability: a one-channel map they end in is thresholded as is, not through a sigmoid
PROBABILITY_OPS = ("Sigmoid", "Softmax", "HardSigmoid")


def logit(p: float) -> float:
    """The logit whose sigmoid is ``p``: sigmoid(x) > p  <=>  x > logit(p)."""
    return float(np.log(p / (1 - p)))


def class_map(scores: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """``[C, H, W]`` scores -> ``[H, W]`` class ids (one channel: foreground where the value > ``threshold``:
    0 for logits, i.e. sigmoid > 0.5); an integer ``[H, W]`` map passes."""
    if scores.ndim == 2:
        return scores.astype(np.int64)
    if scores.ndim != 3:
        raise Pt2trtError(
            f"segmentation scores have shape {list(scores.shape)}, expected [classes, H, W]",
            "Pick the scores output with --output-name NAME (see `pt2trt inspect MODEL.onnx`), or another --task",
        )
    if scores.shape[0] == 1:
        return (scores[0] > threshold).astype(np.int64)
    return scores.argmax(axis=0).astype(np.int64)


def class_mask_to_original(mask: np.ndarray, transform: Transform) -> np.ndarray:
    """A mask on the model's output grid (any resolution covering the input) -> the original image's pixels."""
    height, width = mask.shape
    return transform.on_grid(width, height).mask_to_original(mask, fill=0)


def instance_masks(
    coefficients: np.ndarray,
    protos: np.ndarray,
    boxes: np.ndarray,
    input_size: tuple[int, int],
    threshold: float = 0.0,
) -> np.ndarray:
    """``[K, H_in, W_in]`` boolean masks: coefficients @ protos upsampled to the input, above ``threshold`` (a
    logit: 0 is sigmoid 0.5), cut to each box."""
    from PIL import Image

    width, height = input_size
    if len(coefficients) == 0:
        return np.zeros((0, height, width), dtype=bool)
    channels, mh, mw = protos.shape
    logits = (coefficients.astype(np.float32) @ protos.reshape(channels, -1)).reshape(-1, mh, mw)
    masks = np.empty((len(logits), height, width), dtype=bool)
    cols, rows = np.arange(width) + 0.5, np.arange(height) + 0.5
    for i, m in enumerate(logits):
        up = np.asarray(Image.fromarray(np.ascontiguousarray(m, np.float32)).resize((width, height), Image.BILINEAR))
        x1, y1, x2, y2 = boxes[i]
        inside = ((rows >= y1) & (rows < y2))[:, None] & ((cols >= x1) & (cols < x2))[None, :]
        masks[i] = (up > threshold) & inside
    return masks
