"""Input sizes of dynamic-size models: the stride estimate is per axis, follows upsampling back up, and only speaks
when the runtime fails; a model's static height or width is kept; calibration runs at the size predict runs at.

Models: built here with onnx.helper (a text-line classifier with strides (2, 1), an FPN-style merge, a resize to a
skip connection's size, a per-axis merge), PaddleOCR's trained detector / classifier / recogniser from
rapidocr_onnxruntime's wheel, and YOLOv8n built from ultralytics' yaml (tests/third_party_models.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import pt2trt
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import Preprocess
from pt2trt.onnx.metadata import PREPROCESSING
from pt2trt.onnx.strides import estimate_strides
from pt2trt.prediction.image_model import ImageModel
from pt2trt.settings import PredictSettings, PreprocessSettings, TaskSettings
from tests.conftest import assert_one_line_error
from tests.third_party_models import rapidocr, yolov8n_onnx

IR_VERSION = 8
rng = np.random.default_rng(0)


def weight(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array((rng.normal(size=shape) * 0.3).astype(np.float32), name)


def save(nodes: list, inits: list, input_dims: list, output: str, path: Path, opset: int = 13) -> Path:
    graph = helper.make_graph(
        nodes,
        path.stem,
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_dims)],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    onnx.save(model, str(path))
    return path


def text_line_classifier(path: Path, input_dims: list | None = None) -> Path:
    """Strides (2, 1), (2, 1), (2, 2) with a residual Add at each level, global pooling, 2 classes (0 / 180)."""
    nodes, inits, x = [], [weight("w0", 8, 3, 3, 3)], "images"
    nodes.append(helper.make_node("Conv", [x, "w0"], ["c0"], strides=[2, 1], pads=[1, 1, 1, 1]))
    x = "c0"
    for i, strides in enumerate([[2, 1], [2, 2]], start=1):
        inits.append(weight(f"w{i}", 8, 8, 3, 3))
        inits.append(weight(f"r{i}", 8, 8, 3, 3))
        nodes.append(helper.make_node("Conv", [x, f"w{i}"], [f"c{i}"], strides=strides, pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"a{i}"]))
        nodes.append(helper.make_node("Conv", [f"a{i}", f"r{i}"], [f"b{i}"], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Add", [f"a{i}", f"b{i}"], [f"s{i}"]))  # same depth: any size adds up
        x = f"s{i}"
    inits += [weight("fc", 8, 2), numpy_helper.from_array(np.zeros(2, np.float32), "fc_b")]
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc", "fc_b"], ["logits"]),
    ]
    return save(nodes, inits, input_dims or ["N", 3, "H", "W"], "logits", path)


def merge_model(path: Path, down: tuple[int, int], *, resize_to_skip: bool = False) -> Path:
    """A map downsampled by ``down`` (per axis), brought back up and added to a full-size skip connection: by
    constant scales, or (``resize_to_skip``) to the skip's own size, read with Shape at run time."""
    inits = [weight("down_w", 2, 3, *down), weight("skip_w", 2, 3, 1, 1)]
    nodes = [
        helper.make_node("Conv", ["images", "down_w"], ["down"], strides=list(down)),
        helper.make_node("Conv", ["images", "skip_w"], ["skip"]),
    ]
    if resize_to_skip:  # F.interpolate(down, size=skip.shape[-2:])
        inits += [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in [("s0", [0]), ("s2", [2]), ("s4", [4])]]
        nodes += [
            helper.make_node("Shape", ["down"], ["down_shape"]),
            helper.make_node("Slice", ["down_shape", "s0", "s2"], ["batch_channels"]),
            helper.make_node("Shape", ["skip"], ["skip_shape"]),
            helper.make_node("Slice", ["skip_shape", "s2", "s4"], ["skip_hw"]),
            helper.make_node("Concat", ["batch_channels", "skip_hw"], ["sizes"], axis=0),
            helper.make_node("Resize", ["down", "", "", "sizes"], ["up"], mode="nearest"),
        ]
    else:
        inits.append(numpy_helper.from_array(np.array([1, 1, *down], np.float32), "scales"))
        nodes.append(helper.make_node("Resize", ["down", "", "scales"], ["up"], mode="nearest"))
    nodes.append(helper.make_node("Add", ["up", "skip"], ["logits"]))
    return save(nodes, inits, [1, 3, "H", "W"], "logits", path)


def record_preprocessing(path: Path, preprocess: Preprocess) -> Path:
    model = onnx.load(str(path))
    helper.set_model_props(model, {PREPROCESSING: preprocess.to_json()})
    onnx.save(model, str(path))
    return path


