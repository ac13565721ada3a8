"""Edits of a subgraph between tensors: replace it by one node, extract it as a model, expose its tensors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pt2trt.editing.surgery.common import Verification, find_tensor, mapping_value, name_list, on_graph, unused_name
from pt2trt.editing.surgery.nodes import NodeSpec
from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    import onnx_graphsurgeon as gs


@dataclass
class ReplaceSpec(NodeSpec):
    between: tuple[list[str], list[str]] = ((), ())  # type: ignore[assignment]
    equivalent: bool = False


def parse_replace(value: Any) -> ReplaceSpec:
    data = mapping_value(value, "replace_subgraph")
    base = NodeSpec.parse(data, "replace_subgraph", extra=("from", "to", "equivalent"))
    sources, targets = name_list(data.get("from")), name_list(data.get("to"))
    if not sources or not targets:
        raise UsageError(
            "replace_subgraph needs 'from' (input tensors) and 'to' (output tensors)",
            "Add from: [TENSOR, ...] and to: [TENSOR, ...]",
        )
    return ReplaceSpec(**vars(base), between=(sources, targets), equivalent=bool(data.get("equivalent", False)))


@on_graph
def replace_subgraph(graph: gs.Graph, spec: ReplaceSpec) -> tuple[Verification | None, str]:
    """Replace the nodes between tensors ``from`` and ``to`` by one node (``to`` keep their names and readers)."""
    import onnx_graphsurgeon as gs

    sources = [find_tensor(graph, n) for n in spec.between[0]]
    targets = [find_tensor(graph, n) for n in spec.between[1]]
    inside = subgraph_nodes(graph, sources, targets)
    name = unused_name(graph, spec.name or f"{spec.op.lower()}_replacement")
    for node in inside:
        node.inputs.clear()
        node.outputs.clear()
    node = gs.Node(
        spec.op,
        name,
        spec.attributes(),
        [*sources, *spec.extra_inputs(graph, name)],
        targets,
        domain=spec.domain or None,
    )
    graph.nodes.append(node)
    verification = Verification() if spec.equivalent else None
    return verification, f"replaced {len(inside)} node(s) between {', '.join(spec.between[0])} and " + (
        f"{', '.join(spec.between[1])} by {spec.op} '{name}'"
    )


def subgraph_nodes(graph: gs.Graph, sources: Sequence[gs.Tensor], targets: Sequence[gs.Tensor]) -> list[gs.Node]:
    """Nodes that produce ``targets`` from ``sources`` (walking back from the targets, stopping at the sources).

    A node in between that also reads another computed tensor means the boundary is incomplete: an error naming it.
    """
    import onnx_graphsurgeon as gs

    stop = {id(t) for t in sources}
    found: dict[int, gs.Node] = {}
    stack = [t for t in targets]
    while stack:
        tensor = stack.pop()
        if id(tensor) in stop:
            continue
        if not tensor.inputs:
            if isinstance(tensor, gs.Variable):
                raise Pt2trtError(
                    f"the subgraph reaches tensor '{tensor.name}', which is not among its inputs",
                    f"Add '{tensor.name}' to 'from' or choose other boundary tensors",
                )
            continue
        node = tensor.inputs[0]
        if id(node) in found:
            continue
        found[id(node)] = node
        stack.extend(node.inputs)
    if not found:
        raise Pt2trtError(
            "no node lies between the given tensors",
            "Check the tensor names with `pt2trt inspect MODEL.onnx`: the inputs must come before the outputs",
        )
    return list(found.values())


@on_graph
def extract(graph: gs.Graph, boundary: tuple[list[str], list[str]]) -> tuple[Verification, str]:
    """Keep only the subgraph from tensors ``inputs`` to tensors ``outputs``; they become the graph's I/O."""
    import onnx_graphsurgeon as gs

    names_in, names_out = boundary
    tensors = graph.tensors()
    for name in [*names_in, *names_out]:
        find_tensor(graph, name)
    untyped = [n for n in [*names_in, *names_out] if tensors[n].dtype is None]
    if untyped:
        raise Pt2trtError(
            f"the type of tensor(s) {', '.join(untyped)} is unknown (shape inference could not tell)",
            "Run `pt2trt simplify` first so shapes are known, or cut at other tensors",
        )
    if any(isinstance(tensors[n], gs.Constant) for n in names_in):
        raise Pt2trtError(
            "extract inputs must be computed tensors, not initializers",
            "Cut at a tensor a node computes, not at a weight",
        )
    new_inputs = [tensors[n] for n in names_in]
    for t in new_inputs:
        t.inputs.clear()  # cut the producer: the tensor is now fed from outside
    graph.inputs = new_inputs
    graph.outputs = [tensors[n] for n in names_out]
    graph.cleanup()
    missing = sorted(
        {
            t.name
            for node in graph.nodes
            for t in node.inputs
            if isinstance(t, gs.Variable) and not t.inputs and t.name and all(t is not i for i in graph.inputs)
        }
    )
    if missing:
        raise Pt2trtError(f"the extracted subgraph also reads {', '.join(missing)}", "Add them to the extract inputs")
    return (
        Verification(mode="extract", extract=(list(names_in), list(names_out))),
        f"extracted the subgraph {', '.join(names_in)} -> {', '.join(names_out)} ({len(graph.nodes)} nodes)",
    )


def parse_extract(value: Any) -> tuple[list[str], list[str]]:
    """``IN1,IN2:OUT1,OUT2`` or ``{inputs: [...], outputs: [...]}``."""
    if isinstance(value, Mapping):
        ins, outs = name_list(value.get("inputs")), name_list(value.get("outputs"))
    else:
        text = str(value)
        if text.count(":") != 1:
            raise UsageError(f"malformed --extract '{text}'", "Expected INPUT[,INPUT...]:OUTPUT[,OUTPUT...]")
        a, b = text.split(":")
        ins, outs = name_list(a), name_list(b)
    if not ins or not outs:
        raise UsageError(
            "extract needs input and output tensor names", "Give inputs: [TENSOR, ...] and outputs: [TENSOR, ...]"
        )
    return ins, outs


@on_graph
def expose(graph: gs.Graph, names: list[str]) -> tuple[Verification, str]:
    """Add intermediate tensors to the graph outputs (their dtype and shape from shape inference)."""
    current = {t.name for t in graph.outputs}
    for name in names:
        t = find_tensor(graph, name)
        if t.dtype is None:
            raise Pt2trtError(
                f"the type of tensor '{name}' is unknown (shape inference could not tell)",
                "Run `pt2trt simplify` first so shapes are known, or cut at other tensors",
            )
        if name not in current:
            graph.outputs.append(t)
    return Verification(only_reference_outputs=True), f"exposed {', '.join(names)} as output(s)"
