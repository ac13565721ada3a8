"""Export -> check -> verify on real models with both exporters, dynamic batch verified at another batch size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import pt2trt
from pt2trt.onnx import metadata as meta
from pt2trt.settings import ExportSettings, RunInputs
from pt2trt.shapes import apply_dynamic, parse_input

# (model spec, inputs, slow?)
CASES = {
    "seednet": ("pt2trt.models:SeedNet", ["input:1x3x28x28"], False),
    "two_input": ("pt2trt.models:TwoInputNet", ["x:1x3x28x28", "mask:1x1x28x28"], False),
    "resnet18": ("torchvision:resnet18", ["input:1x3x224x224"], True),
    "mobilenet_v3_large": ("torchvision:mobilenet_v3_large", ["input:1x3x224x224"], True),
    "deeplabv3": ("torchvision:deeplabv3_mobilenet_v3_large", ["input:1x3x160x160"], True),
}


def _params():
    for key, (_, _, slow) in CASES.items():
        for exporter in ("dynamo", "legacy"):
            marks = [pytest.mark.slow] if slow else []
            yield pytest.param(key, exporter, id=f"{key}-{exporter}", marks=marks)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    """Export each (model, exporter) once per module with a dynamic batch axis."""
    cache: dict[tuple[str, str], pt2trt.ExportResult] = {}
    root = tmp_path_factory.mktemp("exports")

    def get(key: str, exporter: str) -> pt2trt.ExportResult:
        if (key, exporter) not in cache:
            spec, inputs, _ = CASES[key]
            specs = apply_dynamic([parse_input(t) for t in inputs], dynamic_batch=True)
            cache[key, exporter] = pt2trt.export(
                spec, specs, root / f"{key}-{exporter}.onnx", ExportSettings(exporter=exporter)
            )
        return cache[key, exporter]

    return get


@pytest.mark.parametrize(("key", "exporter"), list(_params()))
def test_export_check_verify(exported, key: str, exporter: str) -> None:
    spec, inputs, _ = CASES[key]
    result = exported(key, exporter)
    assert result.exporter == exporter and result.fallback_reason is None
    assert result.path.is_file() and result.size_bytes == result.path.stat().st_size
    assert [s.name for s in result.inputs] == [t.split(":")[0] for t in inputs]

    model = onnx.load(str(result.path))
    recorded = meta.read_metadata(model)
    assert recorded[meta.MODEL] == spec
    assert recorded[meta.EXPORTER] == exporter
    assert [s.name for s in meta.recorded_inputs(recorded)] == [s.name for s in result.inputs]
    assert [i.name for i in model.graph.input] == [s.name for s in result.inputs]
    batch_dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param == "batch", "dim 0 must be dynamic"

    assert pt2trt.check(result.path).passed

    at_export = pt2trt.verify(spec, result.path)
    assert at_export.passed, at_export.comparison.to_dict()
    assert at_export.inputs[0].shape[0] == 1
    other_batch = pt2trt.verify(spec, result.path, RunInputs(batch=3))
    assert other_batch.passed, other_batch.comparison.to_dict()
    assert other_batch.inputs[0].shape[0] == 3
    assert all(t.reference_shape[0] == 3 for t in other_batch.comparison.tensors)


def test_two_input_model_keeps_forward_order(exported) -> None:
    result = exported("two_input", "legacy")
    model = onnx.load(str(result.path))
    shapes = {i.name: [d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert shapes == {"x": ["batch", 3, 28, 28], "mask": ["batch", 1, 28, 28]}


def test_segmentation_output_named_from_dict(exported) -> None:
    pytest.importorskip("torchvision")
    result = exported("deeplabv3", "dynamo")
    assert result.outputs == ["out"]


@pytest.mark.slow
def test_detection_falls_back_to_legacy_and_verify_reports(tmp_path: Path) -> None:
    spec = "torchvision:ssdlite320_mobilenet_v3_large"
    result = pt2trt.export(spec, [parse_input("images:1x3x320x320")], tmp_path / "ssd.onnx")
    assert result.exporter == "legacy"
    assert result.fallback_reason and result.fallback_reason.startswith("dynamo: ")
    assert result.outputs == ["boxes", "scores", "labels"]
    recorded = meta.read_metadata(onnx.load(str(result.path)))
    assert recorded[meta.EXPORTER] == "legacy"
    assert recorded[meta.FALLBACK_REASON] == result.fallback_reason
    assert pt2trt.check(result.path).passed

    report = pt2trt.verify(spec, result.path)  # random weights: a report, whatever it says, never a crash
    names = [t.name for t in report.comparison.tensors]
    assert names == ["boxes", "scores", "labels"]
    for t in report.comparison.tensors:
        assert t.reference_shape is not None and t.candidate_shape is not None
        assert t.passed or t.note or t.outside_tolerance_pct


def test_corrupted_weight_fails_verify(tmp_path: Path, cli) -> None:
    onnx_path = tmp_path / "seednet.onnx"
    pt2trt.export(
        "pt2trt.models:SeedNet", [parse_input("input:1x3x28x28")], onnx_path, ExportSettings(exporter="legacy")
    )
    model = onnx.load(str(onnx_path))
    weight = max(model.graph.initializer, key=lambda t: len(t.dims))  # a conv weight
    array = onnx.numpy_helper.to_array(weight).copy()
    array.flat[0] += 10.0  # one element of one weight
    weight.CopyFrom(onnx.numpy_helper.from_array(array, weight.name))
    broken = tmp_path / "broken.onnx"
    onnx.save(model, str(broken))

    assert cli("verify", "pt2trt.models:SeedNet", str(onnx_path)).returncode == 0
    result = cli("verify", "pt2trt.models:SeedNet", str(broken))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout and "mismatch" in result.stdout


def test_verify_accepts_npz_and_npy(tmp_path: Path, exported) -> None:
    result = exported("two_input", "dynamo")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 28, 28), dtype=np.float32)
    mask = rng.standard_normal((2, 1, 28, 28), dtype=np.float32)
    np.savez(tmp_path / "inputs.npz", x=x, mask=mask)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "mask.npy", mask)
    from_npz = pt2trt.verify("pt2trt.models:TwoInputNet", result.path, RunInputs(data=[tmp_path / "inputs.npz"]))
    from_npy = pt2trt.verify(
        "pt2trt.models:TwoInputNet", result.path, RunInputs(data=[tmp_path / "x.npy", tmp_path / "mask.npy"])
    )
    assert from_npz.passed and from_npy.passed
    assert from_npz.inputs[0].shape == (2, 3, 28, 28)
    assert from_npz.comparison.tensors[0].max_abs_error == from_npy.comparison.tensors[0].max_abs_error


class EmptyDetections(torch.nn.Module):
    """A 'detector' whose threshold nothing passes: its outputs are empty tensors."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = x.flatten(1).sigmoid()
        keep = scores > 2.0  # a sigmoid never exceeds 1
        return scores[keep], torch.nonzero(keep)


