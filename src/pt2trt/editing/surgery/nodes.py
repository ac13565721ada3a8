"""Edits of single nodes: remove one (its readers read its input), insert one after a tensor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.editing.surgery.common import (
    constant,
    find_node,
    find_tensor,
    mapping_value,
    on_graph,
    redirect_consumers,
    take_over_name,
    unused_name,
)
from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    import onnx_graphsurgeon as gs


@on_graph
def remove_nodes(graph: gs.Graph, names: list[str]) -> tuple[None, str]:
    """Remove nodes and reconnect: readers of a removed node's output read its (first non-constant) input."""
    import onnx_graphsurgeon as gs

    for name in names:
        node = find_node(graph, name)
        data = [t for t in node.inputs if isinstance(t, gs.Variable)]
        if not data:
            raise Pt2trtError(
                f"node '{name}' ({node.op}) reads no tensor to reconnect its readers to",
                "Remove it with a replace_subgraph edit instead, or pick another node",
            )
        if len(node.outputs) != 1:
            raise Pt2trtError(
                f"node '{name}' ({node.op}) has {len(node.outputs)} outputs; only single-output nodes can be removed",
                "Use replace_subgraph for larger changes",
            )
        source, out = data[0], node.outputs[0]
        if any(t is out for t in graph.outputs) and any(t is source for t in graph.inputs):
            # the graph would output its input directly: keep the output name with an Identity
            node.op, node.attrs, node.inputs[:] = "Identity", {}, [source]
            continue
        redirect_consumers(graph, out, source)
        take_over_name(graph, out, source, "removed")
        node.inputs.clear()
        node.outputs.clear()
    return None, f"removed node(s) {', '.join(names)}"


@dataclass
class NodeSpec:
    """A node to add: op type, attributes, extra inputs (tensor names or new constants) and output value info."""

    op: str
    name: str | None = None
    domain: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    inputs: list[Any] = field(default_factory=list)
    output: str | None = None
    dtype: str | None = None
    shape: list[int | str] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any], what: str, extra: Sequence[str] = ()) -> NodeSpec:
        allowed = {"op", "name", "domain", "attrs", "inputs", "output", "dtype", "shape", *extra}
        unknown = set(data) - allowed
        if unknown:
            raise UsageError(
                f"{what}: unknown key(s) {', '.join(sorted(unknown))}", f"Use {', '.join(sorted(allowed))}"
            )
        if not data.get("op"):
            raise UsageError(f"{what} needs an 'op'", "Add op: OPTYPE (e.g. op: Relu)")
        return cls(
            op=str(data["op"]),
            name=data.get("name"),
            domain=str(data.get("domain") or ""),
            attrs=dict(data.get("attrs") or {}),
            inputs=list(data.get("inputs") or []),
            output=data.get("output"),
            dtype=data.get("dtype"),
            shape=data.get("shape"),
        )

    def extra_inputs(self, graph: gs.Graph, node_name: str) -> list[gs.Tensor]:
        """Tensor names are looked up; ``{value: ..., dtype: ..., name: ...}`` becomes a new initializer."""
        out = []
        for i, item in enumerate(self.inputs):
            if isinstance(item, Mapping):
                if "value" not in item:
                    raise UsageError(
                        f"input {i} of node {node_name} needs a 'value' for its initializer",
                        "Add value: [numbers] for that input",
                    )
                out.append(
                    constant(
                        graph,
                        str(item.get("name") or f"{node_name}_in{i}"),
                        item["value"],
                        item.get("dtype", "float32"),
                    )
                )
            else:
                out.append(find_tensor(graph, str(item)))
        return out

    def attributes(self) -> dict[str, Any]:
        """YAML lists of numbers become numpy arrays only where ONNX wants tensors; floats stay floats."""
        attrs = {}
        for key, value in self.attrs.items():
            if isinstance(value, Mapping) and "value" in value:  # a tensor attribute
                import onnx_graphsurgeon as gs

                value = gs.Constant(key, np.asarray(value["value"], dtype=value.get("dtype", "float32")))
            attrs[key] = value
        return attrs

    def variable(self, graph: gs.Graph, default: str, like: gs.Tensor | None) -> gs.Variable:
        import onnx_graphsurgeon as gs

        dtype = np.dtype(self.dtype) if self.dtype else None
        return gs.Variable(unused_name(graph, self.output or default), dtype=dtype, shape=self.shape)


@on_graph
def insert_node(graph: gs.Graph, spec: NodeSpec) -> tuple[None, str]:
    """Insert a node after tensor ``after``: it reads the tensor (plus extra inputs); the tensor's readers read it."""
    import onnx_graphsurgeon as gs

    after = getattr(spec, "after", None)
    if after is None:
        raise UsageError("--insert-node needs after: TENSOR", "e.g. --insert-node '{op: Relu, after: conv_out}'")
    source = find_tensor(graph, str(after))
    name = unused_name(graph, spec.name or f"{spec.op.lower()}_after_{source.name}")
    out = spec.variable(graph, f"{source.name}_{spec.op.lower()}", source)
    node = gs.Node(
        spec.op, name, spec.attributes(), [source, *spec.extra_inputs(graph, name)], [out], domain=spec.domain or None
    )
    redirect_consumers(graph, source, out, skip=node)
    graph.nodes.append(node)
    take_over_name(graph, source, out, f"before_{spec.op.lower()}")
    return None, f"inserted {spec.op} node '{name}' after tensor '{after}'"


@dataclass
class InsertSpec(NodeSpec):
    after: str = ""


def parse_insert(value: Any) -> InsertSpec:
    data = mapping_value(value, "insert_node")
    base = NodeSpec.parse(data, "insert_node", extra=("after",))
    if not data.get("after"):
        raise UsageError(
            "insert_node needs 'after': the tensor the new node reads",
            "Add after: TENSOR (a tensor name from `pt2trt inspect MODEL.onnx`)",
        )
    return InsertSpec(**vars(base), after=str(data["after"]))
