"""Real TensorRT engines on a GPU: resnet18 with a dynamic batch profile, FP32 and FP16, against ONNX Runtime.

These are the only tests that may call a TensorRT path verified. They are skipped, with the reason, where
``tensorrt`` does not import or no CUDA device is present (as on this project's CPU CI).
"""

from __future__ import annotations

import numpy as np
import pytest

import pt2trt
from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
from pt2trt.backends.tensorrt.versions import cuda_gpus
from pt2trt.comparators.tensors import compare_outputs
from pt2trt.errors import Pt2trtError
from pt2trt.settings import RunInputs, Tolerance
from pt2trt.shapes import apply_dynamic, parse_input
from tests.tensorrt_models import gpu_skip_reason

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(gpu_skip_reason() is not None, reason=str(gpu_skip_reason()))]

PROFILE = {
    "min_shapes": ["input:1x3x224x224"],
    "opt_shapes": ["input:4x3x224x224"],
    "max_shapes": ["input:8x3x224x224"],
}
TOLERANCE = {"fp32": (1e-3, 1e-3), "fp16": (5e-2, 5e-2)}


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("gpu")
    specs = apply_dynamic([parse_input("input:1x3x224x224")], dynamic_batch=True)
    return pt2trt.export("torchvision:resnet18", specs, root / "r18.onnx").path


@pytest.fixture(scope="module")
def engines(resnet18):
    from pt2trt.precision.build import build
    from pt2trt.settings import BuildSettings
    from pt2trt.settings.tensorrt import parse_profile_flags

    out = {}
    for precision in ("fp32", "fp16"):
        settings = BuildSettings(fp16=precision == "fp16", profiles=parse_profile_flags(**PROFILE))
        result = build(resnet18, resnet18.with_name(f"r18-{precision}.engine"), settings)
        assert result.engine.is_file() and result.metadata_path.is_file()
        out[precision] = result
    return out


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("batch", [1, 6])
def test_engine_matches_onnxruntime(resnet18, engines, precision, batch) -> None:
    from pt2trt.backends.tensorrt.runner import TensorRTRunner

    result = engines[precision]
    x = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    with OnnxRuntimeRunner(resnet18) as ort_runner:
        reference = ort_runner.infer({"input": x})
    with TensorRTRunner(result.engine) as runner:
        assert runner.metadata is not None and runner.metadata.precision == precision
        got = runner.infer({"input": x})
    assert got["output"].shape == (batch, 1000)
    rtol, atol = TOLERANCE[precision]
    comparison = compare_outputs(reference, got, rtol=rtol, atol=atol)
    assert comparison.passed, comparison.to_dict()


def test_metadata_and_profile_guard(engines) -> None:
    from pt2trt.backends.tensorrt.runner import TensorRTRunner

    metadata = engines["fp32"].metadata
    gpu = cuda_gpus()[0]
    assert metadata.gpu_name == gpu.name and metadata.compute_capability == gpu.compute_capability
    with TensorRTRunner(engines["fp32"].engine) as runner, pytest.raises(Pt2trtError, match="outside the engine's"):
        runner.infer({"input": np.zeros((9, 3, 224, 224), np.float32)})


def test_torch_cuda_tensors_without_copies(engines) -> None:
    import torch

    from pt2trt.backends.tensorrt.runner import TensorRTRunner

    x = torch.randn(2, 3, 224, 224, device="cuda")
    with TensorRTRunner(engines["fp32"].engine) as runner:
        out = runner.infer_torch({"input": x})
        numpy_out = runner.infer({"input": x.cpu().numpy()})
    assert out["output"].is_cuda and out["output"].shape == (2, 1000)
    np.testing.assert_allclose(out["output"].cpu().numpy(), numpy_out["output"], rtol=1e-5, atol=1e-5)


def test_verify_accepts_the_engine(resnet18, engines) -> None:
    result = pt2trt.verify(
        "torchvision:resnet18", engines["fp32"].engine, RunInputs(batch=3), tolerance=Tolerance(rtol=1e-2, atol=1e-2)
    )
    assert result.passed and "tensorrt" in result.seconds


def test_corrupt_engine_is_one_line(tmp_path) -> None:
    from pt2trt.backends.tensorrt.metadata import EngineMetadataWarning
    from pt2trt.backends.tensorrt.runner import TensorRTRunner

    engine = tmp_path / "broken.engine"
    engine.write_bytes(b"\x00" * 1024)
    with pytest.warns(EngineMetadataWarning), pytest.raises(Pt2trtError) as exc, TensorRTRunner(engine):
        pass
    assert "TensorRT cannot load" in str(exc.value) and "\n" not in str(exc.value)