def line_picture(path: Path, width: int = 192, height: int = 48) -> Path:
    pixels = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


LINE = PreprocessSettings(size=(48, 192), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), resize="stretch")


# -- the estimate --------------------------------------------------------------------------------------------------
def test_estimate_is_per_axis_and_follows_upsampling(tmp_path: Path) -> None:
    line = estimate_strides(onnx.load(str(text_line_classifier(tmp_path / "cls.onnx"))))
    assert line.multiple == (1, 1) and line.deepest == (8, 2) and line.exact  # only goes down: any size
    fpn = estimate_strides(onnx.load(str(merge_model(tmp_path / "fpn.onnx", (8, 2)))))
    assert fpn.multiple == (8, 2) and fpn.exact and not fpn.fits((52, 50)) and fpn.fit((52, 50)) == (56, 50)
    to_skip = estimate_strides(onnx.load(str(merge_model(tmp_path / "skip.onnx", (8, 8), resize_to_skip=True))))
    assert to_skip.multiple == (1, 1) and to_skip.exact  # resized to the skip's own size: always adds up


def test_estimate_matches_what_onnx_runtime_runs(tmp_path: Path) -> None:
    """The estimate against the runtime: per-axis multiples run, others fail; a resize to the skip's size always
    runs; the text-line classifier runs at 48x192, which a 2-D "largest stride" of 8 would have refused."""
    import onnxruntime as ort

    def runs(path: Path, h: int, w: int) -> bool:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        try:
            session.run(None, {"images": np.zeros((1, 3, h, w), np.float32)})
        except Exception:
            return False
        return True

    fpn = merge_model(tmp_path / "fpn.onnx", (8, 2))
    assert runs(fpn, 48, 50) and runs(fpn, 56, 2) and not runs(fpn, 52, 50) and not runs(fpn, 48, 51)
    skip = merge_model(tmp_path / "skip.onnx", (8, 8), resize_to_skip=True)
    assert runs(skip, 52, 37)
    assert runs(text_line_classifier(tmp_path / "cls.onnx"), 48, 190)


# -- predict and calibrate at the size asked ---------------------------------------------------------------------
def test_text_line_classifier_runs_at_its_size_and_calibrates_there(tmp_path: Path, cli) -> None:
    """48x192 is not a multiple of the deepest stride (8): it runs as asked, with no note; the recorded
    preprocessing's size is the one predict and calibration both use."""
    from pt2trt.precision.data import load_samples

    model = text_line_classifier(tmp_path / "cls.onnx")
    recipe = Preprocess(size=(48, 192), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), resize="stretch")
    record_preprocessing(model, recipe)
    picture = line_picture(tmp_path / "line.png")
    with ImageModel(model, default_preset="imagenet-classification") as image_model:
        assert image_model.preprocess.size == (48, 192) and image_model.notes == []
    (prediction,) = pt2trt.predict(model, [picture], PredictSettings(task=TaskSettings(task="classify")))
    sample, _ = recipe.apply(Image.open(picture).convert("RGB"))
    import onnxruntime as ort

    direct = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(None, {"images": sample[None]})
    expected = np.exp(direct[0][0]) / np.exp(direct[0][0]).sum()
    np.testing.assert_allclose(prediction.result.probabilities, expected, rtol=1e-5)
    samples = load_samples(model, onnx.load(str(model)), tmp_path, task="classify")
    assert samples.feeds[0]["images"].shape == (1, 3, 48, 192)
    result = cli("predict", str(model), str(picture), "--task", "classify", "--size", "48x192")
    assert result.returncode == 0, result.stderr
    assert "multiple" not in result.stderr and "stride" not in result.stderr


def test_partly_static_input_keeps_its_static_height(tmp_path: Path, cli) -> None:
    model = text_line_classifier(tmp_path / "cls48.onnx", ["N", 3, 48, "W"])
    picture = line_picture(tmp_path / "line.png")
    with ImageModel(model, default_preset="imagenet-classification") as image_model:
        assert image_model.preprocess.size == (48, 224)  # the preset's 224x224, with the model's height
        assert any("fixes its input's height at 48" in note for note in image_model.notes)
    with ImageModel(model, preprocess=PreprocessSettings(size=(48, 320))) as image_model:
        assert image_model.preprocess.size == (48, 320)
    with pytest.raises(UsageError, match="fixes the height at 48") as info:
        pt2trt.predict(
            model,
            [picture],
            PredictSettings(task=TaskSettings(task="classify"), preprocess=PreprocessSettings(size=(64, 192))),
        )
    assert "--size 48x192" in (info.value.hint or "")
    result = cli("predict", str(model), str(picture), "--task", "classify")
    assert result.returncode == 0, result.stderr
    assert "running at 48x224" in result.stderr


