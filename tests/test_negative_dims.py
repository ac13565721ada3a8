"""ONNX files that mark dynamic dims with ``dim_value: -1`` (PaddlePaddle's exporter does) are dynamic everywhere:
inspect, the TensorRT build plan and lint, verify's input resolution."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper


def paddle_style(path: Path) -> Path:
    """A conv model whose batch, height and width are written as -1."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], np.ones(108, np.float32) / 27)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "paddle",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [-1, 3, -1, -1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [-1, 4, -1, -1])],
        [weight],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    return path


def test_minus_one_dims_are_dynamic_for_build_lint_and_inspect(tmp_path: Path, cli) -> None:
    model = paddle_style(tmp_path / "paddle.onnx")
    shapes = ["--min-shapes", "x:1x3x32x32", "--opt-shapes", "x:2x3x64x64", "--max-shapes", "x:4x3x128x128"]
    plan = cli("build", str(model), "-o", str(tmp_path / "p.engine"), *shapes, "--dry-run", "--trt-version", "10")
    assert plan.returncode == 0, plan.stderr  # was: "the model fixes it at -1"
    assert "x:1x3x32x32" in plan.stdout and "x:4x3x128x128" in plan.stdout
    missing = cli("build", str(model), "-o", str(tmp_path / "p.engine"), "--dry-run", "--trt-version", "10")
    assert missing.returncode == 2 and "dynamic shape ?x3x?x?" in missing.stderr  # so a shape range is needed
    lint = cli("check", str(model), "--target", "trt-10", "--json")
    findings = json.loads(lint.stdout)["tensorrt"]["findings"]
    assert any(f["code"] == "dynamic-shape" and "optimization profile" in f["why"] for f in findings), findings
    info = json.loads(cli("inspect", str(model), "--json").stdout)
    assert info["inputs"][0]["shape"] == [-1, 3, -1, -1]  # JSON keeps the file's own spelling
    shown = cli("inspect", str(model)).stdout
    assert "?x3x?x?" in shown  # a human reads them as dynamic


def test_verify_inputs_treat_minus_one_as_dynamic(tmp_path: Path) -> None:
    from pt2trt.onnx.graph import input_dims
    from pt2trt.onnx.inputs import resolve_run_inputs
    from pt2trt.settings import RunInputs
    from pt2trt.shapes import parse_input

    proto = onnx.load(str(paddle_style(tmp_path / "paddle.onnx")))
    assert [d is None or isinstance(d, str) for d in input_dims(proto.graph.input[0])] == [True, False, True, True]
    specs, feed = resolve_run_inputs(proto, RunInputs(specs=(parse_input("x:2x3x16x16"),)))
    assert [s.shape for s in specs] == [(2, 3, 16, 16)]
    assert feed["x"].shape == (2, 3, 16, 16)


def test_exporter_generated_dim_names_read_as_question_marks() -> None:
    from pt2trt.onnx.dims import readable_dim

    generated = ["s56 - 5", "unk__42", "Conv_123_dim_2", "DynamicDimension.1", "ConvTranspose_459_o0__d2", ""]
    assert [readable_dim(name) for name in generated] == ["?"] * len(generated)
    assert [readable_dim(name) for name in ("batch", "height", "num_boxes")] == ["batch", "height", "num_boxes"]
