"""``pt2trt eval`` and ``pt2trt.evaluate`` on labelled data: real handwritten digits with a CNN trained here, and
generated scenes with exact ground truth read by ``onnx.helper`` models whose answers are known.

Every figure is checked against an independent computation on the same answers: a plain ONNX Runtime loop (top-1,
McNemar's flips), pycocotools' own evaluation of ``pt2trt.predict``'s boxes (mAP), torchmetrics on ``predict``'s
masks (mIoU), or a value worked out by hand from the scenes.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from PIL import Image

import pt2trt
from pt2trt.cli.main import cli
from pt2trt.errors import Pt2trtError
from pt2trt.evaluation.settings import EvalSettings
from pt2trt.settings import PredictSettings, PreprocessSettings, ReadSettings, TaskSettings
from tests import eval_data as ed


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["eval", *args], catch_exceptions=False)


# -- classify: digits ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("digits")
    train_x, train_y, test_x, test_y = ed.digits_split()
    ed.write_digits(root / "val", test_x, test_y)
    model = ed.export_digits(ed.train_digits_cnn(train_x, train_y), root / "digits.onnx")
    return {
        "root": root,
        "data": root / "val",
        "model": model,
        "damaged": ed.damage(model, root / "damaged.onnx", scale=1.5),
    }


def plain_top1(model: Path, folder: Path) -> dict[str, bool]:
    """A plain loop: every picture through ONNX Runtime at /255, right when the argmax is its folder's digit."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    right = {}
    for path in sorted(folder.rglob("*.png")):
        x = np.asarray(Image.open(path).convert("L"), np.float32)[None, None] / 255
        right[str(path.relative_to(folder))] = int(session.run(None, {"input": x})[0].argmax()) == int(path.parent.name)
    return right


def test_top1_equals_a_plain_loop(digits: dict[str, Path]) -> None:
    report = pt2trt.evaluate(
        [digits["model"], digits["damaged"]], digits["data"], "classify", EvalSettings(read=ReadSettings(16))
    )
    plain = plain_top1(digits["model"], digits["data"])
    damaged = plain_top1(digits["damaged"], digits["data"])
    reference, other = report.evaluations
    assert reference.images == len(plain) == 497
    assert reference.metrics["top1"] == pytest.approx(np.mean(list(plain.values())), abs=1e-12)
    assert reference.metrics["top1"] > 0.9  # a real classifier of real handwriting
    assert other.metrics["top1"] == pytest.approx(np.mean(list(damaged.values())), abs=1e-12)
    # McNemar's flips are the plain loops' disagreements, image by image
    worse = sum(plain[k] and not damaged[k] for k in plain)
    better = sum(damaged[k] and not plain[k] for k in plain)
    delta = other.delta("top1")
    assert delta is not None and delta.flipped == (worse, better) and delta.test == "mcnemar"
    assert 0 < other.metrics["top1"] < reference.metrics["top1"] - 0.01 and delta.significant


def test_damaged_copy_exits_1_under_max_drop(digits: dict[str, Path]) -> None:
    result = invoke(str(digits["model"]), str(digits["damaged"]), "--data", str(digits["data"]),
                    "--task", "classify", "--max-drop", "1", "--json")  # fmt: skip
    assert result.exit_code == 1, result.output
    record = json.loads(result.stdout)
    assert record["passed"] is False and record["primary_metric"] == "top1"
    first, second = record["models"]
    assert set(first["metrics"]) == {"top1", "top5"} and 0.9 < first["metrics"]["top1"] <= 1
    assert second["deltas"]["top1"]["test"] == "mcnemar" and second["deltas"]["top1"]["significant"]
    assert "dropped" in record["failures"][0] and "damaged.onnx" in record["failures"][0]
    # the same model twice passes even --max-drop 0
    same = invoke(str(digits["model"]), str(digits["model"]), "--data", str(digits["data"]), "--task", "classify",
                  "--max-drop", "0")  # fmt: skip
    assert same.exit_code == 0, same.output
    assert "passed" in same.stdout and "497 images" in same.stdout and "McNemar p=1 (0 worse, 0 better)" in same.stdout


def test_two_backends_of_one_model(digits: dict[str, Path]) -> None:
    pytest.importorskip("openvino")
    report = pt2trt.evaluate(
        digits["model"], digits["data"], "classify", EvalSettings(backends=("onnxruntime", "openvino"))
    )
    ort_run, ov_run = report.evaluations
    assert (ort_run.backend, ov_run.backend) == ("onnxruntime", "openvino")
    assert ov_run.metrics["top1"] == pytest.approx(ort_run.metrics["top1"], abs=1 / 497 + 1e-12)
    assert ov_run.changed <= 1


