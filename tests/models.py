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


# -- task models: image input, outputs known in advance -------------------------------------------------------------
def constant_outputs_model(
    outputs: dict[str, np.ndarray], input_shape: tuple[int | str, ...] = ("N", 3, 64, 64), *, batched: bool = True
) -> onnx.ModelProto:
    """An image model ``images -> outputs`` whose outputs are the given constants.

    With ``batched`` every constant has a leading batch axis of 1, repeated for each image of the input batch
    (``Expand`` to the input's dim 0); without it the constants are returned as they are (torchvision style).
    """
    nodes = [
        helper.make_node("Shape", ["images"], ["images_shape"]),
        helper.make_node("Slice", ["images_shape", "zero", "one"], ["batch"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
    ]
    graph_outputs = []
    for name, value in outputs.items():
        value = np.asarray(value)
        inits.append(numpy_helper.from_array(value, f"{name}_value"))
        elem = helper.np_dtype_to_tensor_dtype(value.dtype)
        if batched:
            inits.append(numpy_helper.from_array(np.array(value.shape[1:], np.int64), f"{name}_rest"))
            nodes.append(helper.make_node("Concat", ["batch", f"{name}_rest"], [f"{name}_shape"], axis=0))
            nodes.append(helper.make_node("Expand", [f"{name}_value", f"{name}_shape"], [name]))
            dims: list[int | str] = ["N", *value.shape[1:]]
        else:
            nodes.append(helper.make_node("Identity", [f"{name}_value"], [name]))
            dims = list(value.shape)
        graph_outputs.append(helper.make_tensor_value_info(name, elem, dims))
    graph = helper.make_graph(
        nodes,
        "constant_outputs",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, list(input_shape))],
        graph_outputs,
        initializer=inits,
    )
    return _model(graph)


