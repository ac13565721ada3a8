"""Detection heads that are not one YOLO tensor in pixels: each is recognised from its output shapes and the input
size, decoded when the shapes say everything needed, and named with what is missing when not; decoded boxes that
cannot be pixels are warned about.

Models: rapid_layout's trained PP-PicoDet layout detector (eight raw outputs; its own decoding is the reference),
YOLOv8n built from ultralytics' yaml and exported from eval mode and by its exporter's mode, and heads built here
with onnx.helper (YOLOX grid-relative, RetinaFace's loc / conf / landms over 16,800 priors)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image, ImageDraw

import pt2trt
from pt2trt.comparators.tasks import compare_detections, match_boxes
from pt2trt.errors import Pt2trtError
from pt2trt.prediction.image_model import ImageModel
from pt2trt.prediction.predict import Predictor
from pt2trt.settings import PredictSettings, PreprocessSettings, TaskSettings
from pt2trt.tasks.detect import Detections, DetectTask
from tests.conftest import assert_one_line_error
from tests.models import constant_outputs_model
from tests.test_predict_cli import records
from tests.third_party_models import layout_picodet, yolov8n_onnx

IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225), "resize": "stretch"}


def save(model: onnx.ModelProto, path: Path) -> Path:
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def page(path: Path, width: int = 608, height: int = 800) -> Path:
    """A document page: a title line, a paragraph of text lines, a ruled table, another paragraph."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((60, 40), "A TITLE OF THE PAGE", fill="black")
    for i in range(12):
        draw.line((60, 100 + i * 18, 540, 100 + i * 18), fill="black", width=8)
    draw.rectangle((60, 360, 540, 600), outline="black", width=3)
    for r in range(5):
        draw.line((60, 360 + r * 48, 540, 360 + r * 48), fill="black", width=2)
    for c in range(4):
        draw.line((60 + c * 120, 360, 60 + c * 120, 600), fill="black", width=2)
    for i in range(6):
        draw.line((60, 640 + i * 18, 540, 640 + i * 18), fill="black", width=8)
    image.save(path)
    return path


