"""A model is parsed once and travels as one handle: how many times a command opens each ONNX file from Python.

Before the model handle (issue 18) one ``convert`` of SeedNet opened ``model.onnx`` 8 times and ``predict`` parsed
its model 3-4 times. Runtimes are given the handle's bytes, so the count below is every read of the file.
"""

from __future__ import annotations

import builtins
import collections
import io
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_cli
from tests.images import photos


@pytest.fixture
def onnx_reads(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """File name -> how many times Python opened it for reading while the test ran."""
    counts: collections.Counter[str] = collections.Counter()
    real_open = builtins.open

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and str(file).endswith(".onnx") and "r" in mode:
            counts[Path(file).name] += 1
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(io, "open", counting_open)
    return counts


def test_convert_reads_each_onnx_file_once(tmp_path: Path, onnx_reads: collections.Counter[str]) -> None:
    """export writes model.onnx and keeps its handle; check, simplify, verify, lint, the engine plan, bench and the
    graph picture all use it: one read of model.onnx (the report's facts)."""
    out = tmp_path / "out"
    result = run_cli(
        "convert", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "-o", str(out),
        "--bench-duration", "0.05", "-q", cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert onnx_reads == {"model.onnx": 1}, onnx_reads


def test_predict_reads_its_model_once(tmp_path: Path, onnx_reads: collections.Counter[str]) -> None:
    model = tmp_path / "seed.onnx"
    exported = run_cli("export", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "-o", str(model), cwd=ROOT)
    assert exported.returncode == 0, exported.stderr
    onnx_reads.clear()
    photos(tmp_path / "pictures")
    result = run_cli("predict", str(model), str(tmp_path / "pictures"), "--task", "classify", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert onnx_reads == {"seed.onnx": 1}, onnx_reads
