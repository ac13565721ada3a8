"""Models the tests share: tiny ONNX graphs built with onnx.helper, and small PyTorch modules."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny_conv_relu(opset: int = 17, *, keep_initializers_as_inputs: bool = False) -> onnx.ModelProto:
    """input[1,3,8,8] -> Conv(4 filters, 3x3, pad 1) -> Relu -> output[1,4,8,8]."""
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "conv.weight")
    bias = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "conv.bias")
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["conv_out"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv_out"], ["output"], name="relu"),
    ]
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])]
    if keep_initializers_as_inputs:
        inputs += [
            helper.make_tensor_value_info("conv.weight", TensorProto.FLOAT, [4, 3, 3, 3]),
            helper.make_tensor_value_info("conv.bias", TensorProto.FLOAT, [4]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny_conv_relu",
        inputs,
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 8, 8])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="pt2trt-tests")
    model.ir_version = 8
    return model
