"""The convert precision matrix (issue 24): `convert --precision fp16,int8 --calib ... --images ...` on a classifier,
torchvision's detectors (ssdlite, Faster R-CNN mobilenet, RetinaNet), a YOLOv8n built from its yaml, and segmenters
(LRASPP, DeepLabV3 mobilenet), random weights, real photos. Every step passes or fails with one line, never a
traceback; a precision that misses --min-agreement fails its step and the run goes on; report.html shows each
precision's agreement (with its count) and speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.images import photos

pytestmark = pytest.mark.slow

MATRIX = {
    "classifier": ("tests.matrix_models:mobilenet_v3_small", "input:1x3x224x224", "classify"),
    "ssdlite": ("tests.matrix_models:ssdlite", "images:1x3x320x320", "detect"),
    "fasterrcnn-mobilenet": ("tests.matrix_models:fasterrcnn_mobilenet", "images:1x3x320x320", "detect"),
    "retinanet": ("tests.matrix_models:retinanet", "images:1x3x320x320", "detect"),
    "yolov8n-yaml": ("tests.matrix_models:YoloV8n", "x:1x3x320x320", "detect"),
    "lraspp": ("tests.matrix_models:lraspp", "input:1x3x256x256", "segment"),
    "deeplabv3-mobilenet": ("tests.matrix_models:deeplabv3_mobilenet", "input:1x3x256x256", "segment"),
}
AGREEMENT = {"classify": "top-1 agreement", "detect": "boxes agreeing", "segment": "pixel agreement"}
#: runs that stop, with one line, at a step before or beside precision: what the matrix found, outside pt2trt's
#: precision (the step, and what its error says). Asserted, so that a fix shows here.
KNOWN_FAILURES = {
    # the legacy export (dynamo fails on it) of fasterrcnn_mobilenet_v3_large_320_fpn runs on random inputs (no
    # detection survives) but its Reshape of the decoded boxes fails on any photo with a detection: verify on
    # --images says so
    "fasterrcnn-mobilenet": ("verify", "does not reproduce PyTorch on 3 of 3 picture(s) of --images"),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("matrix-photos")
    photos(folder)
    return folder


@pytest.mark.parametrize("name", list(MATRIX))
def test_convert_fp16_int8(tmp_path: Path, images: Path, name: str) -> None:
    model, shape, task = MATRIX[name]
    out = tmp_path / name
    proc = subprocess.run(
        [sys.executable, "-m", "pt2trt.cli.main", "convert", model, "--input", shape, "--task", task, "-o", str(out),
         "--precision", "fp16,int8", "--calib", str(images), "--images", str(images), "--backend", "onnxruntime",
         "--bench-duration", "0.05", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert all(line.startswith("pt2trt: error: ") for line in lines) and len(lines) <= 1, proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    steps = {s["name"]: s for s in report["steps"]}
    for step in report["steps"]:
        assert step["status"] in ("passed", "warning", "failed", "skipped") and "\n" not in step["line"], step
    print(name, {s["name"]: s["status"] for s in report["steps"]})
    if name in KNOWN_FAILURES:
        step, words = KNOWN_FAILURES[name]
        assert proc.returncode == 1 and steps[step]["status"] == "failed" and words in lines[0], lines
        return
    # a precision below --min-agreement (0.99) fails its step with its counted figure; the run goes on to the end
    failed = [s for s in report["steps"] if s["status"] == "failed"]
    assert all(s["name"].startswith("precision-") for s in failed), failed
    assert all("does not keep the FP32 model's answers" in s["line"] and AGREEMENT[task] in s["line"] for s in failed)
    assert proc.returncode == (1 if failed else 0), (proc.returncode, lines)
    assert steps["bench"]["status"] in ("passed", "warning") and steps["graph"]["status"] == "passed", steps
    html = (out / "report.html").read_text()
    for precision in ("fp16", "int8"):
        line = steps[f"precision-{precision}"]["line"]
        assert AGREEMENT[task] in line and " sample" in line, line
        assert f"model-{precision}.onnx" in html and f"onnxruntime {precision}" in html
    assert html.count(AGREEMENT[task]) >= 2