def test_folders_matched_to_a_labels_file_by_name(digits: dict[str, Path], tmp_path: Path) -> None:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    named = tmp_path / "named"
    for digit, word in enumerate(words):
        shutil.copytree(digits["data"] / str(digit), named / word)  # sorted names are not the digits' order
    (tmp_path / "labels.txt").write_text("\n".join(words) + "\n")
    by_name = pt2trt.evaluate(digits["model"], named, "classify", EvalSettings(labels=tmp_path / "labels.txt"))
    by_number = pt2trt.evaluate(digits["model"], digits["data"], "classify")
    assert by_name.evaluations[0].metrics == by_number.evaluations[0].metrics
    unsorted = pt2trt.evaluate(digits["model"], named, "classify")  # sorted folder order: the wrong classes
    assert unsorted.evaluations[0].metrics["top1"] < 0.5
    (named / "ten").mkdir()
    shutil.copy(next((named / "one").iterdir()), named / "ten" / "x.png")
    with pytest.raises(Pt2trtError, match=r"'ten' is not one of the 10 labels.*unknown class"):
        pt2trt.evaluate(digits["model"], named, "classify", EvalSettings(labels=tmp_path / "labels.txt"))


def test_save_draws_the_changed_pictures(digits: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "changed"
    args = [str(digits["model"]), str(digits["damaged"]), "--data", str(digits["data"]), "--task", "classify",
            "--save", str(out)]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    report = pt2trt.evaluate([digits["model"], digits["damaged"]], digits["data"], "classify")
    changed = report.evaluations[1].changed
    pictures = sorted((out / "01-damaged.onnx-onnxruntime").iterdir())
    assert 0 < changed == len(pictures) and not (out / "00-digits.onnx-onnxruntime").exists()
    with Image.open(pictures[0]) as picture:  # truth | reference | damaged, side by side
        assert picture.width > 3 * ed.DIGIT_SIDE
    again = invoke(*args)
    assert again.exit_code == 1 and "already holds pictures" in again.stderr and "--force" in again.stderr
    assert invoke(*args, "--force").exit_code == 0


# -- detect: coloured rectangles -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def boxes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("boxes")
    scenes = ed.rectangle_scenes(24)
    onnx.save(ed.colour_box_detector(64, 96), root / "detector.onnx")
    onnx.save(ed.colour_box_detector(64, 96, shrink=0.2), root / "shrunk.onnx")
    (root / "names.txt").write_text("\n".join(ed.NAMES) + "\n")
    big = [
        (image.resize((192, 128), 0), [(c, 2 * x, 2 * y, 2 * w, 2 * h) for c, x, y, w, h in b]) for image, b in scenes
    ]
    return {
        "root": root,
        "coco": ed.write_coco(root / "coco", scenes),
        "yolo": ed.write_yolo(root / "yolo", scenes),
        "big": ed.write_coco(root / "big", big, first_category=0),
        "detector": root / "detector.onnx",
        "shrunk": root / "shrunk.onnx",
        "names": root / "names.txt",
    }


def detect(models: list[Path], data: Path, **options: Any) -> Any:
    return pt2trt.evaluate(
        models, data, "detect", EvalSettings(preprocess=PreprocessSettings(resize="stretch"), **options)
    )


def test_detect_exact_and_shrunk_boxes_hand_computed(boxes: dict[str, Path]) -> None:
    """The exact detector finds every box: mAP 1. Shrinking each box's width and height by 20% leaves IoU 0.64:
    a hit at the IoU thresholds 0.50, 0.55 and 0.60, a miss at the seven above, so mAP@[.5:.95] = 3/10."""
    report = detect([boxes["detector"], boxes["shrunk"]], boxes["coco"], images=boxes["coco"].parent / "images",
                    labels=boxes["names"])  # fmt: skip
    exact, shrunk = report.evaluations
    assert exact.metrics == {"map": 1.0, "map50": 1.0, "map75": 1.0}
    assert shrunk.metrics["map"] == pytest.approx(0.3) and shrunk.metrics["map50"] == 1.0
    assert shrunk.metrics["map75"] == 0.0
    assert [c.name for c in exact.per_class] == list(ed.NAMES) and all(c.value == 1.0 for c in exact.per_class)
    assert any("by name: 3 of the model's 3 classes are categories" in note for note in exact.notes)
    delta = shrunk.delta("map")
    assert delta is not None and delta.test == "bootstrap" and delta.significant
    assert delta.low == pytest.approx(-0.7) and delta.high == pytest.approx(-0.7)


def test_detect_yolo_labels_score_as_the_coco_file(boxes: dict[str, Path]) -> None:
    from_coco = detect([boxes["shrunk"]], boxes["coco"], labels=boxes["names"], images=boxes["coco"].parent / "images")
    from_yolo = detect([boxes["shrunk"]], boxes["yolo"])
    assert from_yolo.evaluations[0].metrics == pytest.approx(from_coco.evaluations[0].metrics)
    assert any("identity: the data's category ids are 0-2" in n for n in from_yolo.evaluations[0].notes)


def test_detect_boxes_are_scored_in_the_original_pictures(boxes: dict[str, Path]) -> None:
    """Pictures twice the model's input: the boxes come back through the resize to the pictures' pixels."""
    report = detect([boxes["detector"]], boxes["big"], images=boxes["big"].parent / "images")
    metrics = report.evaluations[0].metrics
    assert metrics["map50"] == 1.0 and metrics["map"] > 0.8


def test_detect_map_equals_pycocotools_on_predicts_boxes(boxes: dict[str, Path]) -> None:
    """The same boxes from ``pt2trt.predict``, given to pycocotools the documented way (loadRes), give eval's mAP."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images = boxes["big"].parent / "images"
    report = detect([boxes["shrunk"]], boxes["big"], images=images)
    gt = json.loads(boxes["big"].read_text())
    ids = {img["file_name"]: img["id"] for img in gt["images"]}
    predictions = pt2trt.predict(
        boxes["shrunk"],
        [images],
        PredictSettings(TaskSettings("detect", conf=0.001), PreprocessSettings(resize="stretch")),
    )
    results = [
        {"image_id": ids[p.name], "category_id": int(c), "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(s)}
        for p in predictions
        for (x1, y1, x2, y2), s, c in zip(p.result.boxes.tolist(), p.result.scores, p.result.classes)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(boxes["big"]))
        evaluator = COCOeval(coco, coco.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    metrics = report.evaluations[0].metrics
    assert 0.1 < metrics["map"] < 0.9
    assert metrics["map"] == pytest.approx(evaluator.stats[0], abs=1e-12)
    assert metrics["map50"] == pytest.approx(evaluator.stats[1], abs=1e-12)


def test_detect_class_map(boxes: dict[str, Path], tmp_path: Path) -> None:
    images = boxes["coco"].parent / "images"
    with pytest.raises(Pt2trtError, match=r"cannot tell which of the data's 3 category ids.*--class-map"):
        detect([boxes["detector"]], boxes["coco"], images=images)  # ids 1-3, nms outputs: no count of classes
    (tmp_path / "map.json").write_text(json.dumps({"0": 1, "1": 2, "2": 3}))
    explicit = detect([boxes["detector"]], boxes["coco"], images=images, class_map=tmp_path / "map.json")
    assert explicit.evaluations[0].metrics["map"] == 1.0
    (tmp_path / "swapped.json").write_text(json.dumps({"0": 2, "1": 1, "2": 3}))
    swapped = detect([boxes["detector"]], boxes["coco"], images=images, class_map=tmp_path / "swapped.json")
    per_class = {c.name: c.value for c in swapped.evaluations[0].per_class}
    assert per_class == {"red": 0.0, "green": 0.0, "blue": 1.0}


# -- segment: coloured discs -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def discs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("discs")
    scenes = ed.disc_scenes(16)
    onnx.save(ed.colour_segmenter(), root / "segmenter.onnx")
    onnx.save(ed.colour_segmenter(swap=True), root / "swapped.onnx")
    return {"data": ed.write_masks(root / "data", scenes), "scenes": scenes, "model": root / "segmenter.onnx",
            "swapped": root / "swapped.onnx"}  # fmt: skip


SEGMENT_OPTIONS = EvalSettings(
    preprocess=PreprocessSettings(size=(60, 80), resize="stretch", mean=(0, 0, 0), std=(1, 1, 1))
)


def test_segment_exact_and_swapped_hand_computed(discs: dict[str, Any]) -> None:
    """The exact segmenter: mIoU 1. Green and blue swapped: background and red stay right (IoU 1), green and blue
    are all wrong (IoU 0): mIoU 1/2, and pixel accuracy = the share of scored pixels that are not green or blue."""
    report = pt2trt.evaluate([discs["model"], discs["swapped"]], discs["data"], "segment", SEGMENT_OPTIONS)
    exact, swapped = report.evaluations
    assert exact.metrics == {"miou": 1.0, "pixel_accuracy": 1.0}
    masks = np.stack([mask for _, mask in discs["scenes"]])
    scored = masks != 255
    assert swapped.metrics["miou"] == pytest.approx(0.5)
    expected = np.count_nonzero(scored & (masks < 2)) / np.count_nonzero(scored)
    assert swapped.metrics["pixel_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert {c.id: c.value for c in swapped.per_class} == {0: 1.0, 1: 1.0, 2: 0.0, 3: 0.0}
    assert {c.id: c.support for c in exact.per_class} == {k: int(np.count_nonzero(masks == k)) for k in range(4)}
    delta = swapped.delta("pixel_accuracy")
    assert delta is not None and delta.low is not None and delta.low <= expected - 1 <= delta.high


def test_segment_miou_equals_torchmetrics_on_predicts_masks(discs: dict[str, Any], tmp_path: Path) -> None:
    """Pictures at another size than the input: ``predict``'s masks (mapped back) against the labels, in
    torchmetrics, give eval's figures."""
    torch = pytest.importorskip("torch")
    from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex

    plain = PreprocessSettings(size=(40, 48), resize="stretch", mean=(0, 0, 0), std=(1, 1, 1))
    report = pt2trt.evaluate(discs["model"], discs["data"], "segment", EvalSettings(preprocess=plain))
    settings = PredictSettings(TaskSettings(task="segment"), plain)
    predictions = pt2trt.predict(discs["model"], [discs["data"] / "images"], settings)
    labels = torch.from_numpy(np.stack([m for _, m in discs["scenes"]]).astype(np.int64))
    predicted = torch.from_numpy(np.stack([p.result.mask for p in predictions]))
    miou = float(MulticlassJaccardIndex(4, average="macro", ignore_index=255)(predicted, labels))
    accuracy = float(MulticlassAccuracy(4, average="micro", ignore_index=255)(predicted, labels))
    metrics = report.evaluations[0].metrics
    assert 0.5 < metrics["miou"] < 1.0  # resampled at another size: not exact any more
    assert metrics["miou"] == pytest.approx(miou, abs=1e-6)
    assert metrics["pixel_accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_segment_cli_json(discs: dict[str, Any]) -> None:
    result = invoke(str(discs["model"]), str(discs["swapped"]), "--data", str(discs["data"]), "--task", "segment",
                    "--size", "60x80", "--resize", "stretch", "--mean", "0,0,0", "--std", "1,1,1", "--json",
                    "--max-drop", "10", "--bootstrap", "200")  # fmt: skip
    assert result.exit_code == 1, result.output
    record = json.loads(result.stdout)
    assert [set(m["metrics"]) for m in record["models"]] == [{"miou", "pixel_accuracy"}] * 2
    delta = record["models"][1]["deltas"]["miou"]
    assert delta["delta"] == pytest.approx(-0.5) and delta["rounds"] == 200 and delta["test"] == "bootstrap"
    assert "miou dropped 50.00 points" in record["failures"][0]


# -- bad data met while scoring, and progress ------------------------------------------------------------------------
def test_a_mask_class_the_model_does_not_have(discs: dict[str, Any], tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(discs["data"], data)
    with Image.open(data / "masks" / "disc003.png") as original:
        mask, palette = np.asarray(original).copy(), original.getpalette()
    mask[0, 0] = 9
    damaged = Image.fromarray(mask, "P")
    damaged.putpalette(palette)  # without its palette, Pillow would renumber the indices when saving
    damaged.save(data / "masks" / "disc003.png")
    with pytest.raises(Pt2trtError, match=r"disc003.png holds class 9 but the model has 4 classes.*unknown class"):
        pt2trt.evaluate(discs["model"], data, "segment", SEGMENT_OPTIONS)


def test_a_class_folder_beyond_the_models_classes(digits: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "eleven"
    for digit in range(10):
        shutil.copytree(digits["data"] / str(digit), data / f"d{digit}")
    (data / "e10").mkdir()
    shutil.copy(next((data / "d1").iterdir()), data / "e10" / "x.png")
    with pytest.raises(Pt2trtError, match=r"e10/x.png is labelled class 10 \(e10\) but the model has 10 classes"):
        pt2trt.evaluate(digits["model"], data, "classify")


def test_yolo_label_defects(boxes: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "yolo"
    shutil.copytree(boxes["yolo"].parent, data)
    label = data / "labels" / "scene001.txt"
    label.write_text("5 0.5 0.5 0.2 0.2\n")
    with pytest.raises(Pt2trtError, match=r"scene001.txt:1: class 5 is not among the 3 class names"):
        detect([boxes["detector"]], data / "data.yaml")
    label.write_text("0 0.95 0.5 0.2 0.2\n")
    with pytest.raises(Pt2trtError, match=r"scene001.txt:1: box \(0.95 0.5 0.2 0.2\) reaches outside the image"):
        detect([boxes["detector"]], data / "data.yaml")
    label.unlink()
    with pytest.raises(Pt2trtError, match=r"no label file for scene001.png"):
        detect([boxes["detector"]], data / "data.yaml")


def test_progress_reaches_every_image(digits: dict[str, Path]) -> None:
    seen: list[tuple[str, int, int]] = []
    settings = EvalSettings(limit=40, progress=lambda *a: seen.append(a))
    pt2trt.evaluate(digits["model"], digits["data"], "classify", settings)
    assert seen[-1] == (f"{digits['model']} (onnxruntime)", 40, 40) and len(seen) == 40
