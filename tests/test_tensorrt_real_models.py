"""The TensorRT lint and build plans on real exported torchvision models (random weights): resnet18, ssdlite."""

from __future__ import annotations

import json

import pytest

import pt2trt
from pt2trt.backends.tensorrt import plan as plan_module
from pt2trt.backends.tensorrt.lint import trt_compatibility
from pt2trt.settings import ExportSettings
from pt2trt.shapes import apply_dynamic, parse_input
from tests.tensorrt_models import plan_from_flags

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory):
    """resnet18 (dynamo exporter) and ssdlite320 (legacy exporter: dynamo fails on it), both with a dynamic batch."""
    root = tmp_path_factory.mktemp("trt_models")
    out = {}
    for key, spec, shape, exporter in (
        ("resnet18", "torchvision:resnet18", "input:1x3x224x224", "auto"),
        ("ssdlite", "torchvision:ssdlite320_mobilenet_v3_large", "images:1x3x320x320", "legacy"),
    ):
        specs = apply_dynamic([parse_input(shape)], dynamic_batch=True)
        out[key] = pt2trt.export(spec, specs, root / f"{key}.onnx", ExportSettings(exporter=exporter)).path
    return out


@pytest.fixture(autouse=True)
def no_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_module, "installed_version", lambda: None)


@pytest.mark.parametrize("target", ["8.6", "10", "11"])
def test_resnet18_passes_the_lint(models, target) -> None:
    report = trt_compatibility(models["resnet18"], target)
    assert report.passed, [f.line() for f in report.errors]
    dynamic = report.by_code("dynamic-shape")
    assert [f.node for f in dynamic] == ["input"] and "batch" in dynamic[0].why
    assert not report.by_code("unsupported-op") and not report.by_code("plugin")


def test_ssdlite_lint_differs_by_version(models) -> None:
    old, new = trt_compatibility(models["ssdlite"], "8.6"), trt_compatibility(models["ssdlite"], "10")
    assert old.passed and new.passed
    assert [f.node for f in old.by_code("dynamic-shape")] == ["images"]
    int64 = old.by_code("int64")
    assert int64 and "will be cast to INT32" in int64[0].why  # TensorRT 8.6 has no INT64
    assert not new.by_code("int64")
    if old.opset and old.opset > 17:
        assert old.by_code("opset") and not new.by_code("opset")


def test_resnet18_plans_for_each_version(models, tmp_path) -> None:
    flags = dict(min_shapes=["input:1x3x224x224"], opt_shapes=["input:8x3x224x224"], max_shapes=["input:32x3x224x224"])
    for target, fp16_by in (("8.6", "flag"), ("10", "flag"), ("11", "conversion")):
        plan = plan_from_flags(
            models["resnet18"], tmp_path / f"r18-{target}.engine", trt_version=target, fp16=True, **flags
        )
        assert plan.profiles[0].shapes["input"] == ((1, 3, 224, 224), (8, 3, 224, 224), (32, 3, 224, 224))
        assert (plan.builder_flags == ["FP16"]) is (fp16_by == "flag")
        assert plan.convert_to_fp16 is (fp16_by == "conversion")
        assert plan.onnx_metadata["pt2trt.model"] == "torchvision:resnet18"


def test_ssdlite_dry_run_cli(cli, models) -> None:
    result = cli("build", str(models["ssdlite"]), "--trt-version", "10", "--dry-run", "--json",
                 "--shapes", "images:2x3x320x320")  # fmt: skip
    plan = json.loads(result.stdout)
    assert plan["profiles"] == [{"images": {"min": [2, 3, 320, 320], "opt": [2, 3, 320, 320], "max": [2, 3, 320, 320]}}]
    assert plan["inputs"][0]["shape"] == ["batch", 3, 320, 320]
    assert plan["onnx_metadata"]["pt2trt.exporter"] == "legacy"
    missing = cli("build", str(models["ssdlite"]), "--trt-version", "10", "--dry-run")
    assert missing.returncode == 2 and "input 'images' has dynamic shape" in missing.stderr


def test_check_cli_on_resnet18(cli, models) -> None:
    result = cli("check", str(models["resnet18"]), "--target", "trt-10", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["tensorrt"]["passed"] is True
