"""bench on a real TensorRT engine: CUDA-event phases, enqueue time, CUDA graphs. Skipped without TensorRT and a GPU
(as on this project's CPU machines, where it has never run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pt2trt
from pt2trt.bench import Loop, bench
from tests.tensorrt_models import gpu_skip_reason

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(gpu_skip_reason() is not None, reason=str(gpu_skip_reason()))]


@pytest.mark.parametrize("cuda_graph", [False, True])
def test_bench_tensorrt_engine_phases(tmp_path: Path, cuda_graph: bool) -> None:
    onnx_path = tmp_path / "r18.onnx"
    pt2trt.export("torchvision:resnet18", [pt2trt.parse_input("input:1x3x224x224")], onnx_path)
    from pt2trt.precision.build import build
    from pt2trt.settings import RunnerSettings

    engine = build(onnx_path, tmp_path / "r18.engine").engine
    report = bench(
        onnx_path, ["onnxruntime", "tensorrt"], sources={"engine": engine},
        runner=RunnerSettings(cuda_graph=cuda_graph), loop=Loop(100, 20, 0.5),
    )  # fmt: skip
    trt = report.result("tensorrt (cuda graph)" if cuda_graph else "tensorrt")
    assert trt.status == "ok", trt.reason
    assert {"h2d", "compute", "d2h", "enqueue"} <= set(trt.costs)
    assert trt.latency is not None
    total = trt.costs["h2d"].median + trt.costs["compute"].median + trt.costs["d2h"].median
    assert trt.latency.median == pytest.approx(total, rel=0.5)
    np.testing.assert_allclose(trt.outputs[0], report.result("onnxruntime").outputs[0], rtol=1e-2, atol=1e-2)
