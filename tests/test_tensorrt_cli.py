"""`pt2trt build` from the command line: dry runs on any machine, and the one-line errors."""

from __future__ import annotations

import importlib.util
import json
import shlex

import pytest

from tests.conftest import assert_one_line_error
from tests.tensorrt_models import conv_relu, save

HAVE_TENSORRT = importlib.util.find_spec("tensorrt") is not None
DYN = ["--min-shapes", "input:1x3x16x16", "--opt-shapes", "input:4x3x16x16", "--max-shapes", "input:8x3x16x16"]


@pytest.fixture
def dyn_onnx(tmp_path):
    return save(conv_relu(), tmp_path / "dyn.onnx")


def test_help_lists_build(cli) -> None:
    result = cli("--help")
    assert "build" in result.stdout and "TensorRT engine" in result.stdout
    flags = cli("build", "--help").stdout
    for flag in ("--min-shapes", "--opt-shapes", "--max-shapes", "--shapes", "--fp16", "--int8", "--workspace",
                 "--timing-cache", "--builder-optimization-level", "--version-compatible",
                 "--hardware-compatibility-level", "--dry-run", "--trt-version", "--calib-data"):  # fmt: skip
        assert flag in flags


@pytest.mark.skipif(HAVE_TENSORRT, reason="tensorrt is installed here")
def test_build_without_tensorrt_is_one_line_with_install_advice(cli, dyn_onnx) -> None:
    result = cli("build", str(dyn_onnx), *DYN)
    assert_one_line_error(result, "TensorRT is not installed", 'pip install "pt2trt[tensorrt]"', "--dry-run",
                          "ONNX Runtime")  # fmt: skip
    assert result.returncode == 1 and not dyn_onnx.with_suffix(".engine").exists()


def test_dynamic_input_without_range_is_one_line(cli, dyn_onnx) -> None:
    result = cli("build", str(dyn_onnx), "--trt-version", "10", "--dry-run")
    assert result.returncode == 2
    assert_one_line_error(result, "input 'input' has dynamic shape batchx3x16x16", "--min-shapes input:1x3x16x16")


def test_dry_run_prints_the_plan_and_writes_nothing(cli, dyn_onnx) -> None:
    result = cli("build", str(dyn_onnx), "--trt-version", "11", "--fp16", *DYN, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "TensorRT 11 (not installed here): strongly typed network" in result.stdout
    assert "profile 0: input min 1x3x16x16 opt 4x3x16x16 max 8x3x16x16" in result.stdout
    assert "ONNX converted to mixed FP16 first" in result.stdout and "dry run: nothing built" in result.stdout
    assert sorted(p.name for p in dyn_onnx.parent.iterdir()) == ["dyn.onnx"]


def test_dry_run_json_and_its_command_round_trip(cli, dyn_onnx, tmp_path) -> None:
    args = ["--trt-version", "8.6", "--fp16", *DYN, "--workspace", "128", "--builder-optimization-level", "2",
            "--hardware-compatibility-level", "ampere+", "--timing-cache", str(tmp_path / "t.cache")]  # fmt: skip
    plan = json.loads(cli("build", str(dyn_onnx), *args, "--dry-run", "--json").stdout)
    assert plan["dry_run"] is True and plan["target"] == "trt-8.6" and plan["builder_flags"] == ["FP16"]
    assert plan["profiles"][0]["input"] == {"min": [1, 3, 16, 16], "opt": [4, 3, 16, 16], "max": [8, 3, 16, 16]}
    assert plan["workspace_mib"] == 128 and plan["hardware_compatibility_level"] == "ampere+"
    command = shlex.split(plan["command"])[1:]  # drop "pt2trt"
    again = json.loads(cli(*command, "--trt-version", "8.6", "--dry-run", "--json").stdout)
    assert {k: v for k, v in again.items() if k != "command"} == {k: v for k, v in plan.items() if k != "command"}


def test_int8_on_tensorrt_11_without_qdq_is_one_line(cli, dyn_onnx) -> None:
    result = cli("build", str(dyn_onnx), "--trt-version", "11", "--int8", *DYN, "--dry-run")
    assert_one_line_error(result, "QuantizeLinear/DequantizeLinear", "--calib-data")


def test_existing_engine_needs_force(cli, dyn_onnx) -> None:
    dyn_onnx.with_suffix(".engine").write_bytes(b"old")
    result = cli("build", str(dyn_onnx), "--trt-version", "10", *DYN, "--dry-run")
    assert_one_line_error(result, "dyn.engine already exists", "--force")
    assert cli("build", str(dyn_onnx), "--trt-version", "10", *DYN, "--dry-run", "--force").returncode == 0


def test_verify_with_a_corrupt_engine_metadata_is_one_line(cli, tmp_path) -> None:
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"\x00not an engine")
    (tmp_path / "model.engine.json").write_text("{truncated")
    result = cli("verify", "pt2trt.models:SeedNet", str(engine))
    assert_one_line_error(result, "model.engine.json is not readable JSON")


def test_verify_engine_without_metadata_is_one_line(cli, tmp_path) -> None:
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"\x00not an engine")
    result = cli("verify", "pt2trt.models:SeedNet", str(engine))
    assert_one_line_error(result, "needs the ONNX it was built from")
