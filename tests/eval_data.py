"""Labelled data and models for the eval tests.

* classify: scikit-learn's handwritten digits (labelled by people), upscaled into an ImageFolder, and a small CNN
  trained on the other digits in seconds, exported with its preprocessing recorded;
* detect: scenes of pure red, green and blue rectangles on a dim noise background, with their exact boxes, and an
  ``onnx.helper`` detector that finds the box around each colour's pixels (its outputs are known exactly);
* segment: scenes of coloured discs with their exact index masks (255 on a ring at each disc's border, VOC style),
  and an ``onnx.helper`` segmenter whose class is the dominant pure colour, background where none is bright.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw

from pt2trt.settings import ExportSettings

COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))  # class 0 red, 1 green, 2 blue
NAMES = ("red", "green", "blue")
DIGIT_SIDE = 32  # the 8x8 digits upscaled 4x (nearest)


# -- classify: digits ------------------------------------------------------------------------------------------
def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels): uint8 32x32 pictures of the 8x8 digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    pixels = (data.images * 15).clip(0, 255).astype(np.uint8)  # 0-16 -> 0-240
    big = pixels.repeat(DIGIT_SIDE // 8, axis=1).repeat(DIGIT_SIDE // 8, axis=2)
    order = np.random.default_rng(0).permutation(len(big))
    train, test = order[:1300], order[1300:]
    return big[train], data.target[train], big[test], data.target[test]


def write_digits(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """An ImageFolder: ``folder/<digit>/<n>.png``."""
    for n, (pixels, label) in enumerate(zip(images, labels)):
        target = folder / str(int(label))
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels, "L").save(target / f"{n:04d}.png")
    return folder


def train_digits_cnn(images: np.ndarray, labels: np.ndarray, epochs: int = 6):  # -> torch.nn.Module
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 8 * 8, 10),
    )  # fmt: skip
    optimiser = torch.optim.Adam(model.parameters(), 3e-3)
    x = torch.from_numpy(images.astype(np.float32)[:, None] / 255)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    for _ in range(epochs):
        for i in range(0, len(x), 64):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64]).backward()
            optimiser.step()
    return model.eval()


def export_digits(model, path: Path) -> Path:
    from pt2trt.imaging.preprocess import Preprocess
    from pt2trt.pytorch.export import export
    from pt2trt.shapes import InputSpec

    preprocess = Preprocess(resize="stretch", size=(DIGIT_SIDE, DIGIT_SIDE), channels="L")
    spec = InputSpec("input", (1, 1, DIGIT_SIDE, DIGIT_SIDE), "float32", {0: "batch"})
    export(model, [spec], path, ExportSettings(exporter="legacy", preprocess=preprocess), force=True)
    return path


def damage(source: Path, target: Path, scale: float = 0.0, seed: int = 0) -> Path:
    """A copy of ``source`` whose first convolution's weights are shuffled (``scale`` 0) or noised."""
    model = onnx.load(source)
    rng = np.random.default_rng(seed)
    init = next(i for i in model.graph.initializer if numpy_helper.to_array(i).ndim == 4)
    weights = numpy_helper.to_array(init).copy()
    if scale == 0:
        flat = weights.reshape(-1)
        rng.shuffle(flat)
        weights = flat.reshape(weights.shape)
    else:
        weights = weights + rng.normal(0, scale * weights.std(), weights.shape).astype(weights.dtype)
    init.CopyFrom(numpy_helper.from_array(weights, init.name))
    onnx.save(model, target)
    return target


