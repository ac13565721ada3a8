"""convert with reduced precision on a detector (issue 24): pt2trt's own words on stderr, the verify line says the
verdict that decided, and the precision steps measure a detector whose outputs hold one image, image by image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.images import photos

DETECTOR = ("tests.verdict_models:NamedOneImageDetector", "--input", "input:1x3x64x64", "--task", "detect")


def _report(outdir: Path) -> dict:
    return json.loads((outdir / "report.json").read_text())


def _steps(outdir: Path) -> dict[str, dict]:
    return {s["name"]: s for s in _report(outdir)["steps"]}


def test_convert_stderr_holds_no_python_warning(tmp_path: Path) -> None:
    """FP16 without --calib: the note that nothing was calibrated is pt2trt's own (in the step's line and on the
    progress display), never a Python UserWarning naming a source file."""
    out = tmp_path / "seed"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    proc = subprocess.run(
        [sys.executable, "-m", "pt2trt.cli.main", "convert", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28",
         "-o", str(out), "--precision", "fp16", "--bench-duration", "0.1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Warning" not in proc.stderr and ".py:" not in proc.stderr, proc.stderr
    step = _steps(out)["precision-fp16"]
    assert step["status"] == "warning" and "NOT calibrated" in step["line"]


def test_convert_detector_fp16_int8_verdicts_that_decided(tmp_path: Path) -> None:
    images = tmp_path / "images"
    photos(images)
    out = tmp_path / "det"
    proc = subprocess.run(
        [sys.executable, "-m", "pt2trt.cli.main", "convert", *DETECTOR, "-o", str(out), "--precision", "fp16,int8",
         "--calib", str(images), "--images", str(images), "--bench-duration", "0.1", "--backend", "onnxruntime"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    steps = _steps(out)
    verify = steps["verify"]["line"]
    assert "verified (detect, decided by the decoded results of 1 sample)" in verify, verify
    for precision in ("fp16", "int8"):
        line = steps[f"precision-{precision}"]["line"]
        assert "boxes agreeing" in line and "95 % CI" in line and "on 1 sample" in line, line
    html = (out / "report.html").read_text()
    assert html.count("boxes agreeing") >= 2  # each precision's agreement, with its count, in the report
