"""An index over an ONNX graph: who produces and who consumes each tensor, and which tensors are constant.

Each node's module scope (which PyTorch module it came from) is read by :mod:`pt2trt.onnx.scopes`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pt2trt.onnx.graph import initializer_names, real_input_names
from pt2trt.onnx.scopes import connected_groups

if TYPE_CHECKING:
    import onnx


@dataclass
class GraphIndex:
    """Producers, consumers and constants (initializers and what is computed from them alone) of ``model``'s graph."""

    model: onnx.ModelProto
    producer: dict[str, int] = field(default_factory=dict)
    consumers: dict[str, list[int]] = field(default_factory=dict)
    constants: set[str] = field(default_factory=set)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, model: onnx.ModelProto) -> GraphIndex:
        graph = model.graph
        index = cls(model)
        index.constants = initializer_names(graph)
        index.inputs = real_input_names(graph)
        index.outputs = [o.name for o in graph.output]
        for i, node in enumerate(graph.node):
            for name in node.output:
                if name:
                    index.producer[name] = i
            reads = [n for n in node.input if n]
            computed_from_constants = bool(reads) and all(n in index.constants for n in reads)
            if (node.op_type == "Constant" and node.domain in ("", "ai.onnx")) or computed_from_constants:
                index.constants.update(o for o in node.output if o)  # e.g. the legacy exporter's weight Identities
            for name in [*node.input, *_subgraph_reads(node)]:
                if name:
                    index.consumers.setdefault(name, []).append(i)
        return index

    @property
    def nodes(self) -> list[onnx.NodeProto]:
        return list(self.model.graph.node)

    def node_label(self, i: int) -> str:
        node = self.model.graph.node[i]
        return node.name or f"{node.op_type}_{i}"

    def boundary(self, group: Collection[int]) -> tuple[list[str], list[str]]:
        """(outputs, inputs) of a node set: tensors leaving it (in node order), non-constant tensors entering it."""
        members = set(group)
        graph_outputs = set(self.outputs)
        outs: list[str] = []
        ins: list[str] = []
        for i in sorted(members):
            node = self.model.graph.node[i]
            for name in node.output:
                if name and (name in graph_outputs or any(c not in members for c in self.consumers.get(name, []))):
                    outs.append(name)
            for name in node.input:
                if name and name not in self.constants and self.producer.get(name) not in members and name not in ins:
                    ins.append(name)
        return outs, ins

    def components(self, group: Collection[int]) -> list[list[int]]:
        """Connected pieces of a node set (edges: a tensor produced by one member and read by another)."""
        members = sorted(set(group))
        links = (
            (i, c) for i in members for name in self.model.graph.node[i].output for c in self.consumers.get(name, [])
        )
        return connected_groups(members, links)


def _subgraph_reads(node: onnx.NodeProto) -> Iterator[str]:
    """Outer-scope tensors read inside If/Loop/Scan bodies count as read by the node itself."""
    for attr in node.attribute:
        for graph in [attr.g] if attr.HasField("g") else list(attr.graphs):
            for inner in graph.node:
                yield from inner.input
                yield from _subgraph_reads(inner)