def rapid_layout_post_process():
    """rapid_layout's own PicoDet decoding (``model_handler/pp/post_process.py``: numpy only), loaded by path."""
    spec = importlib.util.find_spec("rapid_layout")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "model_handler" / "pp" / "post_process.py"
    module_spec = importlib.util.spec_from_file_location("rapid_layout_pp_post_process", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.PPPostProcess


# -- multi-level anchor-free heads (PP-PicoDet) ----------------------------------------------------------------------
def test_picodet_layout_head_decodes_like_its_own_post_processing(tmp_path: Path) -> None:
    model = layout_picodet()
    labels = onnx.load(str(model)).metadata_props[0].value.splitlines()  # "character": its 10 class names
    picture = page(tmp_path / "page.png")  # the model's own 800x608 input size: no scaling either way
    task = DetectTask(conf=0.4, iou=0.5)
    with ImageModel(model, preprocess=PreprocessSettings(**IMAGENET)) as image_model:
        sample, transform = image_model.preprocess.apply(Image.open(picture).convert("RGB"))
        outputs = image_model.run(sample[None])
    (ours,) = task.decode(outputs, [transform])
    assert task.resolved_layout == "gfl" and task.class_count == 10
    assert "strides 8, 16, 32, 64" in task.warnings[0] and "8 bins per side" in task.warnings[0]
    theirs = rapid_layout_post_process()(labels, conf_thres=0.4, iou_thres=0.5)
    boxes, scores, names = theirs((800, 608), sample[None], list(outputs.values()))  # as its handler calls it
    reference = Detections(np.array(boxes), np.array(scores), np.array([labels.index(n) for n in names]))
    match = match_boxes(reference, ours, 0.99)
    assert len(reference) >= 3 and len(match.pairs) == len(reference) == len(ours), (names, ours)
    assert {labels[c] for c in ours.classes} >= {"table"}  # the ruled table is found as one
    np.testing.assert_allclose(np.sort(ours.scores), np.sort(reference.scores), rtol=1e-6)


def test_picking_one_level_of_a_multi_level_head_is_refused(tmp_path: Path, cli) -> None:
    model = layout_picodet()
    picture = page(tmp_path / "page.png")
    common = ["predict", str(model), str(picture), "--task", "detect", "--resize", "stretch"]
    common += ["--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"]
    result = cli(*common, "--output-name", "transpose_0.tmp_0")
    assert_one_line_error(result, "one part of a multi-level head", "Leave out --output-name")
    decoded = cli(*common, "--layout", "gfl", "--conf", "0.4")
    assert decoded.returncode == 0, decoded.stderr
    assert len(records(decoded.stdout)[0]["detections"]) >= 3


# -- the fused YOLOv8 head beside its parts --------------------------------------------------------------------------
@pytest.mark.slow
def test_yolov8_eval_mode_export_decodes_its_complete_head(tmp_path: Path) -> None:
    """An eval-mode export has four 3-D outputs (fused head, DFL bins, class logits) and three feature maps: the
    fused one is decoded, said in a warning, and gives what the exporter-mode export of the same weights gives."""
    eval_model = yolov8n_onnx(tmp_path / "eval.onnx", eval_mode=True)
    export_model = yolov8n_onnx(tmp_path / "export.onnx")
    picture = page(tmp_path / "page.png", 320, 320)
    settings = PredictSettings(
        task=TaskSettings(task="detect", conf=0.001),
        preprocess=PreprocessSettings("yolo-letterbox-640", size=(320, 320)),
    )
    with Predictor(eval_model, settings) as predictor:
        (from_eval,) = predictor.run([picture])
    (warning,) = [w for w in predictor.warnings if "complete head" in w]
    assert "[1, 84, 2100]" in warning and "[1, 64, 2100] (box distribution bins, not boxes)" in warning
    (from_export,) = pt2trt.predict(export_model, [picture], settings)
    assert len(from_export.result) > 0
    comparison = compare_detections([from_export.result], [from_eval.result])
    assert comparison.passed and comparison.metrics["matched_fraction"] == 1.0, comparison.summary()


# -- YOLOX grid-relative boxes ---------------------------------------------------------------------------------------
def yolox_head(size: int = 64, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A YOLOX head exported without decoding for a ``size`` square input (strides 8, 16, 32), and the pixel boxes
    (x1, y1, x2, y2) of its three confident anchors, computed here by hand."""
    levels = [(8, size // 8), (16, size // 16), (32, size // 32)]
    anchors = sum(n * n for _, n in levels)
    rows = np.zeros((anchors, 5 + classes), np.float32)
    rows[:, 2:4] = -2.0  # log-space: exp(-2) * stride, small boxes
    rows[:, 4] = 0.01  # objectness: nothing here
    rows[:, 5] = 0.5
    expected = []
    picks = [
        (0, 8, 2, 3, (0.3, 0.6), (1.0, 0.5)),
        (1, 16, 1, 2, (0.5, 0.5), (1.5, 1.2)),
        (2, 32, 1, 0, (0.2, 0.9), (0.7, 0.4)),
    ]
    for level, stride, row, col, (dx, dy), (lw, lh) in picks:
        start = sum(n * n for _, n in levels[:level])
        index = start + row * levels[level][1] + col
        rows[index, :4] = [dx, dy, lw, lh]
        rows[index, 4] = 0.9
        rows[index, 5 + level] = 0.95
        cx, cy = (col + dx) * stride, (row + dy) * stride
        w, h = np.exp(lw) * stride, np.exp(lh) * stride
        expected.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return rows[None], np.array(expected)


def test_yolox_grid_relative_head_is_decoded_with_its_strides(tmp_path: Path) -> None:
    head, expected = yolox_head()
    model = save(constant_outputs_model({"output": head}, ("N", 3, 64, 64)), tmp_path / "yolox.onnx")
    picture = tmp_path / "p.png"
    Image.new("RGB", (64, 64), "gray").save(picture)
    plain = PreprocessSettings(size=(64, 64), resize="stretch")
    with Predictor(model, PredictSettings(task=TaskSettings(task="detect"), preprocess=plain)) as predictor:
        (prediction,) = predictor.run([picture])
    assert predictor.task.resolved_layout == "yolox"
    (warning,) = predictor.warnings
    assert "YOLOX grid-relative" in warning and "strides 8, 16, 32" in warning and "--layout yolov5" in warning
    order = np.argsort(prediction.result.boxes[:, 0])
    np.testing.assert_allclose(
        prediction.result.boxes[order], expected[np.argsort(expected[:, 0])].clip(0, 64), atol=1e-4
    )
    assert sorted(prediction.result.classes.tolist()) == [0, 1, 2]
    # read as pixels on demand: boxes of 0.1 px, said
    with Predictor(
        model, PredictSettings(task=TaskSettings(task="detect", layout="yolov5"), preprocess=plain)
    ) as predictor:
        list(predictor.run([picture]))
    assert any("smaller than a pixel" in w for w in predictor.warnings)


# -- heads over priors -------------------------------------------------------------------------------------------------
def test_retinaface_head_over_16800_priors_says_what_decoding_needs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    outputs = {
        "loc": rng.normal(size=(1, 16800, 4)).astype(np.float32),
        "conf": rng.uniform(size=(1, 16800, 2)).astype(np.float32),
        "landms": rng.normal(size=(1, 16800, 10)).astype(np.float32),
    }
    model = save(constant_outputs_model(outputs, ("N", 3, 640, 640)), tmp_path / "retinaface.onnx")
    picture = tmp_path / "face.png"
    Image.new("RGB", (640, 480), "gray").save(picture)
    with pytest.raises(Pt2trtError) as info:
        pt2trt.predict(
            model,
            [picture],
            PredictSettings(task=TaskSettings(task="detect"), preprocess=PreprocessSettings(size=(640, 640))),
        )
    message = str(info.value)
    assert "loc[1, 16800, 4] (box offsets) + conf[1, 16800, 2] (scores) + landms[1, 16800, 10] (landmarks)" in message
    assert "2 per cell at strides 8, 16, 32 of the 640x640 input" in message
    assert "min_sizes, steps, variance" in message


# -- implausible boxes -------------------------------------------------------------------------------------------------
def test_boxes_all_in_one_corner_are_warned_about(tmp_path: Path) -> None:
    """A YOLOv8-layout head whose boxes are in units of the stride-8 grid, not pixels: all within 80x80 px of the
    top-left corner of a 640x640 input."""
    head = np.zeros((1, 6, 400), np.float32)
    rng = np.random.default_rng(0)
    head[0, 0:2] = rng.uniform(2, 60, size=(2, 400))  # cx, cy in grid cells of a 80x80 grid
    head[0, 2:4] = rng.uniform(2, 6, size=(2, 400))
    head[0, 4] = rng.uniform(0.3, 0.9, size=400)
    model = save(constant_outputs_model({"output0": head}, ("N", 3, 640, 640)), tmp_path / "grid_units.onnx")
    picture = tmp_path / "p.png"
    Image.new("RGB", (640, 640), "gray").save(picture)
    with Predictor(
        model, PredictSettings(task=TaskSettings(task="detect"), preprocess=PreprocessSettings("yolo-letterbox-640"))
    ) as predictor:
        (prediction,) = predictor.run([picture])
    assert len(prediction.result) >= 3
    (warning,) = predictor.warnings
    assert "top-left corner of the 640x640 input" in warning
    healthy = head.copy()
    healthy[0, 0:2] *= 10  # the same boxes spread over the picture
    model = save(constant_outputs_model({"output0": healthy}, ("N", 3, 640, 640)), tmp_path / "pixels.onnx")
    with Predictor(
        model, PredictSettings(task=TaskSettings(task="detect"), preprocess=PreprocessSettings("yolo-letterbox-640"))
    ) as predictor:
        list(predictor.run([picture]))
    assert predictor.warnings == []
