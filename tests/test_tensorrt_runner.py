"""The TensorRT runner's CPU-side logic: profile checks, dtypes, load errors, and its errors without TensorRT."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from pt2trt.backends import RUNNERS, runner_class
from pt2trt.backends.tensorrt.runner import (
    EngineTensor,
    TensorRTRunner,
    check_shape,
    deserialize,
    dtype_name,
    is_engine_file,
)
from pt2trt.backends.tensorrt.versions import INSTALL_HINT, cuda_gpus, require_gpu
from pt2trt.errors import Pt2trtError

HAVE_TENSORRT = importlib.util.find_spec("tensorrt") is not None
IMAGES = EngineTensor(
    "images", True, "float32", (-1, 3, 224, 224), ((1, 3, 224, 224), (8, 3, 224, 224), (16, 3, 224, 224))
)


def test_registered_as_a_backend() -> None:
    assert RUNNERS["tensorrt"] == "pt2trt.backends.tensorrt.runner:TensorRTRunner"
    assert runner_class("tensorrt") is TensorRTRunner


def test_shapes_within_the_profile_pass() -> None:
    for batch in (1, 8, 16):
        check_shape(IMAGES, (batch, 3, 224, 224))


def test_shape_outside_the_profile_is_a_clear_error() -> None:
    with pytest.raises(Pt2trtError) as exc:
        check_shape(IMAGES, (32, 3, 224, 224), profile_index=0)
    assert exc.value.message == (
        "input 'images' shape 32x3x224x224 is outside the engine's optimization profile 0 "
        "(min 1x3x224x224, max 16x3x224x224)"
    )
    assert "--max-shapes" in exc.value.hint
    with pytest.raises(Pt2trtError, match="engine fixes dim 1 at 3"):
        check_shape(IMAGES, (2, 4, 224, 224))
    with pytest.raises(Pt2trtError, match="engine takes rank 4"):
        check_shape(IMAGES, (2, 3, 224))


def test_dtype_names() -> None:
    assert dtype_name(SimpleNamespace(name="HALF")) == "float16"
    assert dtype_name(SimpleNamespace(name="INT64")) == "int64"
    assert dtype_name("DataType.FLOAT") == "float32"
    with pytest.raises(Pt2trtError, match="FP8 is not supported"):
        dtype_name(SimpleNamespace(name="FP8"))


def test_engine_files_by_suffix() -> None:
    assert is_engine_file("r18.engine") and is_engine_file("r18.PLAN") and is_engine_file("x/r18.trt")
    assert not is_engine_file("r18.onnx")


@pytest.mark.parametrize("behaviour", ["returns None", "raises"])
def test_corrupt_engine_is_one_line(behaviour) -> None:
    def load(data: bytes):
        if behaviour == "raises":
            raise RuntimeError("std::exception")
        return None

    with pytest.raises(Pt2trtError) as exc:
        deserialize(SimpleNamespace(deserialize_cuda_engine=load), b"garbage", "broken.engine")
    assert "TensorRT cannot load broken.engine" in str(exc.value) and "\n" not in str(exc.value)


def test_missing_engine_file() -> None:
    with pytest.raises(Pt2trtError, match="engine file not found"):
        TensorRTRunner("nope.engine")


@pytest.mark.skipif(HAVE_TENSORRT, reason="tensorrt is installed here")
def test_without_tensorrt_the_runner_says_how_to_get_it(tmp_path) -> None:
    engine = tmp_path / "m.engine"
    engine.write_bytes(b"x")
    with pytest.raises(Pt2trtError) as exc, TensorRTRunner(engine):
        pass
    assert exc.value.message == "TensorRT is not installed" and exc.value.hint == INSTALL_HINT
    assert 'pip install "pt2trt[tensorrt]"' in INSTALL_HINT and "ONNX Runtime" in INSTALL_HINT


@pytest.mark.skipif(bool(cuda_gpus()), reason="this machine has a CUDA GPU")
def test_no_gpu_is_a_one_line_error() -> None:
    with pytest.raises(Pt2trtError) as exc:
        require_gpu()
    assert "no CUDA GPU found" in exc.value.message and "ONNX Runtime" in exc.value.hint
