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


def _model(graph: onnx.GraphProto, opset: int = 17, ir_version: int = 8, **opsets: int) -> onnx.ModelProto:
    imports = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d.replace("_", "."), v) for d, v in opsets.items()
    ]
    model = helper.make_model(graph, opset_imports=imports, producer_name="pt2trt-tests")
    model.ir_version = ir_version
    return model


def undefined_tensor_model() -> onnx.ModelProto:
    """tiny_conv_relu whose Relu reads 'missing_tensor', which nothing produces (the checker must say so)."""
    model = tiny_conv_relu()
    model.graph.node[1].input[0] = "missing_tensor"
    return model


def type_error_model() -> onnx.ModelProto:
    """Add(float, int64): well-formed protobuf, but strict shape/type inference rejects it."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["c"], name="add")],
        "type_error",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3]),
            helper.make_tensor_value_info("b", TensorProto.INT64, [2, 3]),
        ],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [2, 3])],
    )
    return _model(graph)


def wrong_output_shape_model() -> onnx.ModelProto:
    """tiny_conv_relu declaring output[1,5,8,8] although the Conv has 4 filters."""
    model = tiny_conv_relu()
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 5
    return model


def attributes_model() -> onnx.ModelProto:
    """x[N,4] through nodes with attributes of every kind: float, int, string, lists, tensor and subgraphs.

    ``y`` = Cast(Cast(If(sum(LeakyRelu(x)) > 0, then lr, else -lr), float16), float); ``k`` = Constant [1, 2];
    ``z`` = com.example::Custom(Pad(x, reflect)), an op of a custom domain (inspect only: no runtime has it).
    """
    then_ = helper.make_graph(
        [helper.make_node("Identity", ["lr"], ["then_out"], name="then_identity")],
        "then_body",
        [],
        [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, ["N", 4])],
    )
    else_ = helper.make_graph(
        [helper.make_node("Neg", ["lr"], ["else_out"], name="else_neg")],
        "else_body",
        [],
        [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, ["N", 4])],
    )
    nodes = [
        helper.make_node(
            "Constant", [], ["k"], name="const", value=numpy_helper.from_array(np.array([1, 2], np.float32), "k")
        ),
        helper.make_node("LeakyRelu", ["x"], ["lr"], name="lrelu", alpha=0.1),
        helper.make_node("ReduceSum", ["lr"], ["total"], name="sum", keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"], name="gt"),
        helper.make_node("If", ["positive"], ["picked"], name="branch", then_branch=then_, else_branch=else_),
        helper.make_node("Cast", ["picked"], ["half"], name="to_half", to=TensorProto.FLOAT16),
        helper.make_node("Cast", ["half"], ["y"], name="to_float", to=TensorProto.FLOAT),
        helper.make_node("Pad", ["x", "pads"], ["padded"], name="pad", mode="reflect"),
        helper.make_node(
            "Custom", ["padded"], ["z"], name="custom", domain="com.example", labels=["a", "b"], scales=[0.5, 0.1],
            sizes=[1, 2, 3],
        ),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "attributes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4]),
            helper.make_tensor_value_info("k", TensorProto.FLOAT, [2]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 6]),
        ],
        initializer=[
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array([0, 1, 0, 1], np.int64), "pads"),
        ],
    )
    return _model(graph, com_example=1)


def mixed_initializers_model() -> onnx.ModelProto:
    """x[2,3] * scale(float16 [3]) + offset(int64 [2,3] cast to float): parameters of three dtypes.

    Initializers: scale float16 (3 elements, 6 bytes), offset int64 (6 elements, 48 bytes), unused double
    (4 elements, 32 bytes): 13 parameters, 86 bytes.
    """
    nodes = [
        helper.make_node("Cast", ["x"], ["x16"], to=TensorProto.FLOAT16),
        helper.make_node("Mul", ["x16", "scale"], ["scaled"]),
        helper.make_node("Cast", ["scaled"], ["scaled32"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["offset"], ["offset32"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["scaled32", "offset32"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mixed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        initializer=[
            numpy_helper.from_array(np.array([1, 2, 3], np.float16), "scale"),
            numpy_helper.from_array(np.arange(6, dtype=np.int64).reshape(2, 3), "offset"),
            numpy_helper.from_array(np.zeros(4, np.float64), "unused"),
        ],
    )
    return _model(graph)


def versioned_model(opset: int, ir_version: int, *, ml_opset: int | None = None) -> onnx.ModelProto:
    """A one-node Identity model with the given default opset, IR version and (optionally) ai.onnx.ml opset."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "versioned",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    extra = {"ai_onnx_ml": ml_opset} if ml_opset is not None else {}
    return _model(graph, opset, ir_version, **extra)
