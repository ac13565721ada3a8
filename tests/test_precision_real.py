"""torchvision resnet18 and mobilenet_v3_large (random He-initialised weights) quantized to INT8 Q/DQ on real photos
(scikit-image's): TensorRT 10 and 11 lint clean, top-1 agreement with FP32 reported, runs on ONNX Runtime and OpenVINO.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from tests.precision_models import export, photos

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    return photos(tmp_path_factory.mktemp("photos"), crops=5)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_large"])
def test_torchvision_int8_qdq(tmp_path, photo_folder, name):
    import openvino as ov
    import torchvision

    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
    from pt2trt.backends.tensorrt.lint import trt_compatibility
    from pt2trt.precision import quantize
    from pt2trt.precision.data import load_samples
    from tests.task_models import he_init

    model = he_init(getattr(torchvision.models, name)(weights=None)).eval()
    fp32 = export(model, (1, 3, 224, 224), tmp_path / f"{name}.onnx")
    out = tmp_path / f"{name}-int8.onnx"
    result = quantize(fp32, out, "int8", calib=photo_folder, method="percentile", force=True, progress=False)
    print(f"{name} INT8: " + "; ".join(result.accuracy.lines()))
    assert result.calibration["kind"] == "images" and result.calibration["samples"] >= 30
    assert result.accuracy.samples >= 8 and result.accuracy.agreement is not None
    assert result.accuracy.task is not None and "top5_agreement" in result.accuracy.task.metrics
    assert result.accuracy.outputs[0].comparison.cosine_similarity > 0.85  # random weights: see docs/precision.md
    recorded = json.loads({p.key: p.value for p in onnx.load(str(out)).metadata_props}["pt2trt.precision.accuracy"])
    assert recorded["agreement"] == result.accuracy.agreement
    assert result.details["qdq"]["quantized_ops"]["Conv"] >= 20
    for target in ("trt-10", "trt-11"):
        report = trt_compatibility(out, target)
        assert report.passed, [f.line() for f in report.errors]
    samples = load_samples(out, onnx.load(str(out)), photo_folder, limit=4)
    x = np.concatenate([feed["input"] for feed in samples.feeds])
    with OnnxRuntimeRunner(out) as runner:
        ort_out = next(iter(runner.infer({"input": x}).values()))
    compiled = ov.Core().compile_model(str(out), "CPU")
    ov_out = compiled({"input": x})[compiled.output(0)]
    assert ort_out.shape == ov_out.shape == (4, 1000)
    for a, b in zip(ort_out, ov_out):  # both run the same INT8 model (their INT8 kernels round differently)
        assert np.corrcoef(a, b)[0, 1] > 0.8
