"""``pt2trt export-openvino``: ONNX -> OpenVINO IR with ov.convert_model + ov.save_model, verified against ONNX
Runtime; FP16 weights halve the file; a Q/DQ model becomes an INT8 IR; the OpenVINO runner loads the .xml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pt2trt.imaging.preprocess import PRESETS
from pt2trt.onnx import metadata as meta
from tests.conftest import assert_one_line_error
from tests.tensorrt_models import conv_relu, save

ov = pytest.importorskip("openvino")


def test_ir_runs_like_onnxruntime_and_keeps_the_metadata(tmp_path: Path) -> None:
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
    from pt2trt.backends.openvino.runner import OpenVinoRunner
    from pt2trt.serve.model_io import read_model_io
    from pt2trt.verification.openvino import export_openvino

    model = conv_relu("batch")
    meta.write_metadata(model, {meta.PREPROCESSING: PRESETS["imagenet-classification"].to_json()})
    source = save(model, tmp_path / "cr.onnx")
    result = export_openvino(source, tmp_path / "ir")
    assert result.xml == tmp_path / "ir" / "cr.xml" and result.bin.is_file() and result.weights == "fp32"
    assert result.comparison.passed and result.comparison.tensors[0].max_abs_error < 1e-4
    feed = {"input": np.random.default_rng(1).standard_normal((3, 3, 16, 16)).astype(np.float32)}
    with OpenVinoRunner(result.xml) as ir, OnnxRuntimeRunner(source) as ort:
        np.testing.assert_allclose(ir.infer(feed)["output"], ort.infer(feed)["output"], rtol=1e-4, atol=1e-5)
    io = read_model_io(result.xml)
    assert io.metadata[meta.PREPROCESSING] == PRESETS["imagenet-classification"].to_json()
    assert [(t.name, t.dims) for t in io.inputs] == [("input", (None, 3, 16, 16))]


def test_fp16_weights_and_qdq_int8(tmp_path: Path) -> None:
    from pt2trt.verification.openvino import export_openvino

    source = save(conv_relu("batch"), tmp_path / "cr.onnx")
    fp32 = export_openvino(source, tmp_path / "fp32.xml")
    fp16 = export_openvino(source, tmp_path / "fp16.xml", fp16=True)
    assert fp16.weights == "fp16" and fp16.comparison.passed
    core = ov.Core()

    def constant_types(xml: Path) -> set[str]:
        ops = core.read_model(str(xml)).get_ops()
        return {op.get_output_element_type(0).get_type_name() for op in ops if op.get_type_name() == "Constant"}

    assert "f16" in constant_types(fp16.xml), "the weights are stored in FP16"
    assert "f16" not in constant_types(fp32.xml)
    assert fp16.bin.stat().st_size < 0.75 * fp32.bin.stat().st_size

    qdq = export_openvino(save(conv_relu("batch", qdq=True), tmp_path / "qdq.onnx"), tmp_path / "qdq.xml")
    assert qdq.weights == "int8" and qdq.comparison.passed
    ops = {op.get_type_name() for op in core.read_model(str(qdq.xml)).get_ops()}
    assert "FakeQuantize" in ops, "the Q/DQ pair became OpenVINO's INT8 quantization op"


def test_cli_writes_verifies_and_refuses(cli, tmp_path: Path) -> None:
    source = save(conv_relu("batch"), tmp_path / "cr.onnx")
    out = tmp_path / "ir"
    result = cli("export-openvino", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "matches ONNX Runtime" in result.stdout and "fp32 weights" in result.stdout
    assert_one_line_error(cli("export-openvino", str(source), "-o", str(out)), "already exists", "--force")
    strict = cli("export-openvino", str(source), "-o", str(tmp_path / "h.xml"), "--fp16", "--rtol", "0", "--atol", "0")
    assert_one_line_error(strict, "the OpenVINO IR differs from ONNX Runtime on 'output'", "nothing written")
    assert not (tmp_path / "h.xml").exists() and not (tmp_path / "h.bin").exists()
