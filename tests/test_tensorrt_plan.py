"""Build plans: profiles from trtexec-style flags, precision per TensorRT version, options and paths (no GPU)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pt2trt.backends.tensorrt import plan as plan_module
from pt2trt.backends.tensorrt.versions import parse_target, target_of
from pt2trt.errors import Pt2trtError, UsageError
from tests.tensorrt_models import conv_relu, plan_from_flags, save, two_inputs

DYN = {"min_shapes": ["input:1x3x16x16"], "opt_shapes": ["input:4x3x16x16"], "max_shapes": ["input:8x3x16x16"]}


@pytest.fixture
def no_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan as on a machine without TensorRT, whatever is installed here."""
    monkeypatch.setattr(plan_module, "installed_version", lambda: None)


@pytest.fixture
def dynamic_onnx(tmp_path):
    return save(conv_relu(), tmp_path / "dyn.onnx")


@pytest.fixture
def qdq_onnx(tmp_path):
    return save(conv_relu(batch=2, qdq=True), tmp_path / "qdq.onnx")


def test_targets_from_versions() -> None:
    assert target_of("8.6.1.6").name == "8.6" and target_of("10.15.1.29").name == "10"
    assert target_of("11.4.0.106").name == "11" and target_of("11.4.0.106").strongly_typed_only
    assert parse_target("trt-10").name == "10" and parse_target("8.6").cli_name == "trt-8.6"
    with pytest.raises(Pt2trtError, match=re.escape("8.5.3 is not supported")):
        target_of("8.5.3")
    with pytest.raises(UsageError, match="unknown TensorRT target 'trt-9'"):
        parse_target("trt-9")


def test_dynamic_input_without_range_names_input_and_example(no_tensorrt, dynamic_onnx) -> None:
    with pytest.raises(UsageError) as exc:
        plan_from_flags(dynamic_onnx, trt_version="10")
    text = str(exc.value)
    assert "input 'input' has dynamic shape batchx3x16x16 and no shape range" in text
    assert "--min-shapes input:1x3x16x16 --opt-shapes input:8x3x16x16 --max-shapes input:32x3x16x16" in text


def test_dynamic_profile_min_opt_max(no_tensorrt, dynamic_onnx) -> None:
    plan = plan_from_flags(dynamic_onnx, trt_version="10", **DYN)
    assert plan.output == dynamic_onnx.with_suffix(".engine")
    assert plan.metadata_path.name == "dyn.engine.json"
    assert [p.shapes for p in plan.profiles] == [{"input": ((1, 3, 16, 16), (4, 3, 16, 16), (8, 3, 16, 16))}]
    assert plan.to_dict()["profiles"] == [
        {"input": {"min": [1, 3, 16, 16], "opt": [4, 3, 16, 16], "max": [8, 3, 16, 16]}}
    ]


def test_opt_defaults_to_max_and_several_profiles(no_tensorrt, dynamic_onnx) -> None:
    plan = plan_from_flags(
        dynamic_onnx,
        trt_version="10",
        min_shapes=["input:1x3x16x16", "input:16x3x16x16"],
        opt_shapes=["input:2x3x16x16"],
        max_shapes=["input:4x3x16x16", "input:32x3x16x16"],
    )
    assert [p.shapes["input"] for p in plan.profiles] == [
        ((1, 3, 16, 16), (2, 3, 16, 16), (4, 3, 16, 16)),
        ((16, 3, 16, 16), (32, 3, 16, 16), (32, 3, 16, 16)),
    ]


def test_fixed_shapes_and_static_inputs(no_tensorrt, tmp_path) -> None:
    path = save(two_inputs(), tmp_path / "two.onnx")
    plan = plan_from_flags(path, trt_version="8.6", shapes=["x:2x3x8x8,mask:2x1x8x8", "x:4x3x8x8,mask:4x1x8x8"])
    assert len(plan.profiles) == 2
    assert plan.profiles[1].shapes == {
        "x": ((4, 3, 8, 8),) * 3,
        "mask": ((4, 1, 8, 8),) * 3,
        "bias": ((1, 3, 1, 1),) * 3,  # static inputs join every profile as they are
    }
    with pytest.raises(UsageError, match="input 'mask' has dynamic shape batchx1x8x8 and no shape range in profile 0"):
        plan_from_flags(path, trt_version="8.6", shapes=["x:2x3x8x8"], force=True)


