"""``--ignore-metadata`` reaches the TensorRT runner from predict, compare and verify (the escape hatch named by the
sidecar errors); the GPU path itself is covered by the gpu tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pt2trt.backends.tensorrt.runner import TensorRTRunner
from pt2trt.cli.main import cli as pt2trt_cli
from pt2trt.settings import ExportSettings, RunnerSettings


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[TensorRTRunner]:
    """Every TensorRT runner the commands create; activating one stops the command right there (no GPU here)."""
    made: list[TensorRTRunner] = []

    def activate(self: TensorRTRunner) -> None:
        made.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(TensorRTRunner, "_activate", activate)
    return made


@pytest.mark.parametrize(
    "command",
    [
        ["predict", "{engine}", "{image}", "--task", "classify", "--size", "8x8"],
        ["compare", "{engine}", "{engine}", "{image}", "--task", "classify", "--size", "8x8"],
    ],
)
def test_predict_and_compare_pass_the_flag(tmp_path: Path, opened: list, command: list[str]) -> None:
    from click.testing import CliRunner
    from PIL import Image

    engine, image = tmp_path / "m.engine", tmp_path / "a.png"
    engine.write_bytes(b"not an engine")
    Image.new("RGB", (8, 8)).save(image)
    args = [a.format(engine=engine, image=image) for a in command]
    for flag, expected in (([], True), (["--ignore-metadata"], False)):
        opened.clear()
        CliRunner().invoke(pt2trt_cli, [*args, *flag])
        assert opened and opened[0].check_metadata is expected


def test_verify_passes_the_flag(tmp_path: Path, opened: list, monkeypatch: pytest.MonkeyPatch) -> None:
    import pt2trt
    from pt2trt.verification import pytorch as verification

    engine = tmp_path / "m.engine"
    engine.write_bytes(b"not an engine")
    source = tmp_path / "m.onnx"
    pt2trt.export(
        "pt2trt.models:SeedNet", [pt2trt.parse_input("input:1x3x28x28")], source, ExportSettings(exporter="legacy")
    )
    monkeypatch.setattr(verification, "_source_onnx", lambda path: source)
    for ignore, expected in ((False, True), (True, False)):
        opened.clear()
        with pytest.raises(SystemExit):
            pt2trt.verify("pt2trt.models:SeedNet", engine, runner=RunnerSettings(check_metadata=not ignore))
        assert opened[0].check_metadata is expected
