"""Element types that do not fit together: inputs of one node bound to the same ONNX type variable but holding
different types (an FP16 tensor added to an FP32 one), in the main graph and inside ``If``/``Loop``/``Scan``
subgraphs, which read outer tensors by name; and ``If`` branches returning different types for one output.

TensorRT's parser and ONNX Runtime both reject such a model (``Tensor element type mismatch. 1 != 10``), but
``onnx.checker`` does not see it: a half-done FP16 conversion that left a subgraph in float32 passes the checker.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pt2trt.backends.tensorrt.lint.report import Finding, node_label

if TYPE_CHECKING:
    import onnx

_NAMES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16", 6: "int32", 7: "int64", 9: "bool", 3: "int8"}


def dtype_findings(model: onnx.ModelProto) -> list[Finding]:
    """An error for every node whose inputs of one type variable disagree, and every If whose branches disagree."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:  # a model shape inference cannot read: the other rules report what they can
        inferred = model
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 21)
    findings: list[Finding] = []
    for node, types in _walk(inferred.graph, {}):
        findings.extend(_node_types(node, types, opset))
    return findings + _declared_types(model)


def _declared_types(model: onnx.ModelProto) -> list[Finding]:
    """Tensors whose recorded type differs from the type their producer writes (inferred without the records)."""
    import onnx

    bare = onnx.ModelProto()
    bare.CopyFrom(model)
    _strip(bare.graph)
    try:
        inferred = onnx.shape_inference.infer_shapes(bare, strict_mode=False)
    except Exception:
        return []
    return _compare_declared(model.graph, inferred.graph)


def _compare_declared(graph: onnx.GraphProto, inferred: onnx.GraphProto) -> list[Finding]:
    """``graph``'s recorded types against ``inferred`` (the same graph, types inferred), subgraphs included."""
    written = {v.name: v.type.tensor_type.elem_type for v in inferred.value_info}
    producers = {t: n for n in graph.node for t in n.output}
    findings = []
    for value in graph.value_info:
        declared, actual = value.type.tensor_type.elem_type, written.get(value.name)
        if declared and actual and declared != actual and value.name in producers:
            node = producers[value.name]
            findings.append(
                Finding(
                    "error",
                    "dtype-mismatch",
                    node_label(node),
                    node.op_type,
                    f"writes {value.name} as {_NAMES.get(actual, actual)} but the model records it as "
                    f"{_NAMES.get(declared, declared)}",
                    "Fix the recorded type (value_info), or convert the model again",
                )
            )
    for node, twin in zip(graph.node, inferred.node):
        for attr, twin_attr in zip(node.attribute, twin.attribute):
            subs = [attr.g] if attr.HasField("g") else list(attr.graphs)
            twins = [twin_attr.g] if twin_attr.HasField("g") else list(twin_attr.graphs)
            for sub, sub_twin in zip(subs, twins):
                findings.extend(_compare_declared(sub, sub_twin))
    return findings


def _strip(graph: onnx.GraphProto) -> None:
    del graph.value_info[:]
    for node in graph.node:
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                _strip(sub)


def _graph_types(graph: onnx.GraphProto, outer: dict[str, int]) -> dict[str, int]:
    types = dict(outer)
    for value in [*graph.input, *graph.value_info, *graph.output]:
        if value.type.HasField("tensor_type") and value.type.tensor_type.elem_type:
            types[value.name] = value.type.tensor_type.elem_type
    types.update({i.name: i.data_type for i in graph.initializer})
    for node in graph.node:
        if node.op_type == "Constant":
            value = next((a.t for a in node.attribute if a.name == "value"), None)
            if value is not None:
                types[node.output[0]] = value.data_type
    return types


def _walk(graph: onnx.GraphProto, outer: dict[str, int]) -> Iterator[tuple[onnx.NodeProto, dict[str, int]]]:
    types = _graph_types(graph, outer)
    for node in graph.node:
        yield node, types
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                yield from _walk(sub, types)


def _node_types(node: onnx.NodeProto, types: dict[str, int], opset: int) -> list[Finding]:
    import onnx

    if node.domain not in ("", "ai.onnx"):
        return []
    if node.op_type == "If":
        return _if_branches(node)
    try:
        schema = onnx.defs.get_schema(node.op_type, min(int(opset), onnx.defs.onnx_opset_version()), "")
    except (onnx.defs.SchemaError, TypeError, ValueError, OverflowError):
        return []
    variables = {c.type_param_str for c in schema.type_constraints}
    bound: dict[str, dict[int, str]] = {}
    formal = list(schema.inputs)
    for i, name in enumerate(node.input):
        if not name or name not in types or not formal:
            continue
        param = formal[min(i, len(formal) - 1)]  # a variadic last input covers the rest
        if param.type_str in variables:
            bound.setdefault(param.type_str, {}).setdefault(types[name], name)
    for variable, seen in bound.items():
        if len(seen) > 1:
            held = ", ".join(f"{t} is {_NAMES.get(k, k)}" for k, t in seen.items())
            return [
                Finding(
                    "error",
                    "dtype-mismatch",
                    node_label(node),
                    node.op_type,
                    f"its inputs of type {variable} hold different element types ({held})",
                    "Cast them to one type; after an FP16 conversion, convert again with pt2trt quantize --precision "
                    "fp16 (it keeps subgraphs and the tensors they read in one precision)",
                )
            ]
    return []


def _if_branches(node: onnx.NodeProto) -> list[Finding]:
    branches = {a.name: a.g for a in node.attribute if a.name in ("then_branch", "else_branch")}
    if len(branches) != 2:
        return []
    then, other = branches["then_branch"], branches["else_branch"]
    then_types, other_types = _graph_types(then, {}), _graph_types(other, {})
    for i, (a, b) in enumerate(zip(then.output, other.output)):
        ta, tb = then_types.get(a.name), other_types.get(b.name)
        if ta and tb and ta != tb:
            return [
                Finding(
                    "error",
                    "dtype-mismatch",
                    node_label(node),
                    "If",
                    f"output {i} is {_NAMES.get(ta, ta)} in the then branch and {_NAMES.get(tb, tb)} in the else "
                    "branch",
                    "Give both branches the same output types",
                )
            ]
    return []
