"""Decoding outputs pt2trt has not seen before, as third-party models shape them: several outputs that could each be
the answer are refused (``--output-name`` picks one), misread layouts are flagged (boxes smaller than a pixel, scores
outside [0, 1]), labels that do not fit the model's classes are warned about, built-in label sets follow the layout,
and one-channel probability maps are thresholded at ``--mask-threshold``. Models are built here with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import pt2trt
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.prediction.predict import Predictor
from pt2trt.settings import PredictSettings, PreprocessSettings, TaskSettings
from pt2trt.tasks import Labels
from tests.conftest import assert_one_line_error
from tests.models import constant_outputs_model
from tests.test_predict_cli import records
from tests.test_tasks import YOLO_BOXES

IR_VERSION = 8


def save(model: onnx.ModelProto, path: Path) -> Path:
    model.ir_version = IR_VERSION
    onnx.save(model, str(path))
    return path


def picture(path: Path, width: int = 64, height: int = 64, color=(40, 40, 40)) -> Path:
    Image.new("RGB", (width, height), color).save(path)
    return path


# -- several outputs that could each be the answer ---------------------------------------------------------------
@pytest.fixture
def two_head_classifier(tmp_path: Path) -> Path:
    """Probabilities for 10 classes (class 7 best) beside a 4-value box regression that looks like a class row too."""
    probs = np.full((1, 10), 0.02, np.float32)
    probs[0, 7] = 0.82
    boxes = np.array([[0.9, 0.1, 0.3, 0.2]], np.float32)  # decoded as classes, "class 0" would win
    return save(constant_outputs_model({"boxes": boxes, "probs": probs}), tmp_path / "two_heads.onnx")


def test_classifier_with_several_score_like_outputs_is_refused_then_picked(two_head_classifier: Path, tmp_path: Path):
    image = picture(tmp_path / "a.png")
    with pytest.raises(Pt2trtError) as info:
        pt2trt.predict(two_head_classifier, [image], PredictSettings(task=TaskSettings(task="classify")))
    message = str(info.value) + " " + (info.value.hint or "")
    assert "boxes[1, 4]" in message and "probs[1, 10]" in message and "--output-name" in message
    (prediction,) = pt2trt.predict(
        two_head_classifier, [image], PredictSettings(task=TaskSettings(task="classify", output_name="probs"))
    )
    assert prediction.result.top[0] == (7, pytest.approx(0.82, abs=1e-6))
    assert not prediction.result.from_logits
    with pytest.raises(UsageError, match="no output 'scores'"):
        pt2trt.predict(
            two_head_classifier, [image], PredictSettings(task=TaskSettings(task="classify", output_name="scores"))
        )


def test_output_name_flag_on_predict_and_compare(cli, two_head_classifier: Path, tmp_path: Path) -> None:
    image = picture(tmp_path / "a.png")
    refused = cli("predict", str(two_head_classifier), str(image), "--task", "classify")
    assert_one_line_error(refused, "boxes[1, 4]", "probs[1, 10]", "--output-name")
    picked = cli("predict", str(two_head_classifier), str(image), "--task", "classify", "--output-name", "probs")
    assert picked.returncode == 0, picked.stderr
    assert records(picked.stdout)[0]["top"][0]["class"] == 7
    same = cli(
        "compare", str(two_head_classifier), str(two_head_classifier), str(image), "--task", "classify",
        "--output-name", "boxes", "--json",
    )  # fmt: skip
    assert same.returncode == 0, same.stderr
    assert '"passed": true' in same.stdout


def test_retinaface_style_outputs_are_refused_naming_them(cli, tmp_path: Path) -> None:
    """loc / conf / landms, each [N, anchors, k]: a head over priors the graph does not hold. The error names the
    three outputs and what decoding would need, and does not send the user to layouts that cannot read them."""
    rng = np.random.default_rng(0)
    anchors = 50
    outputs = {
        "loc": rng.normal(size=(1, anchors, 4)).astype(np.float32),
        "conf": rng.uniform(size=(1, anchors, 2)).astype(np.float32),
        "landms": rng.normal(size=(1, anchors, 10)).astype(np.float32),
    }
    model = save(constant_outputs_model(outputs, ("N", 3, 64, 64)), tmp_path / "retina.onnx")
    image = picture(tmp_path / "face.png")
    with pytest.raises(Pt2trtError) as info:
        pt2trt.predict(
            model,
            [image],
            PredictSettings(task=TaskSettings(task="detect"), preprocess=PreprocessSettings("torchvision-detection")),
        )
    text = f"{info.value} {info.value.hint}"
    assert all(name in text for name in ("loc[1, 50, 4]", "conf[1, 50, 2]", "landms[1, 50, 10]"))
    assert "SSD/RetinaFace-style" in text and "priors" in text and "cannot read them" in text
    result = cli("predict", str(model), str(image), "--task", "detect", "--preprocess", "torchvision-detection")
    assert_one_line_error(result, "SSD/RetinaFace-style head", "min_sizes, steps, variance")
    # picking one of its outputs cannot decode it either (it gave 0 boxes, silently): the same explanation
    for name in ("loc", "conf"):
        picked = cli(
            "predict", str(model), str(image), "--task", "detect", "--preprocess", "torchvision-detection",
            "--output-name", name,
        )  # fmt: skip
        assert_one_line_error(picked, "SSD/RetinaFace-style head", f"{name}[1, 50, ")


def test_segmenter_with_two_score_maps_is_refused(tmp_path: Path) -> None:
    maps = {"seg_a": np.zeros((1, 3, 16, 16), np.float32), "seg_b": np.ones((1, 2, 16, 16), np.float32)}
    model = save(constant_outputs_model(maps), tmp_path / "two_maps.onnx")
    image = picture(tmp_path / "a.png")
    with pytest.raises(Pt2trtError, match="several outputs could be per-pixel class scores"):
        pt2trt.predict(model, [image], PredictSettings(task=TaskSettings(task="segment")))
    (prediction,) = pt2trt.predict(
        model, [image], PredictSettings(task=TaskSettings(task="segment", output_name="seg_b"))
    )
    assert prediction.result.class_pixels() == [(0, 64 * 64)]  # both channels equal: argmax picks class 0


# -- sanity checks on decoded results ----------------------------------------------------------------------------
def yolox_raw_head(anchors: int = 40, classes: int = 3) -> np.ndarray:
    """A YOLOX head exported without decoding: x/y offsets within a grid cell, log-space w/h, sigmoid scores."""
    rng = np.random.default_rng(1)
    rows = np.empty((anchors, 5 + classes), np.float32)
    rows[:, :2] = rng.uniform(0, 1, size=(anchors, 2))  # cell offsets, not pixels
    rows[:, 2:4] = rng.uniform(-1.5, -0.2, size=(anchors, 2))  # log(w / stride): exp() not applied
    rows[:, 4] = rng.uniform(0.5, 1, size=anchors)  # objectness (sigmoid)
    rows[:, 5:] = rng.uniform(0, 1, size=(anchors, classes))
    return rows[None]


def test_grid_relative_boxes_warn_once(tmp_path: Path) -> None:
    model = save(constant_outputs_model({"output": yolox_raw_head()}, ("N", 3, 640, 640)), tmp_path / "yolox.onnx")
    images = [picture(tmp_path / f"{i}.png", 640, 640) for i in range(3)]
    with Predictor(
        model, PredictSettings(task=TaskSettings(task="detect"), preprocess=PreprocessSettings("yolo-letterbox-640"))
    ) as predictor:
        predictions = list(predictor.run(images))
    assert all(len(p.result) > 0 for p in predictions)
    assert predictor.task.resolved_layout == "yolov5"
    (warning,) = predictor.warnings  # three images, one warning
    assert "smaller than a pixel" in warning and "grid-relative" in warning


def test_score_logits_warn_and_healthy_heads_do_not(tmp_path: Path) -> None:
    logits = YOLO_BOXES.copy()
    logits[:, 4:] = logits[:, 4:] * 12 - 4  # raw class logits, no sigmoid in the model
    bad = save(constant_outputs_model({"output0": logits.T[None]}, ("N", 3, 640, 640)), tmp_path / "logits.onnx")
    good = save(constant_outputs_model({"output0": YOLO_BOXES.T[None]}, ("N", 3, 640, 640)), tmp_path / "good.onnx")
    image = picture(tmp_path / "a.png", 640, 640)
    with Predictor(
        bad, PredictSettings(task=TaskSettings(task="detect"), preprocess=PreprocessSettings("yolo-letterbox-640"))
    ) as predictor:
        list(predictor.run([image]))
    assert len(predictor.warnings) == 1 and "outside [0, 1]" in predictor.warnings[0]
    with Predictor(
        good,
        PredictSettings(
            task=TaskSettings(task="detect"),
            preprocess=PreprocessSettings("yolo-letterbox-640"),
            labels=Labels(["a", "b"]),
        ),
    ) as predictor:
        (p,) = predictor.run([image])
        assert len(p.result) == 5
    assert predictor.warnings == []


def test_cli_prints_each_warning_once_on_stderr(cli, tmp_path: Path) -> None:
    model = save(constant_outputs_model({"output": yolox_raw_head()}, ("N", 3, 640, 640)), tmp_path / "yolox.onnx")
    images = [str(picture(tmp_path / f"{i}.png", 640, 640)) for i in range(2)]
    labels = tmp_path / "three.txt"
    labels.write_text("a\nb\nc\nd\ne\n")
    result = cli("predict", str(model), *images, "--task", "detect", "--labels", str(labels))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, result.stderr  # tiny boxes, and 5 labels for 3 classes: each once for two images
    assert any("smaller than a pixel" in w for w in warnings)
    assert any("name 5 classes but the model has 3" in w for w in warnings)
    assert len(records(result.stdout)) == 2


# -- labels that do not fit ---------------------------------------------------------------------------------------
def test_label_count_mismatch_warns_once(tmp_path: Path) -> None:
    logits = np.linspace(-2, 2, 10, dtype=np.float32)[None]
    model = save(constant_outputs_model({"logits": logits}), tmp_path / "ten.onnx")
    labels = tmp_path / "three.txt"
    labels.write_text("cat\ndog\nbird\n")
    images = [picture(tmp_path / f"{i}.png") for i in range(2)]
    with Predictor(model, PredictSettings(task=TaskSettings(task="classify"), labels=labels)) as predictor:
        records_ = [p.to_dict(predictor.labels) for p in predictor.run(images)]
    (warning,) = predictor.warnings
    assert "name 3 classes but the model has 10" in warning and "three.txt" in warning
    assert records_[0]["top"][0] == {"class": 9, "label": "9", "score": pytest.approx(0.363, abs=0.01)}
    with Predictor(
        model, PredictSettings(task=TaskSettings(task="classify"), labels=Labels([str(i) for i in range(10)]))
    ) as predictor:
        list(predictor.run(images))
    assert predictor.warnings == []


def test_torchvision_class_ids_beyond_the_labels_warn(tmp_path: Path) -> None:
    outputs = {
        "boxes": np.array([[5, 5, 40, 40]], np.float32),
        "scores": np.array([0.9], np.float32),
        "labels": np.array([88], np.int64),  # a torchvision COCO id (toothbrush is 90)
    }
    model = save(constant_outputs_model(outputs, (1, 3, 64, 64), batched=False), tmp_path / "tv.onnx")
    image = picture(tmp_path / "a.png")
    with Predictor(
        model,
        PredictSettings(
            task=TaskSettings(task="detect"), preprocess=PreprocessSettings("torchvision-detection"), labels="coco80"
        ),
    ) as predictor:
        list(predictor.run([image]))
    (warning,) = predictor.warnings
    assert "class id 88 has no name in the 80 labels (coco80)" in warning
    with Predictor(
        model,
        PredictSettings(
            task=TaskSettings(task="detect"), preprocess=PreprocessSettings("torchvision-detection"), labels="coco"
        ),
    ) as predictor:
        (p,) = predictor.run([image])
        assert p.to_dict(predictor.labels)["detections"][0]["label"] == "teddy bear"
    assert predictor.labels.source == "coco91-torchvision" and predictor.warnings == []


# -- built-in label sets ------------------------------------------------------------------------------------------
def test_builtin_label_sets_ship_with_the_package() -> None:
    coco80, coco91 = Labels.load("coco80"), Labels.load("coco91-torchvision")
    assert len(coco80) == 80 and coco80(0) == "person" and coco80(79) == "toothbrush"
    assert len(coco91) == 91 and coco91(0) == "__background__" and coco91(1) == "person" and coco91(12) == "N/A"
    assert [n for n in coco91.names.values() if n not in ("__background__", "N/A")] == list(coco80.names.values())
    assert len(Labels.load("imagenet")) == 1000 and Labels.load("voc")(15) == "person"
    assert Labels.load("coco91").source == "coco91-torchvision"
    with pytest.raises(Pt2trtError) as info:
        Labels.load("coco81")
    assert "coco80" in (info.value.hint or "")


def test_labels_coco_follows_the_layout(tmp_path: Path) -> None:
    """``--labels coco``: a YOLO head's class 0 is "person" (80 classes), a torchvision detector's 1 is."""
    head = np.zeros((1, 84, 100), np.float32)  # yolov8: cx, cy, w, h, 80 class scores; 100 anchors
    head[0, :4, 0] = [100, 100, 80, 80]
    head[0, 4, 0] = 0.9  # class 0
    yolo = save(constant_outputs_model({"output0": head}, ("N", 3, 640, 640)), tmp_path / "yolo80.onnx")
    image = picture(tmp_path / "a.png", 640, 640)
    with Predictor(
        yolo,
        PredictSettings(
            task=TaskSettings(task="detect"), preprocess=PreprocessSettings("yolo-letterbox-640"), labels="coco"
        ),
    ) as predictor:
        (p,) = predictor.run([image])
        assert p.to_dict(predictor.labels)["detections"][0]["label"] == "person"
    assert predictor.labels.source == "coco80" and predictor.warnings == []
    # the 91-id file on an 80-class head: said once
    with Predictor(
        yolo,
        PredictSettings(
            task=TaskSettings(task="detect"),
            preprocess=PreprocessSettings("yolo-letterbox-640"),
            labels="coco91-torchvision",
        ),
    ) as predictor:
        list(predictor.run([image, image]))
    (warning,) = predictor.warnings
    assert "name 91 classes but the model has 80" in warning


# -- probability maps ----------------------------------------------------------------------------------------------
def sigmoid_segmenter(resize_after: bool = False) -> onnx.ModelProto:
    """``out [N, 1, H, W] = sigmoid(4 * red - 2)`` (red in [0, 1]): 0.88 on red pixels, 0.12 on black ones."""
    nodes = [
        helper.make_node("Slice", ["images", "c0", "c1", "axis1"], ["red"]),
        helper.make_node("Mul", ["red", "four"], ["scaled"]),
        helper.make_node("Sub", ["scaled", "two"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["prob" if resize_after else "out"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([0], np.int64), "c0"),
        numpy_helper.from_array(np.array([1], np.int64), "c1"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array(4, np.float32), "four"),
        numpy_helper.from_array(np.array(2, np.float32), "two"),
    ]
    if resize_after:  # a probability map upsampled after the sigmoid is still a probability map
        inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"))
        nodes.append(helper.make_node("Resize", ["prob", "", "scales"], ["out"], mode="linear"))
    size = 32 if resize_after else 64
    graph = helper.make_graph(
        nodes,
        "sigmoid_segmenter",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=IR_VERSION)


@pytest.fixture
def half_red(tmp_path: Path) -> Path:
    pixels = np.zeros((64, 64, 3), np.uint8)
    pixels[:, :32, 0] = 255
    path = tmp_path / "half_red.png"
    Image.fromarray(pixels).save(path)
    return path


PLAIN = {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0), "scale": 1 / 255, "resize": "stretch"}


@pytest.mark.parametrize("resize_after", [False, True])
def test_sigmoid_in_the_graph_is_thresholded_at_one_half(tmp_path: Path, half_red: Path, resize_after: bool) -> None:
    model = save(sigmoid_segmenter(resize_after), tmp_path / "sigmoid.onnx")
    with Predictor(
        model, PredictSettings(task=TaskSettings(task="segment"), preprocess=PreprocessSettings(**PLAIN))
    ) as predictor:
        assert predictor.task.output_ops == {"out": "Sigmoid"}
        (p,) = predictor.run([half_red])
    assert predictor.task.resolved_layout == "probabilities"
    mask = p.result.mask
    assert mask[:, :30].all() and not mask[:, 34:].any()  # black pixels (p = 0.12) are background
    assert predictor.warnings == []


def test_value_range_decides_without_a_graph_and_the_threshold_is_a_flag(tmp_path: Path, half_red: Path) -> None:
    model = save(sigmoid_segmenter(), tmp_path / "sigmoid.onnx")
    with Predictor(
        model, PredictSettings(task=TaskSettings(task="segment"), preprocess=PreprocessSettings(**PLAIN))
    ) as predictor:
        predictor.task.output_ops = {}  # as for an engine or an OpenVINO IR: only the values are known
        (p,) = predictor.run([half_red])
    assert predictor.task.resolved_layout == "probabilities" and p.result.mask[:, :32].all()
    (high,) = pt2trt.predict(
        model,
        [half_red],
        PredictSettings(task=TaskSettings(task="segment", mask_threshold=0.9), preprocess=PreprocessSettings(**PLAIN)),
    )
    assert not high.result.mask.any()  # 0.88 < 0.9
    (forced,) = pt2trt.predict(
        model,
        [half_red],
        PredictSettings(task=TaskSettings(task="segment", layout="logits"), preprocess=PreprocessSettings(**PLAIN)),
    )
    assert forced.result.mask.all()  # read as logits every probability is > 0: what happened before
    with pytest.raises(UsageError, match="--mask-threshold"):
        pt2trt.predict(model, [half_red], PredictSettings(task=TaskSettings(task="segment", mask_threshold=1.0)))


def test_logit_maps_stay_logits_and_probabilities_layout_checks_range(tmp_path: Path, half_red: Path) -> None:
    """A one-channel map from a Conv (values outside [0, 1]) is thresholded at logit 0; forcing
    ``--layout probabilities`` on it says the values do not look like probabilities."""
    logits = np.full((1, 1, 16, 16), -3.0, np.float32)
    logits[..., :8] = 0.5
    model = save(constant_outputs_model({"mask": logits}), tmp_path / "logits.onnx")
    (p,) = pt2trt.predict(
        model, [half_red], PredictSettings(task=TaskSettings(task="segment"), preprocess=PreprocessSettings(**PLAIN))
    )
    assert p.result.mask[:, :30].all() and not p.result.mask[:, 34:].any()
    with Predictor(
        model,
        PredictSettings(
            task=TaskSettings(task="segment", layout="probabilities"), preprocess=PreprocessSettings(**PLAIN)
        ),
    ) as predictor:
        (p,) = predictor.run([half_red])
    assert not p.result.mask.any()  # 0.5 is not > 0.5
    assert len(predictor.warnings) == 1 and "outside [0, 1]" in predictor.warnings[0]
    with pytest.warns(UserWarning, match="it looks like logits"):  # pt2trt.predict issues them as Python warnings
        pt2trt.predict(
            model,
            [half_red],
            PredictSettings(
                task=TaskSettings(task="segment", layout="probabilities"), preprocess=PreprocessSettings(**PLAIN)
            ),
        )


def test_cli_segment_accepts_probabilities_layout_and_mask_threshold(cli, tmp_path: Path, half_red: Path) -> None:
    model = save(sigmoid_segmenter(), tmp_path / "sigmoid.onnx")
    common = ["predict", str(model), str(half_red), "--task", "segment", "--mean", "0,0,0", "--std", "1,1,1"]
    common += ["--scale", "1/255", "--resize", "stretch"]
    result = cli(*common, "--layout", "probabilities")
    assert result.returncode == 0, result.stderr
    (record,) = records(result.stdout)
    assert {c["class"]: c["fraction"] for c in record["classes"]} == {0: 0.5, 1: 0.5}
    result = cli(*common, "--mask-threshold", "0.95")
    assert result.returncode == 0, result.stderr
    assert [c["class"] for c in records(result.stdout)[0]["classes"]] == [0]
    assert_one_line_error(cli(*common, "--mask-threshold", "1.5"), "--mask-threshold")