def bright_box_detector(height: int, width: int) -> onnx.ModelProto:
    """End-to-end-NMS-style detector of the box around all bright pixels (channel mean > 0.5) of one image.

    Outputs ``num_dets [1, 1]`` = 1, ``det_boxes [1, 1, 4]`` = x1, y1, x2, y2 in input pixels (x2, y2 exclusive),
    ``det_scores [1, 1]`` = 1 and ``det_classes [1, 1]`` = 0.
    """
    big = 1e9
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["gray"], axes=[1], keepdims=0),  # [1, H, W]
        helper.make_node("Greater", ["gray", "half"], ["bright"]),
        helper.make_node("Cast", ["bright"], ["bright_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMax", ["bright_f"], ["col_any_f"], axes=[1], keepdims=0),  # [1, W]
        helper.make_node("ReduceMax", ["bright_f"], ["row_any_f"], axes=[2], keepdims=0),  # [1, H]
        helper.make_node("Cast", ["col_any_f"], ["col_any"], to=TensorProto.BOOL),
        helper.make_node("Cast", ["row_any_f"], ["row_any"], to=TensorProto.BOOL),
        helper.make_node("Where", ["col_any", "xs", "plus_big"], ["x_lo"]),
        helper.make_node("Where", ["col_any", "xs_end", "minus_big"], ["x_hi"]),
        helper.make_node("Where", ["row_any", "ys", "plus_big"], ["y_lo"]),
        helper.make_node("Where", ["row_any", "ys_end", "minus_big"], ["y_hi"]),
        helper.make_node("ReduceMin", ["x_lo"], ["x1"], axes=[1], keepdims=0),
        helper.make_node("ReduceMax", ["x_hi"], ["x2"], axes=[1], keepdims=0),
        helper.make_node("ReduceMin", ["y_lo"], ["y1"], axes=[1], keepdims=0),
        helper.make_node("ReduceMax", ["y_hi"], ["y2"], axes=[1], keepdims=0),
        helper.make_node("Concat", ["x1", "y1", "x2", "y2"], ["box"], axis=0),
        helper.make_node("Reshape", ["box", "box_shape"], ["det_boxes"]),
        helper.make_node("Identity", ["num_value"], ["num_dets"]),
        helper.make_node("Identity", ["score_value"], ["det_scores"]),
        helper.make_node("Identity", ["class_value"], ["det_classes"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(np.arange(width, dtype=np.float32), "xs"),
        numpy_helper.from_array(np.arange(1, width + 1, dtype=np.float32), "xs_end"),
        numpy_helper.from_array(np.arange(height, dtype=np.float32), "ys"),
        numpy_helper.from_array(np.arange(1, height + 1, dtype=np.float32), "ys_end"),
        numpy_helper.from_array(np.array(big, np.float32), "plus_big"),
        numpy_helper.from_array(np.array(-big, np.float32), "minus_big"),
        numpy_helper.from_array(np.array([1, 1, 4], np.int64), "box_shape"),
        numpy_helper.from_array(np.array([[1]], np.int32), "num_value"),
        numpy_helper.from_array(np.array([[1.0]], np.float32), "score_value"),
        numpy_helper.from_array(np.array([[0]], np.int32), "class_value"),
    ]
    graph = helper.make_graph(
        nodes,
        "bright_box_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, height, width])],
        [
            helper.make_tensor_value_info("num_dets", TensorProto.INT32, [1, 1]),
            helper.make_tensor_value_info("det_boxes", TensorProto.FLOAT, [1, 1, 4]),
            helper.make_tensor_value_info("det_scores", TensorProto.FLOAT, [1, 1]),
            helper.make_tensor_value_info("det_classes", TensorProto.INT32, [1, 1]),
        ],
        initializer=inits,
    )
    return _model(graph)


def channel_segmenter(height: int | str = "H", width: int | str = "W") -> onnx.ModelProto:
    """``images [N, 3, H, W] -> out [N, 3, H, W]``: the pixels are the logits, so the class is the dominant colour
    (0 red, 1 green, 2 blue)."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["out"])],
        "channel_segmenter",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, height, width])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3, height, width])],
    )
    return _model(graph)


# -- graph tools (simplify, edit, view) ------------------------------------------------------------------------------


def foldable_model(batch: int | str = 1) -> onnx.ModelProto:
    """x[batch, 4] + (a * b) through an Identity: the Mul of two initializers folds, the Identity goes: one Add left."""
    nodes = [
        helper.make_node("Mul", ["a", "b"], ["ab"], name="mul_consts"),
        helper.make_node("Identity", ["x"], ["x_copy"], name="copy"),
        helper.make_node("Add", ["x_copy", "ab"], ["y"], name="add"),
    ]
    graph = helper.make_graph(
        nodes,
        "foldable",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4])],
        initializer=[
            numpy_helper.from_array(np.array([1, 2, 3, 4], np.float32), "a"),
            numpy_helper.from_array(np.array([0.5, 0.5, 2, 2], np.float32), "b"),
        ],
    )
    return _model(graph)


def pooled_reshape_model() -> onnx.ModelProto:
    """x[1,3,4,4] -> ReduceMean(H, W) -> Reshape([1, 3]) -> y[1,3]: the batch size is written into the Reshape."""
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["pooled"], name="pool", keepdims=1),
        helper.make_node("Reshape", ["pooled", "target"], ["y"], name="flatten"),
    ]
    graph = helper.make_graph(
        nodes,
        "pooled_reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        initializer=[
            numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
            numpy_helper.from_array(np.array([1, 3], np.int64), "target"),
        ],
    )
    return _model(graph, 18)


def batch_folding_model() -> onnx.ModelProto:
    """x[1,3] -> Reshape([3]) -> y[3]: the batch axis is folded away, so no rewrite can make it dynamic."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "target"], ["y"], name="drop_batch")],
        "batch_folding",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        initializer=[numpy_helper.from_array(np.array([3], np.int64), "target")],
    )
    return _model(graph)


def hardswish_decomposed() -> onnx.ModelProto:
    """y = x * clip(x + 3, 0, 6) / 6 written out in four nodes (as exporters emit HardSwish at old opsets)."""
    nodes = [
        helper.make_node("Add", ["x", "three"], ["x3"], name="add3"),
        helper.make_node("Clip", ["x3", "zero", "six"], ["clipped"], name="clip"),
        helper.make_node("Div", ["clipped", "six"], ["gate"], name="div6"),
        helper.make_node("Mul", ["x", "gate"], ["y"], name="mul"),
    ]
    graph = helper.make_graph(
        nodes,
        "hardswish_decomposed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
        initializer=[
            numpy_helper.from_array(np.array(3.0, np.float32), "three"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array(6.0, np.float32), "six"),
        ],
    )
    return _model(graph)


def raw_detections_model(boxes: int = 6, classes: int = 2) -> onnx.ModelProto:
    """A detector's raw head passed through: inputs box_in[1,B,4], score_in[1,B,C] -> outputs boxes, scores."""
    graph = helper.make_graph(
        [
            helper.make_node("Identity", ["box_in"], ["boxes"], name="boxes_head"),
            helper.make_node("Identity", ["score_in"], ["scores"], name="scores_head"),
        ],
        "raw_detections",
        [
            helper.make_tensor_value_info("box_in", TensorProto.FLOAT, [1, boxes, 4]),
            helper.make_tensor_value_info("score_in", TensorProto.FLOAT, [1, boxes, classes]),
        ],
        [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, boxes, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, boxes, classes]),
        ],
    )
    return _model(graph)


