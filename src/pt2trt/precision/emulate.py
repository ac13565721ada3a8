"""FP16 on a CPU, honestly: round every FP16 tensor of a converted model through FP16, compute each op in FP32.

ONNX Runtime's CPU provider has FP16 kernels for few ops: it wraps the others in Casts to FP32 and then removes the
Cast pairs between neighbouring wrapped nodes, so a chain of FP16 nodes runs entirely in FP32 and an FP16 overflow
(a sum beyond 65504) never shows. OpenVINO's CPU plugin computes FP16 models in FP32 too. This module rewrites the
converted model into an FP32 model in which every tensor the FP16 model stores in FP16 is passed through
``Cast(to=FLOAT16) -> Cast(to=FLOAT)``: values get FP16's range (overflow -> Inf) and precision, as on a GPU, while
each op accumulates in FP32 (as TensorRT's FP16 convolutions and matrix products do). Run it with graph
optimisations off, so that ONNX Runtime keeps the Cast pairs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

_SUFFIX = "__fp16_emulated"


def emulate_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """An FP32 model computing what ``model`` (FP16, possibly mixed) computes, with FP16 storage rounding.

    Subgraphs (``If``/``Loop``/``Scan`` bodies) are rewritten the same way: their FP16 inputs, outputs and values
    become float32 rounded through FP16, so that they fit the float32 tensors the main graph now hands them.
    """
    import onnx

    out = onnx.ModelProto()
    out.CopyFrom(model)
    _emulate_graph(out.graph, top=True)
    return out


def _emulate_graph(graph: onnx.GraphProto, *, top: bool) -> None:
    half = _float16_values_to_float32(graph)
    nodes = _rounded_nodes(graph, half)
    inputs = {v.name for v in graph.input}
    outputs = {v.name for v in graph.output}
    # FP16 graph inputs (--fp16-io, or a subgraph's FP16 inputs): fed as float32, rounded; a Loop body's inputs are
    # rounded too (its carried values come back from its outputs)
    rounded_inputs = _rounded_inputs([n for n in inputs if n in half and n not in outputs], nodes)
    del graph.node[:]
    graph.node.extend(rounded_inputs + nodes)
    if top:  # ONNX Runtime infers the main graph's types again; a subgraph keeps its records, all float32 now
        del graph.value_info[:]


def _float16_values_to_float32(graph: onnx.GraphProto) -> set[str]:
    """Retype the graph's FP16 values (value_info, inputs, outputs) and initializers as float32; the names of the
    values that were FP16."""
    import onnx
    from onnx import numpy_helper

    half: set[str] = set()
    for value in [*graph.value_info, *graph.input, *graph.output]:
        if value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16:
            half.add(value.name)
            value.type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    for i, init in enumerate(graph.initializer):
        if init.data_type == onnx.TensorProto.FLOAT16:  # already FP16-rounded values: exactly representable in FP32
            graph.initializer[i].CopyFrom(
                numpy_helper.from_array(numpy_helper.to_array(init).astype("float32"), init.name)
            )
    return half


def _rounded_nodes(graph: onnx.GraphProto, half: set[str]) -> list[onnx.NodeProto]:
    """The graph's nodes computing in float32, each FP16 output followed by its rounding Cast pair; ``half`` gains
    the outputs of Casts to FP16. Subgraphs are rewritten the same way."""
    nodes = []
    for node in graph.node:
        _retype_node(node, half)
        nodes.append(node)
        for j, tensor in enumerate(node.output):
            if tensor in half:
                node.output[j] = tensor + _SUFFIX
                nodes += _round_trip(node.output[j], tensor, tensor + _SUFFIX + "_h")
    return nodes


def _retype_node(node: onnx.NodeProto, half: set[str]) -> None:
    """A Cast to FP16 becomes a Cast to float32 (its output rounded after it), an FP16 Constant a float32 one, and
    the node's subgraphs are emulated."""
    import onnx
    from onnx import numpy_helper

    if node.op_type == "Cast":
        to = next(a for a in node.attribute if a.name == "to")
        if to.i == onnx.TensorProto.FLOAT16:
            to.i = onnx.TensorProto.FLOAT
            half.add(node.output[0])
    for attr in node.attribute:
        if attr.name == "value" and node.op_type == "Constant" and attr.t.data_type == onnx.TensorProto.FLOAT16:
            attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype("float32"), attr.t.name))
        for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
            _emulate_graph(sub, top=False)


def _round_trip(source: str, target: str, middle: str) -> list[onnx.NodeProto]:
    """``target = float32(float16(source))``."""
    import onnx
    from onnx import helper

    return [
        helper.make_node("Cast", [source], [middle], to=onnx.TensorProto.FLOAT16),
        helper.make_node("Cast", [middle], [target], to=onnx.TensorProto.FLOAT),
    ]


def _rounded_inputs(names: list[str], nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """A rounding Cast pair for each of the graph inputs ``names``; ``nodes`` then read the rounded values."""
    rounded = []
    for name in names:
        rounded += _round_trip(name, name + _SUFFIX, name + _SUFFIX + "_h")
        for node in nodes:
            for j, t in enumerate(node.input):
                if t == name:
                    node.input[j] = name + _SUFFIX
    return rounded


def session_options() -> object:
    """ONNX Runtime options that keep the rounding Casts (no graph optimisation)."""
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4
    return options
