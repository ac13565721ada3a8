"""The real Polygraphy loader objects a build creates, checked for what they hold (no GPU needed to create them).

``trt`` is the real tensorrt module where it imports, else a stand-in with the enum names (see tests/tensorrt_models).
Also: the FP16 conversion for TensorRT 11 (run here with ONNX Runtime) and INT8 calibration data.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from polygraphy.backend.trt import CreateConfig, EngineBytesFromNetwork, NetworkFromOnnxPath

from pt2trt.backends.tensorrt import plan as plan_module
from pt2trt.backends.tensorrt.build import convert_to_fp16, engine_loader
from pt2trt.backends.tensorrt.calibration import CalibrationData, make_calibrator
from pt2trt.errors import Pt2trtError
from tests.tensorrt_models import conv_relu, plan_from_flags, save, trt_enums

HAVE_TENSORRT = importlib.util.find_spec("tensorrt") is not None
DYN = {"min_shapes": ["input:1x3x16x16"], "opt_shapes": ["input:4x3x16x16"], "max_shapes": ["input:8x3x16x16"]}


@pytest.fixture(autouse=True)
def no_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_module, "installed_version", lambda: None)


@pytest.fixture(scope="module")
def trt():
    return trt_enums()


@pytest.fixture
def onnx_files(tmp_path):
    return {
        "dynamic": save(conv_relu(), tmp_path / "dyn.onnx"),
        "static": save(conv_relu(batch=2), tmp_path / "static.onnx"),
        "qdq": save(conv_relu(batch=2, qdq=True), tmp_path / "qdq.onnx"),
    }


def _calib_dir(tmp_path, shape=(4, 3, 16, 16), count=2):
    folder = tmp_path / "calib"
    folder.mkdir(exist_ok=True)
    for i in range(count):
        np.save(folder / f"batch{i}.npy", np.random.default_rng(i).standard_normal(shape).astype(np.float32))
    return folder


def test_dynamic_profile_in_create_config(trt, onnx_files) -> None:
    loader = engine_loader(plan_from_flags(onnx_files["dynamic"], trt_version="10", **DYN), trt)
    assert isinstance(loader, EngineBytesFromNetwork)
    config = loader._config
    assert isinstance(config, CreateConfig)
    (profile,) = config.profiles
    assert profile["input"].min == (1, 3, 16, 16)
    assert profile["input"].opt == (4, 3, 16, 16)
    assert profile["input"].max == (8, 3, 16, 16)


def test_fixed_profile_and_static_model(trt, onnx_files) -> None:
    fixed = engine_loader(plan_from_flags(onnx_files["dynamic"], trt_version="10", shapes=["input:3x3x16x16"]), trt)
    shape = fixed._config.profiles[0]["input"]
    assert shape.min == shape.opt == shape.max == (3, 3, 16, 16)
    static = engine_loader(plan_from_flags(onnx_files["static"], trt_version="10"), trt)
    assert [dict(p) for p in static._config.profiles] == [{}]  # Polygraphy's empty default profile


@pytest.mark.parametrize("target", ["8.6", "10", "11"])
def test_fp32_on_each_version(trt, onnx_files, target) -> None:
    loader = engine_loader(plan_from_flags(onnx_files["dynamic"], trt_version=target, **DYN), trt)
    assert loader._config.fp16 is False and loader._config.int8 is False
    assert isinstance(loader._network, NetworkFromOnnxPath)
    assert loader._network.path == str(onnx_files["dynamic"])
    assert loader._network.strongly_typed is (target == "11")


@pytest.mark.parametrize("target", ["8.6", "10"])
def test_fp16_and_int8_builder_flags_on_8_6_and_10(trt, onnx_files, tmp_path, target) -> None:
    fp16 = engine_loader(plan_from_flags(onnx_files["dynamic"], trt_version=target, fp16=True, **DYN), trt)
    assert fp16._config.fp16 is True and fp16._config.int8 is False and fp16._network.strongly_typed is False

    plan = plan_from_flags(
        onnx_files["dynamic"], trt_version=target, int8=True, calibration_data=_calib_dir(tmp_path),
        calibration_cache=tmp_path / "int8.cache", **DYN,
    )  # fmt: skip
    batches = list(CalibrationData(plan))
    assert len(batches) == 2 and batches[0]["input"].shape == (4, 3, 16, 16)  # the profile's opt shape
    # Polygraphy's Calibrator subclasses a TensorRT class, so it can only be created where TensorRT imports
    calibrator = make_calibrator(plan, trt) if HAVE_TENSORRT else object()
    int8 = engine_loader(plan, trt, calibrator=calibrator)._config
    assert int8.int8 is True and int8.fp16 is False and int8.calibrator is calibrator
    if HAVE_TENSORRT:
        assert isinstance(calibrator, trt.IInt8EntropyCalibrator2)
        assert calibrator._cache == str(tmp_path / "int8.cache")

    qdq = engine_loader(plan_from_flags(onnx_files["qdq"], trt_version=target, int8=True), trt)._config
    assert qdq.int8 is True and qdq.calibrator is None  # explicit quantization: no calibrator


def test_tensorrt_11_has_no_precision_flags(trt, onnx_files) -> None:
    fp16 = engine_loader(plan_from_flags(onnx_files["dynamic"], trt_version="11", fp16=True, **DYN), trt)
    assert fp16._network.strongly_typed is True
    assert fp16._config.fp16 is False and fp16._config.int8 is False  # FP16 comes from the converted ONNX
    qdq = engine_loader(plan_from_flags(onnx_files["qdq"], trt_version="11", int8=True), trt)
    assert qdq._network.strongly_typed is True and qdq._config.int8 is False and qdq._config.calibrator is None


def test_no_calibrator_for_tensorrt_11(trt, onnx_files, tmp_path) -> None:
    """TensorRT 11's module has no IInt8EntropyCalibrator2 (tests/test_trt_api.py): refused before it is touched."""
    plan = plan_from_flags(
        onnx_files["dynamic"], trt_version="11", int8=True, calibration_data=_calib_dir(tmp_path), **DYN
    )
    assert plan.int8_mode == "quantize"
    with pytest.raises(Pt2trtError, match="TensorRT 11 has no INT8 calibrators"):
        make_calibrator(plan, trt)


