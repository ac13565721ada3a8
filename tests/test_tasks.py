"""The task maths on ONNX models whose outputs are known constants (or simple functions of the pixels), run through
``pt2trt.prediction.predict`` with ONNX Runtime: decoding of every layout, NMS, thresholds, letterbox mapping to the
pixel, masks brought back to odd image sizes, batching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from PIL import Image

import pt2trt
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.settings import PredictSettings, PreprocessSettings, ReadSettings, TaskSettings
from pt2trt.tasks.boxes import box_iou, nms
from tests.models import bright_box_detector, channel_segmenter, constant_outputs_model, uint8_nhwc_mean_colour

# cx, cy, w, h (input pixels), score class 0, score class 1
YOLO_BOXES = np.array(
    [
        [100, 100, 100, 100, 0.9, 0.0],  # 0 kept: best
        [105, 100, 100, 100, 0.8, 0.0],  # 1 IoU 0.905 with 0, same class: suppressed
        [100, 100, 100, 100, 0.0, 0.7],  # 2 same place as 0 but class 1: kept (class-aware)
        [400, 400, 100, 100, 0.6, 0.0],  # 3 kept
        [300, 100, 50, 50, 0.1, 0.0],  # 4 below --conf 0.25
        [150, 100, 100, 100, 0.5, 0.0],  # 5 IoU 1/3 with 0: kept
        [400, 400, 100, 50, 0.55, 0.0],  # 6 IoU 0.5 with 3: suppressed
        [400, 400, 100, 100, 0.0, 0.3],  # 7 class 1, above --conf: kept
    ],
    dtype=np.float32,
)
KEPT = [0, 2, 3, 5, 7]


def xyxy(rows: np.ndarray) -> np.ndarray:
    return np.concatenate([rows[:, :2] - rows[:, 2:4] / 2, rows[:, :2] + rows[:, 2:4] / 2], axis=1)


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def picture(path: Path, width: int, height: int, color=(40, 40, 40)) -> Path:
    Image.new("RGB", (width, height), color).save(path)
    return path


def detect(model: Path, images: list[Path], preprocess: str = "yolo-letterbox-640", **task: Any) -> list:
    settings = PredictSettings(TaskSettings(task="detect", **task), PreprocessSettings(preprocess))
    return [p.result for p in pt2trt.predict(model, images, settings)]


@pytest.fixture
def square(tmp_path: Path) -> Path:
    return picture(tmp_path / "square.png", 640, 640)


def test_yolov8_layout_nms_keeps_the_known_subset(tmp_path: Path, square: Path) -> None:
    model = save(constant_outputs_model({"output0": YOLO_BOXES.T[None]}, ("N", 3, 640, 640)), tmp_path / "v8.onnx")
    (result,) = detect(model, [square])  # layout chosen automatically: [1, 6, 8] is [N, 4+nc, A]
    assert np.array_equal(result.boxes, xyxy(YOLO_BOXES[KEPT]))
    assert np.allclose(result.scores, [0.9, 0.7, 0.6, 0.5, 0.3])
    assert result.classes.tolist() == [0, 1, 0, 0, 1]
    assert len(detect(model, [square], max_det=2)[0]) == 2
    assert detect(model, [square], max_det=2)[0].scores.tolist() == pytest.approx([0.9, 0.7])
    loose = detect(model, [square], iou=0.95)[0]  # nothing overlaps that much: all 7 boxes above --conf stay
    assert sorted(loose.scores.round(2).tolist()) == [0.3, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9]
    assert detect(model, [square], conf=0.65)[0].scores.tolist() == pytest.approx([0.9, 0.7])


def test_yolov5_layout_multiplies_objectness(tmp_path: Path, square: Path) -> None:
    rows = np.concatenate([YOLO_BOXES[:, :4], np.ones((8, 1), np.float32), YOLO_BOXES[:, 4:]], axis=1)
    rows[7, 4], rows[7, 6] = 0.5, 0.6  # objectness 0.5 x class score 0.6 = 0.3, as before
    model = save(constant_outputs_model({"output0": rows[None]}, ("N", 3, 640, 640)), tmp_path / "v5.onnx")
    (result,) = detect(model, [square])  # [1, 8, 7]: [N, A, 5+nc]
    assert np.array_equal(result.boxes, xyxy(YOLO_BOXES[KEPT]))
    assert np.allclose(result.scores, [0.9, 0.7, 0.6, 0.5, 0.3])


def test_nms_function_directly() -> None:
    boxes = xyxy(YOLO_BOXES)
    above = YOLO_BOXES[:, 4:].max(axis=1) >= 0.25
    classes = YOLO_BOXES[:, 4:].argmax(axis=1)
    kept = nms(boxes[above], YOLO_BOXES[above, 4:].max(axis=1), classes[above], iou_threshold=0.45)
    assert np.flatnonzero(above)[kept].tolist() == KEPT
    agnostic = nms(boxes[above], YOLO_BOXES[above, 4:].max(axis=1), None, iou_threshold=0.45)
    assert np.flatnonzero(above)[agnostic].tolist() == [0, 3, 5], "without classes, 2 and 7 overlap 0 and 3"
    assert box_iou(boxes[[0]], boxes[[1, 5, 2]]).round(4).tolist() == [[round(95 / 105, 4), round(1 / 3, 4), 1.0]]
    assert nms(np.zeros((0, 4)), np.zeros(0)).tolist() == []


@pytest.mark.parametrize(
    ("width", "height", "rect"),
    [(203, 101, (30, 20, 151, 61)), (97, 211, (10, 50, 81, 181)), (640, 640, (100, 300, 101, 640))],
)
def test_letterbox_maps_back_to_the_pixel(tmp_path: Path, width: int, height: int, rect: tuple) -> None:
    """A model that boxes the bright pixels of its (letterboxed) input: the box must land on the drawn rectangle."""
    pixels = np.zeros((height, width, 3), np.uint8)
    x1, y1, x2, y2 = rect
    pixels[y1:y2, x1:x2] = 255
    path = tmp_path / "bright.png"
    Image.fromarray(pixels).save(path)
    model = save(bright_box_detector(640, 640), tmp_path / "bright.onnx")
    (result,) = detect(model, [path])  # num_dets/det_boxes/...: the end-to-end NMS layout
    assert np.round(result.boxes).astype(int).tolist() == [list(rect)]
    assert np.abs(result.boxes - np.array(rect)).max() < 0.5


def test_end_to_end_nms_layout_on_a_non_square_image(tmp_path: Path) -> None:
    outputs = {
        "num_dets": np.array([[2]], np.int32),
        "det_boxes": np.array([[[100, 200, 300, 400], [0, 150, 640, 500], [1, 1, 2, 2]]], np.float32),
        "det_scores": np.array([[0.9, 0.2, 0.99]], np.float32),
        "det_classes": np.array([[3, 1, 0]], np.int32),
    }
    model = save(constant_outputs_model(outputs, ("N", 3, 640, 640)), tmp_path / "e2e.onnx")
    image = picture(tmp_path / "wide.png", 320, 160)  # letterbox: x2, 160 rows of padding above
    (result,) = detect(model, [image], conf=0.1)
    # only num_dets=2 boxes count; the second reaches into the padding and is clipped to the image
    assert result.boxes.tolist() == [[50, 20, 150, 120], [0, 0, 320, 160]]
    assert result.classes.tolist() == [3, 1] and result.scores.tolist() == pytest.approx([0.9, 0.2])
    assert len(detect(model, [image])[0]) == 1, "--conf 0.25 drops the 0.2 box"


def test_torchvision_layout_and_stretch_mapping(tmp_path: Path) -> None:
    outputs = {
        "boxes": np.array([[32, 64, 160, 320], [0, 0, 32, 32], [16, 16, 48, 48]], np.float32),
        "scores": np.array([0.8, 0.1, 0.95], np.float32),
        "labels": np.array([5, 2, 7], np.int64),
    }
    model = save(constant_outputs_model(outputs, (1, 3, 320, 320), batched=False), tmp_path / "tv.onnx")
    image = picture(tmp_path / "wide.jpg", 200, 100)
    (result,) = detect(model, [image], preprocess="torchvision-detection")
    # stretch 200x100 -> 320x320: x / 1.6, y / 3.2; best score first; 0.1 below --conf
    assert np.allclose(result.boxes, [[10, 5, 30, 15], [20, 20, 100, 100]])
    assert result.classes.tolist() == [7, 5]


@pytest.mark.parametrize(("width", "height"), [(37, 23), (51, 17), (13, 41)])
@pytest.mark.parametrize("resize", ["stretch", "letterbox"])
def test_segmentation_mask_back_to_odd_sizes(tmp_path: Path, width: int, height: int, resize: str) -> None:
    """Logits = the pixels: the mask must be the dominant colour of each original pixel."""
    classes = np.zeros((height, width), np.int64)
    classes[:, width // 3 :] = 1
    classes[height // 2 :, (2 * width) // 3 :] = 2
    pixels = (np.eye(3, dtype=np.uint8)[classes] * 255).astype(np.uint8)
    path = tmp_path / "bands.png"
    Image.fromarray(pixels).save(path)
    model = save(channel_segmenter(), tmp_path / "seg.onnx")
    (prediction,) = pt2trt.predict(
        model,
        [path],
        PredictSettings(
            task=TaskSettings(task="segment"),
            preprocess=PreprocessSettings("imagenet-segmentation", size=(64, 96), resize=resize),
        ),
    )
    mask = prediction.result.mask
    assert mask.shape == (height, width) and prediction.size == (width, height)
    assert np.array_equal(mask, classes)
    record = prediction.to_dict()
    assert sum(c["pixels"] for c in record["classes"]) == width * height
    assert {c["class"]: c["pixels"] for c in record["classes"]} == {
        c: int((classes == c).sum()) for c in range(3) if (classes == c).any()
    }


def test_yolo_seg_instances_and_masks(tmp_path: Path) -> None:
    # boxes (cx, cy, w, h), 2 class scores, 1 mask coefficient; prototypes are +5 everywhere
    rows = np.array(
        [
            [20, 30, 20, 10, 0.9, 0.0, 1.0],  # mask = its box: 20 x 10 pixels
            [50, 50, 10, 10, 0.0, 0.8, -1.0],  # negative coefficient: an empty mask, still an instance
            [40, 40, 10, 10, 0.1, 0.0, 1.0],  # below --conf
        ],
        np.float32,
    )
    outputs = {"output0": rows.T[None], "output1": np.full((1, 1, 16, 16), 5.0, np.float32)}
    model = save(constant_outputs_model(outputs, ("N", 3, 64, 64)), tmp_path / "yoloseg.onnx")
    image = picture(tmp_path / "img.png", 128, 64)  # letterbox 64x64: x0.5, 16 rows of padding above
    (prediction,) = pt2trt.predict(
        model,
        [image],
        PredictSettings(
            task=TaskSettings(task="segment"), preprocess=PreprocessSettings("yolo-letterbox-640", size=(64, 64))
        ),
    )
    seg = prediction.result
    assert seg.instances is not None and seg.instances.classes.tolist() == [0, 1]
    # input (10, 25, 30, 35) and (45, 45, 55, 55); the second is clipped at the image's bottom edge
    assert seg.instances.boxes.tolist() == [[20, 18, 60, 38], [90, 58, 110, 64]]
    assert seg.instance_masks.shape == (2, 64, 128)
    assert seg.instance_masks[0].sum() == 40 * 20 and seg.instance_masks[1].sum() == 0
    ys, xs = np.nonzero(seg.instance_masks[0])
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (20, 59, 18, 37)
    assert [i["pixels"] for i in prediction.to_dict()["instances"]] == [800, 0]


def test_classification_softmax_top_k_and_batches(tmp_path: Path) -> None:
    logits = save(
        constant_outputs_model({"logits": np.array([[1.0, 2.0, 3.0, 0.0]], np.float32)}), tmp_path / "logits.onnx"
    )
    images = [picture(tmp_path / f"{i}.png", 30 + i, 20) for i in range(3)]
    predictions = pt2trt.predict(
        logits, images, PredictSettings(task=TaskSettings(task="classify", top_k=2), read=ReadSettings(batch=2))
    )  # a partial last batch
    assert [p.name for p in predictions] == ["0.png", "1.png", "2.png"]
    e = np.exp([1.0, 2.0, 3.0, 0.0])
    for p in predictions:
        assert [c for c, _ in p.result.top] == [2, 1]
        assert [s for _, s in p.result.top] == pytest.approx([e[2] / e.sum(), e[1] / e.sum()])
        assert p.to_dict()["softmax_applied"] is True
    probs = save(constant_outputs_model({"prob": np.array([[0.1, 0.6, 0.3]], np.float32)}), tmp_path / "probs.onnx")
    (p,) = pt2trt.predict(probs, images[:1], PredictSettings(task=TaskSettings(task="classify")))
    assert p.result.top[0] == (1, pytest.approx(0.6)) and p.to_dict()["softmax_applied"] is False
    (forced,) = pt2trt.predict(probs, images[:1], PredictSettings(task=TaskSettings(task="classify", layout="logits")))
    assert forced.result.top[0][1] == pytest.approx(np.exp(0.6) / np.exp([0.1, 0.6, 0.3]).sum())


def test_uint8_nhwc_input_gets_raw_pixels(tmp_path: Path) -> None:
    """A model taking uint8 NHWC (normalisation inside, as after ``pt2trt edit --uint8-nhwc``) gets raw pixels in
    its own layout, whatever the preset says."""
    model = save(uint8_nhwc_mean_colour(), tmp_path / "u8.onnx")
    image = picture(tmp_path / "c.png", 20, 10, color=(1, 3, 2))
    (p,) = pt2trt.predict(
        model,
        [image],
        PredictSettings(task=TaskSettings(task="classify"), preprocess=PreprocessSettings("imagenet-classification")),
    )
    assert p.result.probabilities == pytest.approx(np.exp([1, 3, 2]) / np.exp([1, 3, 2]).sum())


def test_static_batches_are_padded_or_refused(tmp_path: Path) -> None:
    images = [picture(tmp_path / f"{i}.png", 64, 64) for i in range(3)]
    logits = {"logits": np.array([[0.0, 1.0]], np.float32)}
    two = save(constant_outputs_model(logits, (2, 3, 64, 64)), tmp_path / "two.onnx")
    assert (
        len(
            pt2trt.predict(two, images, PredictSettings(task=TaskSettings(task="classify"), read=ReadSettings(batch=2)))
        )
        == 3
    )  # last batch padded, extra result dropped
    one = save(constant_outputs_model(logits, (1, 3, 64, 64)), tmp_path / "one.onnx")
    with pytest.raises(UsageError, match="static batch size of 1"):
        pt2trt.predict(one, images, PredictSettings(task=TaskSettings(task="classify"), read=ReadSettings(batch=2)))


def test_undecodable_outputs_are_user_errors(tmp_path: Path, square: Path) -> None:
    flat = save(constant_outputs_model({"out": np.zeros((1, 5), np.float32)}, ("N", 3, 640, 640)), tmp_path / "f.onnx")
    with pytest.raises(Pt2trtError, match="--layout"):
        detect(flat, [square])
    with pytest.raises(Pt2trtError, match="segmentation model"):
        pt2trt.predict(flat, [square], PredictSettings(task=TaskSettings(task="segment")))
    with pytest.raises(UsageError, match="no output layout 'yolov8'"):
        pt2trt.predict(flat, [square], PredictSettings(task=TaskSettings(task="classify", layout="yolov8")))
    image4 = save(constant_outputs_model({"out": np.zeros((1, 5), np.float32)}, ("N", 4, 64, 64)), tmp_path / "c4.onnx")
    with pytest.raises(Pt2trtError, match="4 channels"):
        pt2trt.predict(image4, [square], PredictSettings(task=TaskSettings(task="classify")))