def test_empty_outputs_are_reported_not_crashed(tmp_path: Path) -> None:
    result = pt2trt.export(
        EmptyDetections(), [parse_input("x:1x4")], tmp_path / "empty.onnx", ExportSettings(exporter="legacy")
    )
    report = pt2trt.verify(EmptyDetections(), result.path)
    assert report.passed
    assert [t.note for t in report.comparison.tensors] == ["empty on both sides"] * 2
    assert report.comparison.tensors[1].reference_shape == (0, 2)


def test_external_data_opset_and_output_names(tmp_path: Path) -> None:
    out = tmp_path / "seed.onnx"
    result = pt2trt.export(
        "pt2trt.models:SeedNet",
        [parse_input("input:1x3x28x28")],
        out,
        ExportSettings(exporter="legacy", opset=13, output_names=["logits"], external_data=True),
    )
    assert result.external_data and (tmp_path / "seed.onnx.data").is_file()
    assert result.opset == 13 and result.outputs == ["logits"]
    assert result.size_bytes == out.stat().st_size + (tmp_path / "seed.onnx.data").stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.onnx", "seed.onnx.data"]  # no temp files left
    assert pt2trt.check(out).passed
    info = pt2trt.inspect_model(out)
    assert info.external_data and info.opsets["ai.onnx"] == 13
    assert pt2trt.verify("pt2trt.models:SeedNet", out).passed


def test_cli_export_closing_line_and_json(tmp_path: Path, cli) -> None:
    out = tmp_path / "seed.onnx"
    result = cli("export", "pt2trt.models:SeedNet", "-i", "input:1x3x28x28", "-o", str(out), "--exporter", "legacy")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"exported {out} (") and "legacy exporter, opset" in line and line.endswith(" s")
    again = cli("export", "pt2trt.models:SeedNet", "-i", "input:1x3x28x28", "-o", str(out), "--force", "--json")
    data = json.loads(again.stdout)
    assert data["exporter"] == "dynamo" and data["inputs"][0]["shape"] == [1, 3, 28, 28]


def test_onnxruntime_provider_that_is_missing(tmp_path: Path) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has the CUDA execution provider")
    out = tmp_path / "seed.onnx"
    pt2trt.export("pt2trt.models:SeedNet", [parse_input("input:1x3x28x28")], out, ExportSettings(exporter="legacy"))
    with pytest.raises(pt2trt.Pt2trtError, match="CUDAExecutionProvider"):
        pt2trt.verify("pt2trt.models:SeedNet", out, RunInputs(providers=["cuda"]))