def test_pool_limit_timing_cache_level_and_compatibility(trt, onnx_files, tmp_path) -> None:
    cache = tmp_path / "timing.cache"
    plan = plan_from_flags(
        onnx_files["dynamic"], trt_version="10", workspace_mib=1536, timing_cache=cache, builder_optimization_level=4,
        version_compatible=True, hardware_compatibility_level="same-compute-capability", **DYN,
    )  # fmt: skip
    loader = engine_loader(plan, trt)
    config = loader._config
    assert config.memory_pool_limits == {trt.MemoryPoolType.WORKSPACE: 1536 * 1024 * 1024}
    assert config.builder_optimization_level == 4
    assert config.version_compatible is True
    assert config.hardware_compatibility_level == trt.HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY
    assert loader.timing_cache_path == str(cache)  # saved after the build
    assert config.timing_cache_path is None  # nothing to load yet
    cache.write_bytes(b"cache")
    assert engine_loader(plan, trt)._config.timing_cache_path == str(cache)  # loaded once it exists


def test_defaults_leave_tensorrt_defaults(trt, onnx_files) -> None:
    config = engine_loader(plan_from_flags(onnx_files["dynamic"], trt_version="8.6", **DYN), trt)._config
    assert config.memory_pool_limits is None and config.builder_optimization_level is None
    assert config.version_compatible is None and config.hardware_compatibility_level is None
    ampere = engine_loader(
        plan_from_flags(onnx_files["dynamic"], trt_version="8.6", hardware_compatibility_level="ampere+", **DYN), trt
    )._config
    assert ampere.hardware_compatibility_level == trt.HardwareCompatibilityLevel.AMPERE_PLUS


@pytest.mark.parametrize("keep_io_types", [True, False])
def test_fp16_conversion_for_tensorrt_11(onnx_files, tmp_path, keep_io_types) -> None:
    src = onnx_files["dynamic"]
    dst = convert_to_fp16(src, tmp_path / "fp16.onnx", keep_io_types=keep_io_types)
    model = onnx.load(str(dst))
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.FLOAT16}
    io_type = onnx.TensorProto.FLOAT if keep_io_types else onnx.TensorProto.FLOAT16
    assert model.graph.input[0].type.tensor_type.elem_type == io_type
    assert model.graph.output[0].type.tensor_type.elem_type == io_type
    x = np.random.default_rng(0).standard_normal((2, 3, 16, 16)).astype(np.float32)
    ref = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    feed = x if keep_io_types else x.astype(np.float16)
    got = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"]).run(None, {"input": feed})[0]
    assert got.dtype == (np.float32 if keep_io_types else np.float16)
    np.testing.assert_allclose(got.astype(np.float32), ref, rtol=2e-2, atol=2e-2)
    assert not np.array_equal(got.astype(np.float32), ref)  # it really computed in FP16


def test_calibration_images_are_preprocessed(onnx_files, tmp_path) -> None:
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(5):
        Image.new("RGB", (40, 30), (255, 0, 128)).save(folder / f"img{i}.png")
    plan = plan_from_flags(onnx_files["dynamic"], trt_version="10", int8=True, calibration_data=folder, **DYN)
    data = CalibrationData(plan)
    batches = list(data)
    assert len(data) == 1 and len(batches) == 1  # 5 images make one batch of 4 (the opt batch)
    batch = batches[0]["input"]
    assert batch.shape == (4, 3, 16, 16) and batch.dtype == np.float32
    red = (1.0 - 0.485) / 0.229  # ImageNet normalization of a full red channel
    np.testing.assert_allclose(batch[:, 0], red, rtol=1e-5)
    np.testing.assert_allclose(batch[:, 1], (0.0 - 0.456) / 0.224, rtol=1e-5)


def test_calibration_batches_must_have_the_opt_shape(onnx_files, tmp_path) -> None:
    folder = _calib_dir(tmp_path, shape=(2, 3, 16, 16), count=1)
    plan = plan_from_flags(onnx_files["dynamic"], trt_version="10", int8=True, calibration_data=folder, **DYN)
    with pytest.raises(Pt2trtError, match=r"'input' has shape 2x3x16x16, the calibration profile needs 4x3x16x16"):
        list(CalibrationData(plan))


def test_calibration_data_must_exist_and_hold_data(onnx_files, tmp_path) -> None:
    with pytest.raises(Pt2trtError, match="calibration data not found"):
        plan_from_flags(onnx_files["dynamic"], trt_version="10", int8=True, calibration_data=tmp_path / "nope", **DYN)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(Pt2trtError, match="no calibration data in"):
        plan_from_flags(onnx_files["dynamic"], trt_version="10", int8=True, calibration_data=tmp_path / "empty", **DYN)