def test_a_size_the_graph_cannot_take_fails_explained_in_predict_and_calibration(tmp_path: Path, cli) -> None:
    model = merge_model(tmp_path / "fpn.onnx", (8, 2))
    (tmp_path / "pictures").mkdir()
    picture = line_picture(tmp_path / "pictures" / "a.png")
    result = cli("predict", str(model), str(picture), "--task", "segment", "--size", "52x50")
    assert_one_line_error(result, "cannot run at 52x50", "Add node", "multiples of 8 (height) x 2 (width)", "56x50")
    ok = cli("predict", str(model), str(picture), "--task", "segment", "--size", "56x50")
    assert ok.returncode == 0, ok.stderr
    from pt2trt.precision.data import load_samples

    with pytest.raises(Pt2trtError, match="cannot run at 52x50") as info:
        load_samples(model, onnx.load(str(model)), picture.parent, preprocess=Preprocess(size=(52, 50)), task="segment")
    assert "--size 56x50" in (info.value.hint or "")
    samples = load_samples(model, onnx.load(str(model)), picture.parent, preprocess=Preprocess(size=(56, 50)))
    assert samples.feeds[0]["images"].shape == (1, 3, 56, 50)


# -- models no one here wrote ------------------------------------------------------------------------------------
def test_paddleocr_classifier_and_recogniser_run_at_their_native_sizes(tmp_path: Path) -> None:
    """rapidocr's own settings: cls_image_shape [3, 48, 192], rec_img_shape [3, 48, 320], pixels / 255 - 0.5
    over 0.5. A 48x192 line needs no resize or padding, so pt2trt must give exactly what the model gives."""
    import onnxruntime as ort

    cls_model, rec_model = rapidocr("cls"), rapidocr("rec")
    for path in (cls_model, rec_model):
        assert estimate_strides(onnx.load(str(path))).multiple == (1, 1)
    picture = line_picture(tmp_path / "line.png")
    pixels = np.asarray(Image.open(picture).convert("RGB"), np.float32).transpose(2, 0, 1)[None] / 255
    direct = ort.InferenceSession(str(cls_model), providers=["CPUExecutionProvider"]).run(
        None, {"x": (pixels - 0.5) / 0.5}
    )
    (prediction,) = pt2trt.predict(
        cls_model, [picture], PredictSettings(task=TaskSettings(task="classify"), preprocess=LINE)
    )
    assert not prediction.result.from_logits  # the model ends in a softmax
    np.testing.assert_allclose(prediction.result.probabilities, direct[0][0], rtol=1e-5, atol=1e-6)
    with ImageModel(rec_model, preprocess=PreprocessSettings(size=(48, 320), mean=(0.5,) * 3, std=(0.5,) * 3)) as rec:
        sample, _ = rec.preprocess.apply(Image.open(picture).convert("RGB"))
        (out,) = rec.run(sample[None]).values()
    assert out.shape == (1, 40, 6625)


def test_paddleocr_detector_fails_explained_off_its_multiples(tmp_path: Path, cli) -> None:
    model = rapidocr("det")
    assert estimate_strides(onnx.load(str(model))).multiple == (32, 32)
    picture = line_picture(tmp_path / "page.png", 200, 150)
    common = ["predict", str(model), str(picture), "--task", "segment", "--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5"]
    ok = cli(*common, "--size", "160x192")
    assert ok.returncode == 0, ok.stderr
    assert_one_line_error(cli(*common, "--size", "150x200"), "cannot run at 150x200", "--size 160x224")


@pytest.mark.slow
def test_yolov8_exported_at_320_runs_at_320(tmp_path: Path, cli) -> None:
    """The 2-D "largest stride" rule took YOLOv8n for a model needing multiples of 128 (upsampling ignored)."""
    model = yolov8n_onnx(tmp_path / "yolov8n.onnx")
    assert estimate_strides(onnx.load(str(model))).multiple == (32, 32)
    picture = line_picture(tmp_path / "p.png", 320, 240)
    ok = cli("predict", str(model), str(picture), "--task", "detect", "--size", "320x320")
    assert ok.returncode == 0, ok.stderr
    assert_one_line_error(
        cli("predict", str(model), str(picture), "--task", "detect", "--size", "330x330"),
        "cannot run at 330x330",
        "Concat node",
        "--size 352x352",
    )