def test_static_model_needs_no_profile(no_tensorrt, tmp_path) -> None:
    plan = plan_from_flags(save(conv_relu(batch=1), tmp_path / "s.onnx"), trt_version="10")
    assert plan.profiles == [] and "profile: none (static shapes)" in "\n".join(plan.lines())


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"shapes": ["input:2x3x16x17"]}, "sets dim 3 to 17, but the model fixes it at 16"),
        ({"shapes": ["input:2x3x16"]}, "has 3 dims, the model's input has 4"),
        ({"shapes": ["image:2x3x16x16"]}, "names 'image', which is not an input of the model"),
        ({"shapes": ["2x3x16x16"]}, "Write NAME:DIMS"),
        ({"min_shapes": ["input:8x3x16x16"], "max_shapes": ["input:2x3x16x16"]}, "needs min <= opt <= max"),
        ({"min_shapes": ["input:1x3x16x16"]}, "1 --min-shapes, 0 --opt-shapes and 0 --max-shapes"),
        ({"shapes": ["input:1x3x16x16"], "max_shapes": ["input:2x3x16x16"]}, "--shapes cannot be combined"),
        ({"shapes": ["input:1x3x16x16"], "workspace_mib": 0}, "--workspace must be at least 1 MiB"),
        ({"shapes": ["input:1x3x16x16"], "builder_optimization_level": 6}, "must be 0 to 5"),
        ({"shapes": ["input:1x3x16x16"], "hardware_compatibility_level": "turing+"}, "unknown hardware compat"),
    ],
)
def test_bad_flags_are_usage_errors(no_tensorrt, dynamic_onnx, flags, message) -> None:
    with pytest.raises(UsageError, match=message.replace("+", r"\+").replace("(", r"\(")):
        plan_from_flags(dynamic_onnx, trt_version="10", **flags)


def test_target_needs_tensorrt_or_flag(no_tensorrt, dynamic_onnx) -> None:
    with pytest.raises(UsageError, match=re.escape("Choose it with --trt-version 8.6|10|11")):
        plan_from_flags(dynamic_onnx, **DYN)


def test_installed_version_decides_and_mismatch_is_noted(monkeypatch, dynamic_onnx) -> None:
    monkeypatch.setattr(plan_module, "installed_version", lambda: "10.3.0.26")
    assert plan_from_flags(dynamic_onnx, **DYN).target.name == "10"
    planned = plan_from_flags(dynamic_onnx, trt_version="11", **DYN)
    assert planned.target.name == "11" and "10.3.0.26 is installed" in planned.notes[0]
    with pytest.raises(UsageError, match=re.escape("needs TensorRT 10.9 or newer, 10.3.0.26 is installed")):
        plan_from_flags(dynamic_onnx, hardware_compatibility_level="same-compute-capability", **DYN)


@pytest.mark.parametrize("target", ["8.6", "10"])
def test_precision_by_builder_flags_on_8_6_and_10(no_tensorrt, dynamic_onnx, tmp_path, target) -> None:
    plan = plan_from_flags(dynamic_onnx, trt_version=target, fp16=True, **DYN)
    assert plan.builder_flags == ["FP16"] and not plan.strongly_typed and not plan.convert_to_fp16
    calib = tmp_path / "calib"
    calib.mkdir()
    np.save(calib / "batch0.npy", np.zeros((4, 3, 16, 16), np.float32))
    int8 = plan_from_flags(
        dynamic_onnx, trt_version=target, fp16=True, int8=True, calibration_data=calib,
        calibration_cache=tmp_path / "calib.cache", force=True, **DYN,
    )  # fmt: skip
    assert int8.builder_flags == ["FP16", "INT8"] and int8.int8_mode == "calibration"
    assert int8.precision == "fp16+int8" and int8.calibration_data == calib
    with pytest.raises(UsageError, match=f"--int8 on TensorRT {target} needs calibration data"):
        plan_from_flags(dynamic_onnx, trt_version=target, int8=True, force=True, **DYN)


