"""Small ONNX graphs (onnx.helper, IR 10) on which FP16 conversions have broken: a graph output from a node kept in
FP32 that is also listed in value_info, a final Softmax, and If/Loop subgraphs reading outer tensors."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(nodes, inputs, outputs, initializers, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def _conv_weight(out: int = 4, cin: int = 3) -> onnx.TensorProto:
    return numpy_helper.from_array(np.random.default_rng(0).normal(size=(out, cin, 3, 3)).astype(np.float32), "w")


def kept_output_in_value_info(op: str = "Sigmoid") -> onnx.ModelProto:
    """Conv -> ``op`` -> graph output ``y``, with ``y`` listed in value_info too (as shape-inferred models have it)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, 8, 8])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(op, ["c"], ["y"], name="last", **({"axis": 1} if op == "Softmax" else {})),
    ]
    model = onnx.shape_inference.infer_shapes(_model(nodes, [x], [y], [_conv_weight()]))
    model.graph.value_info.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, 8, 8]))
    return model


def if_reads_outer_tensor() -> onnx.ModelProto:
    """Conv -> t; If(mean(x) > 0): then t + 1 (a constant of the branch), else t * 2 (the 2 read from outside)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4, 8, 8])
    one = helper.make_node("Constant", [], ["one"], value=numpy_helper.from_array(np.array(1.0, np.float32)))
    then = helper.make_graph([one, helper.make_node("Add", ["t", "one"], ["out"])], "then", [], [out])
    other = helper.make_graph([helper.make_node("Mul", ["t", "two"], ["out"])], "else", [], [out])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["t"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("ReduceMean", ["x"], ["m"], name="mean", keepdims=0),
        helper.make_node("Greater", ["m", "zero"], ["cond"], name="greater"),
        helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then, else_branch=other),
    ]
    constants = [
        _conv_weight(),
        numpy_helper.from_array(np.array(2.0, np.float32), "two"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
    ]
    return _model(nodes, [x], [y], constants)


def loop_reads_outer_tensor() -> onnx.ModelProto:
    """Conv -> t; a Loop of 3 iterations accumulating t * i into a carried value (a paste loop in miniature)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])
    i = helper.make_tensor_value_info("i", TensorProto.INT64, [])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    acc = helper.make_tensor_value_info("acc", TensorProto.FLOAT, [1, 4, 8, 8])
    cond_out = helper.make_tensor_value_info("cond_out", TensorProto.BOOL, [])
    acc_out = helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1, 4, 8, 8])
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond"], ["cond_out"]),
            helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["t", "fi"], ["scaled"]),
            helper.make_node("Add", ["acc", "scaled"], ["acc_out"]),
        ],
        "body",
        [i, cond, acc],
        [cond_out, acc_out],
    )
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["t"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["t", "zero"], ["start"], name="start"),
        helper.make_node("Loop", ["trips", "", "start"], ["y"], name="loop", body=body),
    ]
    constants = [
        _conv_weight(),
        numpy_helper.from_array(np.array(3, np.int64), "trips"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
    ]
    return _model(nodes, [x], [y], constants)
