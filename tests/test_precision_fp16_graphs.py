"""FP16 on the graphs where conversions broke (issue 19: a kept final Sigmoid/Softmax; issue 24: If/Loop subgraphs):
quantize writes a model that ONNX Runtime loads and runs, float32 outputs where asked, close to FP32, lint-clean."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from pt2trt.settings import Fp16Settings, QuantizeSettings
from tests import fp16_graphs

GRAPHS = {
    "sigmoid output in value_info": (fp16_graphs.kept_output_in_value_info, ("last",)),
    "final softmax": (lambda: fp16_graphs.kept_output_in_value_info("Softmax"), ()),
    "If reads an outer tensor": (fp16_graphs.if_reads_outer_tensor, ()),
    "Loop reads an outer tensor": (fp16_graphs.loop_reads_outer_tensor, ()),
}


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session, session.run(None, {"x": x})[0]


@pytest.mark.parametrize("name", list(GRAPHS))
def test_quantize_fp16_keeps_float32_io_and_runs(tmp_path, name):
    from pt2trt.backends.tensorrt.lint import trt_compatibility
    from pt2trt.precision import quantize

    build, keep = GRAPHS[name]
    fp32 = tmp_path / "m.onnx"
    onnx.save(build(), str(fp32))
    x = np.random.default_rng(0).normal(size=(12, 1, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "calib.npy", x[:, 0])
    out = tmp_path / "m16.onnx"
    settings = QuantizeSettings("fp16", calib=tmp_path / "calib.npy", fp16=Fp16Settings(tuple(keep)), force=True)
    result = quantize(fp32, out, settings, progress=False)
    assert result.accuracy.new_nonfinite == 0
    session, got = _run(out, x[0])
    assert session.get_outputs()[0].type == "tensor(float)"  # float32 I/O kept, also after a kept final node
    assert session.get_inputs()[0].type == "tensor(float)"
    _, ref = _run(fp32, x[0])
    np.testing.assert_allclose(got, ref, atol=0.05, rtol=0.01)
    assert result.details["fp16_nodes"]["fp16"] >= 1  # the convolution does run in FP16
    kept = {layer.op: layer.reason for layer in result.kept_fp32}
    for op in ("If", "Loop"):
        if op in name:
            assert kept[op].startswith("op: control flow")
    for target in ("trt-10", "trt-11"):
        report = trt_compatibility(out, target)
        assert report.passed and not [f for f in report.findings if f.code == "dtype-mismatch"], report.summary()


def test_lint_names_the_type_mismatch_a_half_done_conversion_leaves(tmp_path):
    """onnxconverter-common records the Loop body's Cast output as FP16 while the Cast still writes float32:
    onnx.checker passes it, ONNX Runtime refuses it, and the lint names the node."""
    from onnxconverter_common import float16

    from pt2trt.backends.tensorrt.lint import trt_compatibility

    build, _ = GRAPHS["Loop reads an outer tensor"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        broken = float16.convert_float_to_float16(build(), keep_io_types=True)
    onnx.checker.check_model(broken)
    with pytest.raises(Exception, match="Type"):
        ort.InferenceSession(broken.SerializeToString(), providers=["CPUExecutionProvider"])
    onnx.save(broken, str(tmp_path / "broken.onnx"))
    report = trt_compatibility(tmp_path / "broken.onnx", "trt-10")
    mismatches = [f for f in report.findings if f.code == "dtype-mismatch"]
    assert mismatches and not report.passed
    assert "float16" in mismatches[0].why and "float32" in mismatches[0].why and mismatches[0].op == "Cast"


def test_fp16_emulation_follows_subgraphs():
    """A model whose If branches compute in FP16 (onnxconverter-common's, which ONNX Runtime runs): the FP16 storage
    emulation quantize measures with must load it and round the branch's values too (issue 24's `If` crash)."""
    from onnxconverter_common import float16

    from pt2trt.precision.emulate import emulate_fp16, session_options

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        half = float16.convert_float_to_float16(fp16_graphs.if_reads_outer_tensor(), keep_io_types=True)
    x = np.random.default_rng(0).normal(size=(1, 3, 8, 8)).astype(np.float32)
    direct = ort.InferenceSession(half.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    emulated = ort.InferenceSession(emulate_fp16(half).SerializeToString(), session_options()).run(None, {"x": x})
    assert emulated[0].dtype == np.float32
    np.testing.assert_allclose(emulated[0], direct[0], atol=0.02)
