"""Engine metadata beside the engine and the guard that refuses another TensorRT version or GPU before loading."""

from __future__ import annotations

import hashlib
import json
import warnings

import pytest

from pt2trt import _version
from pt2trt.backends.tensorrt import plan as plan_module
from pt2trt.backends.tensorrt.build import engine_metadata
from pt2trt.backends.tensorrt.metadata import (
    EngineMetadata,
    EngineMetadataWarning,
    check_engine,
    compatibility_problems,
    read_metadata,
    sidecar_path,
    write_metadata,
)
from pt2trt.backends.tensorrt.versions import Gpu
from pt2trt.errors import Pt2trtError
from tests.tensorrt_models import conv_relu, plan_from_flags, save

A100 = Gpu(0, "NVIDIA A100-SXM4-40GB", "8.0")
L4 = Gpu(0, "NVIDIA L4", "8.9")
T4 = Gpu(0, "Tesla T4", "7.5")


@pytest.fixture
def built(tmp_path, monkeypatch):
    """An 'engine' file with the metadata a build on an A100 with TensorRT 10.3 would write beside it."""
    monkeypatch.setattr(plan_module, "installed_version", lambda: None)
    src = conv_relu()
    src.metadata_props.add(key="pt2trt.model", value="torchvision:resnet18")
    onnx_path = save(src, tmp_path / "model.onnx")
    plan = plan_from_flags(
        onnx_path, trt_version="10", fp16=True, min_shapes=["input:1x3x16x16"], max_shapes=["input:8x3x16x16"],
        workspace_mib=512,
    )  # fmt: skip
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"serialized engine bytes")
    metadata = engine_metadata(plan, src, engine, "10.3.0.26", A100, 12.5)
    write_metadata(sidecar_path(engine), metadata)
    return engine, onnx_path, metadata


def test_metadata_records_the_build(built) -> None:
    engine, onnx_path, metadata = built
    assert sidecar_path(engine).name == "model.engine.json"
    data = json.loads(sidecar_path(engine).read_text())
    assert data["format"] == "pt2trt-engine-metadata/1"
    assert data["tensorrt_version"] == "10.3.0.26" and data["gpu_name"] == A100.name
    assert data["compute_capability"] == "8.0"
    assert data["onnx_sha256"] == hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    assert data["engine_sha256"] == hashlib.sha256(b"serialized engine bytes").hexdigest()
    assert data["precision"] == "fp16" and data["strongly_typed"] is False
    assert data["profiles"] == [{"input": {"min": [1, 3, 16, 16], "opt": [8, 3, 16, 16], "max": [8, 3, 16, 16]}}]
    assert data["flags"]["builder_flags"] == ["FP16"] and data["flags"]["workspace_mib"] == 512
    assert data["inputs"] == [{"name": "input", "dtype": "float32", "shape": ["batch", 3, 16, 16]}]
    assert data["outputs"] == [{"name": "output", "dtype": "float32", "shape": ["batch", 4, 16, 16]}]
    assert data["onnx_metadata"] == {"pt2trt.model": "torchvision:resnet18"}
    assert data["pt2trt_version"] == _version.__version__ and data["build_seconds"] == 12.5
    assert data["rebuild_command"].startswith(f"pt2trt build {onnx_path} -o {onnx_path.with_suffix('.engine')}")
    assert read_metadata(engine) == metadata


def test_same_version_and_gpu_loads(built) -> None:
    engine, _, metadata = built
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_engine(engine, "10.3.0.26", A100) == metadata


def test_other_tensorrt_version_is_refused_with_rebuild_command(built) -> None:
    engine, onnx_path, _ = built
    with pytest.raises(Pt2trtError) as exc:
        check_engine(engine, "10.15.1.29", A100)
    assert "built with TensorRT 10.3.0.26, this is 10.15.1.29" in exc.value.message
    assert f"rebuild it here: pt2trt build {onnx_path}" in exc.value.hint and "--fp16" in exc.value.hint


def test_other_gpu_is_refused(built) -> None:
    engine, _, _ = built
    with pytest.raises(
        Pt2trtError, match=r"built on NVIDIA A100-SXM4-40GB \(compute capability 8.0\), this is NVIDIA L4"
    ):
        check_engine(engine, "10.3.0.26", L4)


def test_compatibility_rules() -> None:
    base = dict(
        onnx_path="m.onnx", onnx_sha256="", engine_sha256="", precision="fp32", strongly_typed=False, profiles=[],
        inputs=[], outputs=[],
    )  # fmt: skip

    def meta(flags):
        return EngineMetadata(tensorrt_version="10.3.0.26", gpu_name=A100.name, compute_capability="8.0",
                              flags=flags, **base)  # fmt: skip

    strict = meta({})
    assert compatibility_problems(strict, "10.3.0.26", A100) == []
    assert compatibility_problems(strict, "10.3.0", A100) == []  # a shorter version string matches its prefix
    assert compatibility_problems(strict, "10.3.0.26", None) == []  # GPU unknown: only the version is checked
    assert compatibility_problems(strict, "10.3.1.2", A100)
    assert compatibility_problems(strict, "10.3.0.26", Gpu(0, "NVIDIA A100-PCIE-40GB", "8.0"))
    vc = meta({"version_compatible": True})
    assert compatibility_problems(vc, "10.15.1", A100) == [] and compatibility_problems(vc, "11.0.0", A100) == []
    assert "version compatible from TensorRT 10.3.0.26 on" in compatibility_problems(vc, "10.2.0", A100)[0]
    ampere = meta({"hardware_compatibility_level": "ampere+"})
    assert compatibility_problems(ampere, "10.3.0.26", L4) == []
    assert "Ampere or newer" in compatibility_problems(ampere, "10.3.0.26", T4)[0]
    same_cc = meta({"hardware_compatibility_level": "same-compute-capability"})
    assert compatibility_problems(same_cc, "10.3.0.26", Gpu(0, "NVIDIA A100-PCIE-40GB", "8.0")) == []
    assert compatibility_problems(same_cc, "10.3.0.26", L4)


def test_engine_without_metadata_loads_with_a_warning(tmp_path) -> None:
    engine = tmp_path / "from_trtexec.engine"
    engine.write_bytes(b"bytes")
    with pytest.warns(EngineMetadataWarning, match="has no pt2trt metadata"):
        assert check_engine(engine, "10.3.0.26", A100) is None


def test_metadata_of_another_engine_is_refused(built) -> None:
    engine, _, _ = built
    engine.write_bytes(b"rebuilt by trtexec")
    with pytest.raises(Pt2trtError, match="describes another engine") as info:
        check_engine(engine, "10.3.0.26", A100)
    assert "--ignore-metadata" in info.value.hint


def test_broken_metadata_is_a_user_error(built) -> None:
    engine, _, _ = built
    sidecar_path(engine).write_text("{not json")
    with pytest.raises(Pt2trtError, match="is not readable JSON"):
        check_engine(engine, "10.3.0.26", A100)
    sidecar_path(engine).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(Pt2trtError, match="is not pt2trt engine metadata"):
        read_metadata(engine)
