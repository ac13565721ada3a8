"""``pt2trt predict`` and ``pt2trt compare`` from the command line on small ONNX models, the OpenVINO runner,
videos, preprocessing recorded by ``export --preprocess``, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from pt2trt.onnx import metadata as meta
from tests.conftest import assert_one_line_error
from tests.models import constant_outputs_model
from tests.test_tasks import KEPT, YOLO_BOXES, xyxy


@pytest.fixture
def yolo(tmp_path: Path) -> Path:
    path = tmp_path / "yolo.onnx"
    onnx.save(constant_outputs_model({"output0": YOLO_BOXES.T[None]}, ("N", 3, 640, 640)), str(path))
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, size in enumerate([(640, 640), (640, 640)]):
        Image.new("RGB", size, (20 * i, 40, 60)).save(folder / f"img{i}.png")
    return folder


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_predict_json_lines_labels_save_and_no_overwrite(cli, tmp_path: Path, yolo: Path, photos: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("person\ncar\n")
    out = tmp_path / "annotated"
    args = ["predict", str(yolo), str(photos), "--task", "detect", "--labels", str(labels), "--batch", "2"]
    result = cli(*args, "--save", str(out))
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    assert [r["image"] for r in lines] == ["img0.png", "img1.png"]
    first = lines[0]
    assert (first["width"], first["height"]) == (640, 640)
    assert [d["box"] for d in first["detections"]] == xyxy(YOLO_BOXES[KEPT]).tolist()
    assert [d["label"] for d in first["detections"]] == ["person", "car", "person", "person", "car"]
    assert sorted(p.name for p in out.iterdir()) == ["img0.png", "img1.png"]
    drawn = np.asarray(Image.open(out / "img0.png"))
    assert drawn.shape == (640, 640, 3) and (drawn != [0, 40, 60]).any(axis=2).sum() > 1000, "boxes were drawn"
    assert "predicted 2 image(s)" in result.stderr and "onnxruntime" in result.stderr

    again = cli(*args, "--save", str(out))
    assert_one_line_error(again, "img0.png already exists", "--force")
    assert cli(*args, "--save", str(out), "--force").returncode == 0

    jsonl = tmp_path / "out.jsonl"
    assert cli(*args, "-o", str(jsonl)).returncode == 0
    assert records(jsonl.read_text()) == [{k: v for k, v in r.items() if k != "saved"} for r in lines]
    assert_one_line_error(cli(*args, "-o", str(jsonl)), "already exists")


def test_compare_cli_agree_and_disagree(cli, tmp_path: Path, photos: Path) -> None:
    def classifier(name: str, logits: list[float]) -> Path:
        path = tmp_path / name
        onnx.save(constant_outputs_model({"logits": np.array([logits], np.float32)}), str(path))
        return path

    a = classifier("a.onnx", [1.0, 3.0, 2.0])
    b = classifier("b.onnx", [1.0, 3.0, 2.001])
    c = classifier("c.onnx", [1.0, 2.0, 3.0])
    same = cli("compare", str(a), str(b), str(photos), "--task", "classify", "--size", "64")
    assert same.returncode == 0, same.stderr
    assert "top-1 agreement: 100.00%" in same.stdout and "agree" in same.stdout
    differ = cli("compare", str(a), str(c), str(photos), "--task", "classify", "--size", "64", "--json")
    assert differ.returncode == 1
    report = json.loads(differ.stdout)
    assert report["passed"] is False and report["top1_agreement"] == 0.0 and report["images"] == 2
    assert report["max_probability_difference"] == pytest.approx(
        np.exp(3) / np.exp([1, 2, 3]).sum() - np.exp(2) / np.exp([1, 2, 3]).sum()
    )


def test_openvino_runner_matches_onnxruntime(cli, yolo: Path, photos: Path) -> None:
    pytest.importorskip("openvino", reason="OpenVINO is optional: pip install 'pt2trt[openvino]'")
    result = cli("compare", str(yolo), str(yolo), str(photos), "--task", "detect", "--backend-b", "openvino", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["b"]["backend"] == "openvino" and report["matched_fraction"] == 1.0
    assert report["mean_iou"] == pytest.approx(1.0) and report["detections_b"] == 2 * len(KEPT)


def test_openvino_runner_api(yolo: Path) -> None:
    pytest.importorskip("openvino", reason="OpenVINO is optional: pip install 'pt2trt[openvino]'")
    from pt2trt.backends import runner_class

    with runner_class("openvino")(yolo) as runner:
        meta_in = runner.input_metadata()
        assert [m.name for m in meta_in] == ["images"] and meta_in[0].shape == (None, 3, 640, 640)
        out = runner.infer({"images": np.zeros((2, 3, 640, 640), np.float32)})
    assert list(out) == ["output0"] and np.array_equal(out["output0"], np.stack([YOLO_BOXES.T] * 2))


def test_video_frames(cli, tmp_path: Path, yolo: Path) -> None:
    cv2 = pytest.importorskip("cv2", reason="videos need OpenCV: pip install 'pt2trt[video]'")
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (320, 160))
    for i in range(3):
        writer.write(np.full((160, 320, 3), 50 * i, np.uint8))
    writer.release()
    out = tmp_path / "frames"
    result = cli("predict", str(yolo), str(path), "--task", "detect", "--save", str(out))
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    assert [(r["image"], r["frame"], r["width"], r["height"]) for r in lines] == [
        (f"clip.avi#{i}", i, 320, 160) for i in range(3)
    ]
    assert sorted(p.name for p in out.iterdir()) == [f"clip_{i:06d}.jpg" for i in range(3)]
    # letterboxed 320x160 -> 640x640 (x2, 160 rows above): box 0 (50, 50, 150, 150) -> (25, 0, 75, 0) clipped away
    assert lines[0]["detections"][0]["box"] == [25.0, 0.0, 75.0, 0.0]


def test_export_records_preprocessing_that_predict_uses(cli, tmp_path: Path, photos: Path) -> None:
    recipe = tmp_path / "pre.yaml"
    recipe.write_text("preset: imagenet-classification\nsize: 28\nresize: stretch\n")
    model = tmp_path / "seednet.onnx"
    exported = cli(
        "export", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "--dynamic-batch", "--exporter", "legacy",
        "-o", str(model), "--preprocess", str(recipe),
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    recorded = json.loads(meta.read_metadata(onnx.load(str(model)))[meta.PREPROCESSING])
    assert recorded["resize"] == "stretch" and recorded["size"] == [28, 28] and recorded["mean"][0] == 0.485
    result = cli("predict", str(model), str(photos), "--task", "classify", "--top-k", "3", "--batch", "2")
    assert result.returncode == 0, result.stderr
    assert "imagenet-classification: stretch 28x28" in result.stderr
    assert [len(r["top"]) for r in records(result.stdout)] == [3, 3]
    verified = cli("verify", "pt2trt.models:SeedNet", str(model), "--task", "classify", "--batch", "3")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "top-1 agreement: 100.00%" in verified.stdout and "verified (classify)" in verified.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--preprocess", "imagenet"], ["unknown preprocessing preset 'imagenet'"]),
        (["--size", "big"], ["malformed size 'big'"]),
        (["--mean", "1,2"], ["--mean needs three values"]),
        (["--labels", "missing.txt"], ["labels file not found"]),
        (["--backend", "tensorrt"], ["TensorRT"]),
        (["--conf", "2"], ["--conf 2.0"]),
    ],
)
def test_predict_errors_are_one_line(cli, yolo: Path, photos: Path, args: list[str], fragments: list[str]) -> None:
    assert_one_line_error(cli("predict", str(yolo), str(photos), "--task", "detect", *args), *fragments)


def test_missing_images_and_tasks_are_one_line(cli, yolo: Path, tmp_path: Path) -> None:
    assert_one_line_error(cli("predict", str(yolo), str(tmp_path / "nope.jpg"), "--task", "detect"), "not found")
    assert_one_line_error(cli("predict", str(yolo), str(tmp_path), "--task", "detect"), "holds no images")
    result = cli("predict", str(yolo), str(tmp_path), "--task", "track")
    assert_one_line_error(result, "--task")


def test_cli_commands_stay_light() -> None:
    code = (
        "import sys, pt2trt.cli.predict, pt2trt.cli.compare; "
        "print(sorted(m for m in ('numpy', 'torch', 'onnx', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_engine_uses_its_recorded_preprocessing_and_the_tensorrt_runner(tmp_path: Path, cli, photos: Path) -> None:
    """An engine's metadata file carries the ONNX's pt2trt.* records; running it goes through the TensorRT runner."""
    from pt2trt.backends.tensorrt.metadata import EngineMetadata, sidecar_path, write_metadata
    from pt2trt.prediction.image_model import ImageModel

    engine = tmp_path / "model.engine"
    engine.write_bytes(b"not a real engine")
    recipe = '{"resize":"letterbox","size":[320,320],"pad_value":0}'
    fields = dict.fromkeys(("tensorrt_version", "gpu_name", "compute_capability", "onnx_path", "onnx_sha256"), "")
    record = EngineMetadata(
        **fields, engine_sha256="", precision="fp32", strongly_typed=False, profiles=[], flags={}, inputs=[],
        outputs=[], onnx_metadata={meta.PREPROCESSING: recipe},
    )  # fmt: skip
    write_metadata(sidecar_path(engine), record)
    model = ImageModel(engine, default_preset="imagenet-classification")
    assert model.backend == "tensorrt"
    assert model.preprocess.resize == "letterbox" and model.preprocess.size == (320, 320)
    result = cli("predict", str(engine), str(photos), "--task", "detect")
    assert_one_line_error(result, "TensorRT")
