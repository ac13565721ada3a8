"""A model is parsed once and travels as one handle: how many times a command opens each ONNX file from Python.

Before the model handle (issue 18) one ``convert`` of SeedNet opened ``model.onnx`` 8 times and ``predict`` parsed
its model 3-4 times. Runtimes are given the handle's bytes, so the count below is every read of the file.
``convert --precision fp16`` opened ``model.onnx`` 3 times and ``model-fp16.onnx`` twice before quantize took the
handle (int8 with image calibration: 4 and 2); quantize now measures each converted model from the proto it wrote.
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


def test_convert_fp16_reads_model_onnx_once_and_its_result_never(
    tmp_path: Path, onnx_reads: collections.Counter[str]
) -> None:
    """The precision step is given convert's handle; the FP16 model is measured (FP16 storage emulated) from the
    proto just written, and the engine plan and bench take the result's handle: model-fp16.onnx is never read."""
    result = run_cli(
        "convert", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "--precision", "fp16",
        "-o", str(tmp_path / "out"), "--bench-duration", "0.05", "-q", cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert onnx_reads == {"model.onnx": 1}, onnx_reads


def test_convert_int8_reads_each_onnx_file_once(tmp_path: Path, onnx_reads: collections.Counter[str]) -> None:
    """INT8 calibrated on pictures: the samples are made through the same handle; ONNX Runtime's quantizer writes
    model-int8.onnx, which is read once to place the Q/DQ as TensorRT wants and correct the biases, then travels as
    a handle. The quantizer also reads back its own shape-inferred copy (model-inferred.onnx, in its temp folder)."""
    photos(tmp_path / "pictures")
    result = run_cli(
        "convert", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "--precision", "int8",
        "--calib", str(tmp_path / "pictures"), "-o", str(tmp_path / "out"), "--bench-duration", "0.05", "-q", cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours = {name: count for name, count in onnx_reads.items() if name != "model-inferred.onnx"}
    assert ours == {"model.onnx": 1, "model-int8.onnx": 1}, onnx_reads
    assert onnx_reads["model-inferred.onnx"] <= 1, onnx_reads


def test_predict_reads_its_model_once(tmp_path: Path, onnx_reads: collections.Counter[str]) -> None:
    model = tmp_path / "seed.onnx"
    exported = run_cli("export", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "-o", str(model), cwd=ROOT)
    assert exported.returncode == 0, exported.stderr
    onnx_reads.clear()
    photos(tmp_path / "pictures")
    result = run_cli("predict", str(model), str(tmp_path / "pictures"), "--task", "classify", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert onnx_reads == {"seed.onnx": 1}, onnx_reads
