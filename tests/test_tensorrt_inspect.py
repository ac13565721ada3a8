"""Engine inspection: IEngineInspector JSON of TensorRT 10 and 11 -> layers, precisions, fused nodes, warnings.

The JSON files under tests/data/tensorrt_inspector/ are recordings published by NVIDIA (and one TensorRT 11 schema
reconstruction); their README says where each comes from.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pt2trt.backends.tensorrt.inspect import fused_nodes, parse_engine_information, tensor_precision
from pt2trt.errors import Pt2trtError

DATA = Path(__file__).parent / "data" / "tensorrt_inspector"


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_every_recording_cites_its_source() -> None:
    for path in DATA.glob("*.json"):
        source = json.loads(path.read_text())["_source"]
        assert "github.com/NVIDIA/TensorRT" in source or "docs.nvidia.com" in source, path.name


def test_tensorrt10_fp16_layers_precisions_and_fused_nodes() -> None:
    report = parse_engine_information(_load("trt10_resnet18_fp16_a100.json"), requested="fp16")
    assert report.schema == "10" and report.detailed
    assert [t["name"] for t in report.io] == ["input.1", "191"]
    by_name = {la.name: la for la in report.layers}
    conv = by_name["Conv_5 + Add_6 + Relu_7"]
    assert conv.kind == "heavy" and conv.precision == "FP16"
    assert conv.onnx_nodes == ["Conv_5", "Add_6", "Relu_7"]
    assert conv.flops == 2 * 36864 * 32 * 56 * 56
    assert by_name["MaxPool_2"].kind == "other" and by_name["MaxPool_2"].precision == "FP16"
    reformat = by_name["Reformatting CopyNode for Input Tensor 0 to Conv_0 + Relu_1"]
    assert reformat.kind == "reformat" and reformat.onnx_nodes == []
    summary = report.summary_dict()
    assert summary["heavy_layers"] == 4 and summary["reformat_layers"] == 4
    assert summary["heavy_layers_by_precision"] == {"FP16": 1.0}
    assert report.warnings == []  # FP16 took


def test_fp16_requested_but_the_engine_runs_fp32_warns() -> None:
    report = parse_engine_information(_load("trt10_resnet18_fp32_a100.json"), requested="fp16")
    assert report.shares("heavy") == {"FP32": 1.0}
    assert report.shares("heavy", "flops") == {"FP32": 1.0}
    assert len(report.warnings) == 1
    assert "FP16 was requested but 4 of 4 convolution/matmul layers run FP32" in report.warnings[0]
    assert "Conv_0 + Relu_1" in report.warnings[0]
    assert parse_engine_information(_load("trt10_resnet18_fp32_a100.json"), requested="fp32").warnings == []


def test_int8_qdq_engine() -> None:
    report = parse_engine_information(_load("trt10_mobilenetv2_qat_int8.json"), requested="int8")
    heavy = report.heavy()
    assert len(heavy) == 3 and all(la.precision == "INT8" and la.qdq for la in heavy)
    assert heavy[0].onnx_nodes == ["features.0.0.weight", "QuantizeLinear_7", "Conv_9", "Clip_13"]
    assert report.layers[0].qdq and report.layers[0].kind == "reformat"  # Origin QDQ
    assert report.warnings == []


def test_int8_requested_on_an_fp16_engine_warns_twice() -> None:
    data = _load("trt10_mobilenetv2_qat_int8.json")
    for layer in data["Layers"][1:]:  # what a fallback looks like: the Q/DQ-fused convolutions in FP16
        for t in layer["Inputs"] + layer["Outputs"]:
            t["Format/Datatype"] = "Channel major FP16 format where channel % 8 == 0"
    report = parse_engine_information(data, requested="int8")
    assert len(report.warnings) == 2
    assert "3 Q/DQ-adjacent convolution/matmul layers run FP16" in report.warnings[0]
    assert "none of the 3 convolution/matmul layers runs INT8" in report.warnings[1]


def test_tensorrt11_schema() -> None:
    report = parse_engine_information(_load("trt11_schema_resnet18_fp16.json"), requested="fp16")
    assert report.schema == "11"
    assert report.io[0] == {"name": "input_0", "mode": "Input", "dtype": "FP32", "shape": [1, 3, 224, 224]}
    conv = report.heavy()[0]
    assert conv.name == "Conv_0 + Relu_1" and conv.precision == "FP16"
    assert [la.precision for la in report.layers] == ["FP16", "FP16", "FP16", "FP16"]
    ten = parse_engine_information(_load("trt10_resnet18_fp16_a100.json"), requested="fp16")
    assert [la.precision for la in ten.layers[:4]] == [la.precision for la in report.layers]


def test_layer_names_only_engine_warns_that_precision_is_unknown() -> None:
    report = parse_engine_information({"Layers": ["Conv_0 + Relu_1", "MaxPool_2"], "Bindings": ["x", "y"]}, "fp16")
    assert not report.detailed and report.layers[0].onnx_nodes == ["Conv_0", "Relu_1"]
    assert len(report.warnings) == 1 and "detailed profiling verbosity" in report.warnings[0]


def test_metadata_and_pointwise_names() -> None:
    # the Metadata field as TensorRT >= 8.6 writes it for ONNX models (entries separated by \x1e or \x1f)
    assert fused_nodes("x", "[ONNX Layer: /conv1/Conv]\x1e[ONNX Layer: /relu/Relu]") == ["/conv1/Conv", "/relu/Relu"]
    assert fused_nodes("PWN(PWN(Sigmoid_1), Mul_2) + Add_3", None) == ["Sigmoid_1", "Mul_2", "Add_3"]
    assert tensor_precision({"Format/Datatype": "Row major linear FP32"}) == "FP32"
    assert tensor_precision({"Format": "Row major linear", "Datatype": "Half"}) == "FP16"


def test_modules_joined_from_the_onnx_node_scopes() -> None:
    report = parse_engine_information(_load("trt10_resnet18_fp16_a100.json"))
    modules = {"Conv_5": "layer1.0.conv2", "Add_6": "layer1.0", "Relu_7": "layer1.0.relu", "Conv_0": "conv1"}
    report.attach_modules(modules, node_names=[*modules, "Relu_1"])
    by_name = {la.name: la for la in report.layers}
    assert by_name["Conv_5 + Add_6 + Relu_7"].modules == ["layer1.0", "layer1.0.conv2", "layer1.0.relu"]
    assert by_name["Conv_0 + Relu_1"].onnx_nodes == ["Conv_0", "Relu_1"]
    assert by_name["Conv_3 + Relu_4"].onnx_nodes == []  # not nodes of the given model


def test_fused_away_tensors() -> None:
    report = parse_engine_information(_load("trt10_resnet18_fp16_a100.json"))
    names = report.tensor_names()
    assert "onnx::Conv_129" in names and "input.1" in names
    assert "onnx::Relu_1_output" not in names  # Conv_0's own output never exists: fused with Relu_1


def test_not_inspector_json_is_a_user_error() -> None:
    with pytest.raises(Pt2trtError, match="not TensorRT engine inspector JSON"):
        parse_engine_information({"graph": []})


# -- pt2trt inspect ENGINE (no TensorRT here: the inspection recorded at build time is used) -----------------------
def _legacy_onnx(path: Path) -> Path:
    """Conv -> Relu with the legacy exporter's node names (/features/conv/Conv: module features.conv)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w"], ["c"], name="/features/conv/Conv"),
            helper.make_node("Relu", ["c"], ["y"], name="/features/act/Relu"),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])],
        [w],
    )
    onnx.save(helper.make_model(graph, ir_version=8, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _engine_with_sidecar(tmp_path: Path, engine_information: dict | None, onnx_path: Path) -> Path:
    from pt2trt.backends.tensorrt.metadata import EngineMetadata, sidecar_path, write_metadata

    engine = tmp_path / "m.engine"
    engine.write_bytes(b"not a real engine")
    metadata = EngineMetadata(
        tensorrt_version="10.9.0.34", gpu_name="Fake GPU", compute_capability="8.6", onnx_path=str(onnx_path),
        onnx_sha256="", engine_sha256="", precision="fp16", strongly_typed=False, profiles=[], flags={},
        inputs=[], outputs=[],
        inspection={"engine_information": engine_information} if engine_information else {},
    )  # fmt: skip
    write_metadata(sidecar_path(engine), metadata)
    return engine


def test_cli_inspects_an_engine_from_its_recorded_inspection(cli, tmp_path) -> None:
    onnx_path = _legacy_onnx(tmp_path / "m.onnx")
    layer = {
        "Name": "/features/conv/Conv + /features/act/Relu", "LayerType": "CaskConvolution",
        "ParameterType": "Convolution", "Weights": {"Type": "Float", "Count": 2},
        "Inputs": [{"Name": "x", "Dimensions": [1, 1, 4, 4], "Format/Datatype": "Row major linear FP32"}],
        "Outputs": [{"Name": "y", "Dimensions": [1, 2, 4, 4], "Format/Datatype": "Row major linear FP32"}],
    }  # fmt: skip
    engine = _engine_with_sidecar(tmp_path, {"Layers": [layer], "Bindings": ["x", "y"]}, onnx_path)
    result = cli("inspect", str(engine), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"].startswith("recorded at build time") and data["onnx"] == str(onnx_path)
    (only,) = data["layers"]
    assert only["onnx_nodes"] == ["/features/conv/Conv", "/features/act/Relu"]
    assert only["modules"] == ["features.act", "features.conv"]
    assert data["summary"]["requested"] == "fp16" and "FP16 was requested" in data["warnings"][0]
    text = cli("inspect", str(engine), "--layers")
    assert text.returncode == 0 and "features.conv" in text.stdout and "warning:" in text.stdout


def test_cli_engine_without_recorded_inspection_is_one_line(cli, tmp_path) -> None:
    from tests.conftest import assert_one_line_error

    engine = _engine_with_sidecar(tmp_path, None, _legacy_onnx(tmp_path / "m.onnx"))
    assert_one_line_error(cli("inspect", str(engine)), "cannot inspect", "no recorded inspection")