def test_int8_with_qdq_needs_no_calibration(no_tensorrt, qdq_onnx) -> None:
    for target in ("10", "11"):
        plan = plan_from_flags(qdq_onnx, trt_version=target, int8=True, force=True)
        assert plan.int8_mode == "qdq" and plan.calibration_data is None


def test_tensorrt_11_is_strongly_typed(no_tensorrt, dynamic_onnx) -> None:
    plan = plan_from_flags(dynamic_onnx, trt_version="11", fp16=True, **DYN)
    assert plan.strongly_typed and plan.builder_flags == [] and plan.convert_to_fp16 and plan.keep_io_types
    assert plan.to_dict()["fp16_conversion"] == {"keep_io_types": True}
    with pytest.raises(Pt2trtError) as exc:
        plan_from_flags(dynamic_onnx, trt_version="11", int8=True, **DYN)
    assert "needs an ONNX with QuantizeLinear/DequantizeLinear nodes" in exc.value.message
    assert "--calib-data" in exc.value.hint and "pt2trt quantize" in exc.value.hint


def test_compatibility_options_per_version(no_tensorrt, dynamic_onnx, tmp_path) -> None:
    with pytest.raises(UsageError, match=re.escape("needs TensorRT 10.9 or newer, the target is 8.6")):
        plan_from_flags(dynamic_onnx, trt_version="8.6", hardware_compatibility_level="same-compute-capability", **DYN)
    plan = plan_from_flags(
        dynamic_onnx, trt_version="8.6", hardware_compatibility_level="ampere+", version_compatible=True,
        workspace_mib=256, builder_optimization_level=5, timing_cache=tmp_path / "t.cache", **DYN,
    )  # fmt: skip
    facts = plan.to_dict()
    assert facts["hardware_compatibility_level"] == "ampere+" and facts["version_compatible"] is True
    assert facts["workspace_mib"] == 256 and facts["builder_optimization_level"] == 5
    assert "t.cache (created)" in "\n".join(plan.lines())


def test_output_paths_are_checked(no_tensorrt, dynamic_onnx) -> None:
    engine = dynamic_onnx.with_suffix(".engine")
    engine.write_bytes(b"old")
    with pytest.raises(Pt2trtError, match="already exists"):
        plan_from_flags(dynamic_onnx, trt_version="10", **DYN)
    assert plan_from_flags(dynamic_onnx, trt_version="10", force=True, **DYN).output == engine
    with pytest.raises(UsageError, match="is the ONNX file itself"):
        plan_from_flags(dynamic_onnx, dynamic_onnx, trt_version="10", **DYN)
    engine.unlink()
    (dynamic_onnx.parent / "dyn.engine.json").write_text("{}")
    with pytest.raises(Pt2trtError, match=re.escape("dyn.engine.json already exists")):
        plan_from_flags(dynamic_onnx, trt_version="10", **DYN)


def test_command_reproduces_the_plan(no_tensorrt, dynamic_onnx, tmp_path) -> None:
    plan = plan_from_flags(
        dynamic_onnx, trt_version="10", fp16=True, workspace_mib=64, timing_cache=tmp_path / "c", **DYN
    )
    command = plan.command()
    assert command.startswith(f"pt2trt build {dynamic_onnx} -o {plan.output} --force")
    assert "--min-shapes input:1x3x16x16 --opt-shapes input:4x3x16x16 --max-shapes input:8x3x16x16" in command
    assert "--fp16" in command and "--workspace 64" in command and "--timing-cache" in command
