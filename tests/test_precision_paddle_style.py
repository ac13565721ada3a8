"""INT8 of models written the way PaddlePaddle's exporter writes them (found on PaddleOCR's models in the rapidocr
wheel): opset 11 (no per-channel Q/DQ before 13), every weight a ``Constant`` node, and a weight reshaped at run time
before a MatMul. Each used to stop ``quantize`` inside ONNX Runtime's quantizer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def paddle_style(path: Path) -> Path:
    rng = np.random.default_rng(0)

    def constant(name: str, array: np.ndarray) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array.astype(np.float32), name))

    nodes = [
        constant("conv_w", rng.normal(0, 0.3, (8, 3, 3, 3))),
        constant("fc_w_flat", rng.normal(0, 0.3, (8 * 4,))),
        constant("fc_shape", np.array([8, 4])),
        helper.make_node("Cast", ["fc_shape"], ["fc_shape_i64"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["fc_w_flat", "fc_shape_i64"], ["fc_w"]),  # a weight computed at run time
        helper.make_node("Conv", ["x", "conv_w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("MatMul", ["f", "fc_w"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "paddle",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [-1, 3, 32, 32])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [-1, 4])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=7), str(path))
    return path


def test_int8_of_a_paddle_style_model(tmp_path: Path) -> None:
    from pt2trt.backends.tensorrt.lint import trt_compatibility
    from pt2trt.precision import quantize

    model = paddle_style(tmp_path / "paddle.onnx")
    np.save(tmp_path / "calib.npy", np.random.default_rng(1).uniform(0, 1, (40, 3, 32, 32)).astype(np.float32))
    result = quantize(model, tmp_path / "int8.onnx", "int8", calib=tmp_path / "calib.npy", force=True, progress=False)
    out = onnx.load(str(result.output))
    opset = next(o.version for o in out.opset_import if o.domain in ("", "ai.onnx"))
    assert opset >= 13  # converted: per-channel DequantizeLinear needs the axis attribute of opset 13
    ops = [n.op_type for n in out.graph.node]
    assert ops.count("QuantizeLinear") >= 2 and "DequantizeLinear" in ops
    assert result.accuracy.agreement is not None and result.accuracy.agreement >= 0.75
    for target in ("trt-10", "trt-11"):
        report = trt_compatibility(result.output, target)
        assert report.passed, [f.line() for f in report.errors]