def scoped_blocks_model(blocks: int = 12, *, dynamo_style: bool = False) -> onnx.ModelProto:
    """x[1,4] through ``blocks`` residual blocks (Gemm, Relu, Add), nodes named like an exporter would.

    Legacy style: ``/blocks/blocks.3/fc/Gemm``; dynamo style: ``pkg.torch.onnx.name_scopes`` node metadata.
    """
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    current = "x"
    for i in range(blocks):
        scope = ["", "blocks", f"blocks.{i}"]
        classes = ["Net", "torch.nn.Sequential", "Block"]
        w = f"w{i}"
        inits.append(numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32) * 0.3, w))
        parts = [
            ("Gemm", [current, w], f"fc{i}", "fc", "torch.nn.Linear"),
            ("Relu", [f"fc{i}"], f"act{i}", "act", "torch.nn.ReLU"),
            ("Add", [current, f"act{i}"], f"out{i}", None, None),
        ]
        for op, ins, out, sub, cls in parts:
            legacy = "/" + "/".join(["blocks", f"blocks.{i}", *([sub] if sub else []), op])
            node = helper.make_node(op, ins, [out], name=f"node_{out}" if dynamo_style else legacy)
            if dynamo_style:
                scopes = [*scope, *([f"blocks.{i}.{sub}"] if sub else []), op.lower()]
                hierarchy = [*classes, *([cls] if cls else []), f"aten.{op.lower()}"]
                node.metadata_props.add(key="pkg.torch.onnx.name_scopes", value=repr(scopes))
                node.metadata_props.add(key="pkg.torch.onnx.class_hierarchy", value=repr(hierarchy))
            nodes.append(node)
        current = f"out{i}"
    nodes.append(helper.make_node("Softmax", [current], ["y"], name="/head/Softmax", axis=-1))
    graph = helper.make_graph(
        nodes,
        "scoped_blocks",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=inits,
    )
    return _model(graph)


def uint8_nhwc_mean_colour() -> onnx.ModelProto:
    """``images uint8 [N, H, W, 3] -> logits [N, 3]``: the mean of each channel of the raw pixels."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["images"], ["pixels"], to=TensorProto.FLOAT),
            helper.make_node("ReduceMean", ["pixels"], ["logits"], axes=[1, 2], keepdims=0),
        ],
        "uint8_nhwc_mean_colour",
        [helper.make_tensor_value_info("images", TensorProto.UINT8, ["N", 8, 8, 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
    )
    return _model(graph)
