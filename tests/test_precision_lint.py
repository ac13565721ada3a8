"""check --target: the Q/DQ rules (what TensorRT's explicit quantization rejects), on tiny onnx.helper models."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pt2trt.backends.tensorrt.lint import lint_model


def _init(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array, name)


def qdq_model(
    *,
    zero_point_dtype: type = np.int8,
    activation_scales: int = 1,
    bias_int32: bool = False,
    weight_axis: int = 0,
    softmax: bool = False,
    quantize_zero_point: bool = True,
) -> onnx.ModelProto:
    """input -> Q -> DQ -> Conv(DQ(int8 weight)) [-> Q -> DQ -> Softmax] -> output."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    shape = (activation_scales,) if activation_scales > 1 else ()
    inits = [
        _init("a_scale", np.full(shape, 0.1, np.float32)),
        _init("a_zp", np.zeros(shape, zero_point_dtype)),
        _init("w_q", np.ones((3, 2, 1, 1), np.int8)),
        _init("w_scale", np.full(3 if weight_axis == 0 else 2, 0.05, np.float32)),
        _init("w_zp", np.zeros(3 if weight_axis == 0 else 2, np.int8)),
    ]  # fmt: skip
    q_inputs = ["x", "a_scale", "a_zp"] if quantize_zero_point else ["x", "a_scale"]
    nodes = [
        helper.make_node("QuantizeLinear", q_inputs, ["xq"], name="q_in", axis=1),
        helper.make_node("DequantizeLinear", ["xq", "a_scale", "a_zp"] if quantize_zero_point else ["xq", "a_scale"],
                         ["xd"], name="dq_in", axis=1),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["w"], name="dq_w", axis=weight_axis),
    ]  # fmt: skip
    conv_inputs = ["xd", "w"]
    if bias_int32:
        inits += [_init("b_q", np.zeros(3, np.int32)), _init("b_scale", np.array(0.005, np.float32)),
                  _init("b_zp", np.array(0, np.int32))]  # fmt: skip
        nodes.append(helper.make_node("DequantizeLinear", ["b_q", "b_scale", "b_zp"], ["b"], name="dq_b"))
        conv_inputs.append("b")
    nodes.append(helper.make_node("Conv", conv_inputs, ["c" if softmax else "y"], name="conv"))
    if softmax:
        inits += [_init("s_scale", np.array(0.1, np.float32)), _init("s_zp", np.array(0, np.int8))]
        nodes += [
            helper.make_node("QuantizeLinear", ["c", "s_scale", "s_zp"], ["cq"], name="q_c"),
            helper.make_node("DequantizeLinear", ["cq", "s_scale", "s_zp"], ["cd"], name="dq_c"),
            helper.make_node("Softmax", ["cd"], ["y"], name="softmax"),
        ]
    graph = helper.make_graph(nodes, "qdq", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def codes(model: onnx.ModelProto, target: str = "trt-10") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in lint_model(model, target).findings:
        found.setdefault(f.code, []).append(f.node)
    return found


def test_symmetric_int8_qdq_passes():
    report = lint_model(qdq_model(), "trt-10")
    assert report.passed and not [f for f in report.findings if f.code.startswith("qdq")]


def test_uint8_and_missing_zero_point_are_rejected():
    assert codes(qdq_model(zero_point_dtype=np.uint8))["qdq-type"] == ["q_in", "dq_in"]
    assert "q_in" in codes(qdq_model(quantize_zero_point=False))["qdq-type"]


def test_int32_bias_dequantize_is_rejected_with_the_fix():
    findings = [f for f in lint_model(qdq_model(bias_int32=True), "trt-11").findings if f.code == "qdq-type"]
    assert [f.node for f in findings] == ["dq_b"] and "QuantizeBias=False" in findings[0].fix


def test_per_channel_activation_and_wrong_weight_axis_are_rejected():
    assert codes(qdq_model(activation_scales=2))["qdq-per-channel"] == ["q_in"]
    assert codes(qdq_model(weight_axis=1))["qdq-axis"] == ["dq_w"]


def test_int8_into_an_op_without_int8_kernel_is_a_warning():
    report = lint_model(qdq_model(softmax=True), "trt-10")
    placement = [f for f in report.findings if f.code == "qdq-placement"]
    assert report.passed and len(placement) == 1 and placement[0].op == "Softmax"
    assert placement[0].severity == "warning"


def test_fp8_is_accepted_from_trt_10_not_on_8_6():
    assert "qdq-type" not in codes(qdq_model(), "trt-8.6")
    model = qdq_model()
    model.graph.initializer[1].CopyFrom(helper.make_tensor("a_zp", TensorProto.FLOAT8E4M3FN, [], [0.0]))
    assert "qdq-type" in codes(model, "trt-8.6")
    assert "qdq-type" not in codes(model, "trt-10")