# -- detect: coloured rectangles ---------------------------------------------------------------------------------
def rectangle_scenes(count: int, size: tuple[int, int] = (96, 64), seed: int = 0) -> list[tuple[Image.Image, list]]:
    """Pictures with at most one rectangle per colour, and their boxes ``(class, x, y, w, h)`` (exact pixels)."""
    rng = np.random.default_rng(seed)
    width, height = size
    scenes = []
    for _ in range(count):
        noise = rng.integers(0, 100, (height, width, 3), dtype=np.uint8)
        image = Image.fromarray(noise)
        draw = ImageDraw.Draw(image)
        boxes = []
        for cls in rng.permutation(3)[: int(rng.integers(1, 4))]:
            w, h = int(rng.integers(8, width // 2)), int(rng.integers(8, height // 2))
            x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
            occupied = any(
                not (x + w <= bx or bx + bw <= x or y + h <= by or by + bh <= y) for _, bx, by, bw, bh in boxes
            )
            if occupied:
                continue
            draw.rectangle((x, y, x + w - 1, y + h - 1), fill=COLOURS[cls])
            boxes.append((int(cls), x, y, w, h))
        scenes.append((image, boxes))
    return scenes


def write_coco(folder: Path, scenes: list, *, first_category: int = 1, suffix: str = ".png") -> Path:
    """Pictures in ``folder/images/`` and ``folder/annotations.json`` (category id = class + ``first_category``)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for n, (image, boxes) in enumerate(scenes, start=1):
        name = f"scene{n:03d}{suffix}"
        image.save(folder / "images" / name)
        images.append({"id": n, "file_name": name, "width": image.width, "height": image.height})
        for cls, x, y, w, h in boxes:
            annotations.append({"id": len(annotations) + 1, "image_id": n, "category_id": cls + first_category,
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})  # fmt: skip
    categories = [{"id": c + first_category, "name": name} for c, name in enumerate(NAMES)]
    path = folder / "annotations.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def write_yolo(folder: Path, scenes: list) -> Path:
    """``folder/images/*.png``, ``folder/labels/*.txt`` and ``folder/data.yaml``."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    for n, (image, boxes) in enumerate(scenes, start=1):
        image.save(folder / "images" / f"scene{n:03d}.png")
        lines = [
            f"{cls} {(x + w / 2) / image.width:.6f} {(y + h / 2) / image.height:.6f} "
            f"{w / image.width:.6f} {h / image.height:.6f}"
            for cls, x, y, w, h in boxes
        ]
        (folder / "labels" / f"scene{n:03d}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    (folder / "data.yaml").write_text(f"path: .\nval: images\nnames: {list(NAMES)}\n")
    return folder / "data.yaml"


def colour_box_detector(height: int, width: int, shrink: float = 0.0) -> onnx.ModelProto:
    """End-to-end-NMS outputs: for each pure colour c, the box around the pixels where channel c > 0.5 and the
    others < 0.5 (x2, y2 exclusive), score 1 when there are any (else 0), class c. ``shrink`` pulls each box's right
    and bottom edges in by that fraction of its size (a damaged copy with a known IoU)."""
    big = 1e9
    nodes = [
        helper.make_node("Greater", ["images", "half"], ["bright"]),  # [N, 3, H, W]
        helper.make_node("Cast", ["bright"], ["bright_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["bright_f", "axis1"], ["count"], keepdims=1),  # [N, 1, H, W]
        helper.make_node("Equal", ["count", "one"], ["single"]),
        helper.make_node("Cast", ["single"], ["single_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["bright_f", "single_f"], ["pure"]),  # [N, 3, H, W]
        helper.make_node("ReduceMax", ["pure", "axis2"], ["cols_f"], keepdims=0),  # [N, 3, W]
        helper.make_node("ReduceMax", ["pure", "axis3"], ["rows_f"], keepdims=0),  # [N, 3, H]
        helper.make_node("Cast", ["cols_f"], ["cols"], to=TensorProto.BOOL),
        helper.make_node("Cast", ["rows_f"], ["rows"], to=TensorProto.BOOL),
        helper.make_node("Where", ["cols", "xs", "plus_big"], ["x_lo"]),
        helper.make_node("Where", ["cols", "xs_end", "minus_big"], ["x_hi"]),
        helper.make_node("Where", ["rows", "ys", "plus_big"], ["y_lo"]),
        helper.make_node("Where", ["rows", "ys_end", "minus_big"], ["y_hi"]),
        helper.make_node("ReduceMin", ["x_lo", "axis2"], ["x1"], keepdims=1),  # [N, 3, 1]
        helper.make_node("ReduceMax", ["x_hi", "axis2"], ["x2_full"], keepdims=1),
        helper.make_node("ReduceMin", ["y_lo", "axis2"], ["y1"], keepdims=1),
        helper.make_node("ReduceMax", ["y_hi", "axis2"], ["y2_full"], keepdims=1),
        helper.make_node("Sub", ["x2_full", "x1"], ["w"]),
        helper.make_node("Sub", ["y2_full", "y1"], ["h"]),
        helper.make_node("Mul", ["w", "keep"], ["w_kept"]),
        helper.make_node("Mul", ["h", "keep"], ["h_kept"]),
        helper.make_node("Add", ["x1", "w_kept"], ["x2"]),
        helper.make_node("Add", ["y1", "h_kept"], ["y2"]),
        helper.make_node("Concat", ["x1", "y1", "x2", "y2"], ["det_boxes"], axis=2),  # [N, 3, 4]
        helper.make_node("ReduceMax", ["cols_f", "axis2"], ["det_scores"], keepdims=0),  # [N, 3]
        helper.make_node("Shape", ["det_scores"], ["score_shape"]),
        helper.make_node("Slice", ["score_shape", "zero1", "one1"], ["batch"]),
        helper.make_node("Concat", ["batch", "one1"], ["num_shape"], axis=0),
        helper.make_node("Expand", ["three", "num_shape"], ["num_dets"]),
        helper.make_node("Expand", ["classes_row", "score_shape"], ["det_classes"]),
    ]  # fmt: skip
    inits = [
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array([2], np.int64), "axis2"),
        numpy_helper.from_array(np.array([3], np.int64), "axis3"),
        numpy_helper.from_array(np.arange(width, dtype=np.float32), "xs"),
        numpy_helper.from_array(np.arange(1, width + 1, dtype=np.float32), "xs_end"),
        numpy_helper.from_array(np.arange(height, dtype=np.float32), "ys"),
        numpy_helper.from_array(np.arange(1, height + 1, dtype=np.float32), "ys_end"),
        numpy_helper.from_array(np.array(big, np.float32), "plus_big"),
        numpy_helper.from_array(np.array(-big, np.float32), "minus_big"),
        numpy_helper.from_array(np.array(1.0 - shrink, np.float32), "keep"),
        numpy_helper.from_array(np.array([0], np.int64), "zero1"),
        numpy_helper.from_array(np.array([1], np.int64), "one1"),
        numpy_helper.from_array(np.array([[3]], np.int32), "three"),
        numpy_helper.from_array(np.array([[0, 1, 2]], np.int32), "classes_row"),
    ]
    graph = helper.make_graph(
        nodes,
        "colour_box_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, height, width])],
        [
            helper.make_tensor_value_info("num_dets", TensorProto.INT32, ["N", 1]),
            helper.make_tensor_value_info("det_boxes", TensorProto.FLOAT, ["N", 3, 4]),
            helper.make_tensor_value_info("det_scores", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("det_classes", TensorProto.INT32, ["N", 3]),
        ],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)


# -- segment: coloured discs -----------------------------------------------------------------------------------
def disc_scenes(count: int, size: tuple[int, int] = (80, 60), seed: int = 0) -> list[tuple[Image.Image, np.ndarray]]:
    """Pictures with pure-colour discs on dim noise, and index masks: 0 background, 1 red, 2 green, 3 blue, 255 on
    a one-pixel ring at each disc's border (VOC's "not scored")."""
    rng = np.random.default_rng(seed)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    scenes = []
    for _ in range(count):
        pixels = rng.integers(0, 100, (height, width, 3), dtype=np.uint8)
        mask = np.zeros((height, width), np.uint8)
        for cls in rng.permutation(3)[: int(rng.integers(1, 4))]:
            r = float(rng.uniform(5, min(width, height) / 4))
            cx, cy = rng.uniform(r, width - r), rng.uniform(r, height - r)
            distance = np.hypot(xx - cx, yy - cy)
            inside = distance < r
            pixels[inside] = COLOURS[cls]
            mask[inside] = cls + 1
            mask[np.abs(distance - r) < 0.5] = 255
        scenes.append((Image.fromarray(pixels), mask))
    return scenes


def write_masks(folder: Path, scenes: list) -> Path:
    """``folder/images/*.png`` and ``folder/masks/*.png`` (mode P, VOC's palette style)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    for n, (image, mask) in enumerate(scenes):
        image.save(folder / "images" / f"disc{n:03d}.png")
        indexed = Image.fromarray(mask, "P")
        indexed.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [224, 224, 192] * 252)
        indexed.save(folder / "masks" / f"disc{n:03d}.png")
    return folder


def colour_segmenter(swap: bool = False) -> onnx.ModelProto:
    """``images [N, 3, H, W] -> out [N, 4, H, W]``: logits (0.5, R, G, B), so a pixel is the pure colour that is
    bright (1-3), else background (0). ``swap`` exchanges green and blue (a damaged copy)."""
    order = [0, 2, 1] if swap else [0, 1, 2]
    nodes = [
        helper.make_node("Gather", ["images", "order"], ["channels"], axis=1),
        helper.make_node("ReduceMean", ["images", "axis1"], ["mean"], keepdims=1),
        helper.make_node("Mul", ["mean", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "half"], ["background"]),
        helper.make_node("Concat", ["background", "channels"], ["out"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "colour_segmenter",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 4, "H", "W"])],
        initializer=[
            numpy_helper.from_array(np.array(order, np.int64), "order"),
            numpy_helper.from_array(np.array([1], np.int64), "axis1"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)
