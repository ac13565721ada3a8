"""convert: every step in order into one folder, the report, the stop at the first failing step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, assert_one_line_error, run_cli
from tests.images import photos

SEEDNET = ("pt2trt.models:SeedNet", "--input", "input:1x3x28x28")
STEPS = ["export", "check", "simplify", "verify", "lint", "engine", "bench", "predict", "graph"]


def _report(outdir: Path) -> dict:
    return json.loads((outdir / "report.json").read_text())


def test_convert_seednet_writes_every_artifact(tmp_path: Path) -> None:
    out = tmp_path / "seed"
    images = tmp_path / "images"
    photos(images)
    (images / "notes.txt").write_text("not a picture")
    result = run_cli(  # the pictures named by a recursive glob (a folder of class folders would need one)
        "convert", *SEEDNET, "--dynamic-batch", "-o", str(out), "--images", str(images / "**" / "*"),
        "--bench-duration", "0.2", "--task", "classify", cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"report: {out / 'report.html'}" in result.stdout
    report = _report(out)
    assert [s["name"] for s in report["steps"]] == STEPS
    assert all(s["status"] in ("passed", "warning") for s in report["steps"]), report["steps"]
    assert report["passed"] and report["exit_code"] == 0
    for name in ("model.onnx", "build-plan.json", "model.svg", "report.html", "report.json"):
        assert (out / name).is_file(), name
    # no TensorRT here: the plan names the command that builds the engine on a GPU machine, with the batch range
    engine = next(s for s in report["steps"] if s["name"] == "engine")
    assert engine["command"].startswith("pt2trt build ") and "--max-shapes input:8x3x28x28" in engine["command"]
    assert "pt2trt build" in engine["line"]
    plan = json.loads((out / "build-plan.json").read_text())
    assert plan["profiles"][0]["input"]["min"] == [1, 3, 28, 28]
    # predictions: one picture per image per backend
    for backend in ("onnxruntime", "openvino"):
        assert len(list((out / "predictions" / backend).iterdir())) == 3
    bench = next(s for s in report["steps"] if s["name"] == "bench")["data"]
    assert [r["backend"] for r in bench["results"]] == ["torch", "onnxruntime", "openvino"]
    html = (out / "report.html").read_text()
    for section in ("summary", "steps", "facts", "verification", "precision", "speed", "graph", "predictions"):
        assert f'id="{section}"' in html, section
    for figure in ("figure-errors", "figure-latency", "figure-accuracy-latency", "figure-graph"):
        assert f'id="{figure}"' in html, figure
    assert html.count('src="data:image/jpeg;base64,') == 6  # 3 images x 2 backends, inline
    assert "http://" not in html and "https://" not in html
    assert "pt2trt build " in html and "verified" in html
    assert {p.name for p in (out / "figures").iterdir()} >= {"latency.svg", "errors.svg"}


def test_convert_refuses_to_overwrite_and_checks_flags(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "model.onnx").write_text("x")
    assert_one_line_error(run_cli("convert", *SEEDNET, "-o", str(out)), "already holds model.onnx", "--force")
    bad = run_cli("convert", *SEEDNET, "-o", str(tmp_path / "p"), "--precision", "int8")
    assert_one_line_error(bad, "--precision int8 needs calibration data")
    assert bad.returncode == 2
    assert not (tmp_path / "p").exists()
    for images, fragment in ((tmp_path / "none", "--images"), (tmp_path / "none" / "*.jpg", "no file matches")):
        bad = run_cli("convert", *SEEDNET, "-o", str(tmp_path / "p"), "--images", str(images))
        assert_one_line_error(bad, fragment)
        assert bad.returncode == 2 and not (tmp_path / "p").exists()


def test_convert_stops_at_verify_and_names_the_module(tmp_path: Path) -> None:
    out = tmp_path / "drift"
    result = run_cli("convert", "tests.convert_models:DriftNet", "--input", "x:1x3x16x16", "-o", str(out), cwd=ROOT)
    assert result.returncode == 1, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("pt2trt: error:")]
    assert len(errors) == 1 and "does not reproduce PyTorch" in errors[0]
    assert "Traceback" not in result.stderr
    report = _report(out)
    status = {s["name"]: s["status"] for s in report["steps"]}
    assert status["verify"] == "failed" and status["debug"] == "passed"
    assert status["lint"] == status["bench"] == "skipped"  # nothing after the failing step ran
    debug = next(s for s in report["steps"] if s["name"] == "debug")
    assert debug["data"]["origin"] == "drift" and debug["data"]["origin_detail"]["class"] == "ExportDrift"
    html = (out / "report.html").read_text()
    assert "Stopped at verify vs PyTorch" in html and "<code>drift</code> (ExportDrift)" in html
    assert 'id="figure-debug"' in html


def test_convert_fp16_and_int8_side_by_side(tmp_path: Path) -> None:
    images = tmp_path / "calib"
    photos(images)
    out = tmp_path / "reduced"
    result = run_cli(
        "convert", *SEEDNET, "-o", str(out), "--precision", "fp16,int8", "--calib", str(images), "--bench-duration",
        "0.2", cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = _report(out)
    for precision in ("fp16", "int8"):
        step = next(s for s in report["steps"] if s["name"] == f"precision-{precision}")
        assert step["status"] in ("passed", "warning") and (out / f"model-{precision}.onnx").is_file()
        # the verdict says what it rests on: a count, its interval, and that 3 images settle nothing
        assert "top-1 agreement" in step["line"] and "95 % CI" in step["line"] and "too few" in step["line"]
        assert "pt2trt quantize" in step["command"] and precision in step["command"]
    assert "--int8" in next(s for s in report["steps"] if s["name"] == "engine")["command"]  # from the last one
    html = (out / "report.html").read_text()
    assert "model-fp16.onnx" in html and "model-int8.onnx" in html and "kept in FP32" in html
    speed_rows = html[html.index('id="speed"') :]
    assert "onnxruntime fp16" in speed_rows and "onnxruntime int8" in speed_rows  # every precision benched


@pytest.mark.slow
def test_convert_resnet18_with_images(tmp_path: Path) -> None:
    images = tmp_path / "images"
    photos(images)
    out = tmp_path / "r18"
    result = run_cli(
        "convert", "torchvision:resnet18", "--input", "input:1x3x224x224", "--dynamic-batch", "-o", str(out),
        "--images", str(images), cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = _report(out)
    assert all(s["status"] in ("passed", "warning") for s in report["steps"])
    engine = next(s for s in report["steps"] if s["name"] == "engine")
    assert "--min-shapes input:1x3x224x224" in engine["command"]
    assert (out / "model.onnx").is_file() and (out / "report.html").is_file()
