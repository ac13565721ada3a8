"""Node names and the PyTorch modules they came from: reporting layers, and resolving the user's names.

``--keep-fp32`` and ``--exclude`` take ONNX node names (as ``inspect --nodes`` lists them) or PyTorch module names
recorded by the exporters (``layer4.1.conv2``: every node of that module and of its children).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class Layer:
    """One ONNX node kept in higher precision, and why."""

    node: str
    op: str
    module: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "op": self.op,
            **({"module": self.module} if self.module else {}),
            "reason": self.reason,
        }

    def label(self) -> str:
        return f"{self.node} ({self.op}{', module ' + self.module if self.module else ''})"


class NodeNames:
    """Unique node labels of a graph, each node's innermost module, and name resolution."""

    def __init__(self, model: onnx.ModelProto) -> None:
        from pt2trt.onnx.scopes import exporter_of, node_scopes

        self.nodes = list(model.graph.node)
        self.labels = [n.name or f"{n.op_type}_{i}" for i, n in enumerate(self.nodes)]
        scopes = node_scopes(model, exporter_of(model), None)
        self.scopes = [[name for name, _ in scope if name] for scope in scopes]

    def module(self, i: int) -> str | None:
        return self.scopes[i][-1] if self.scopes[i] else None

    def layer(self, i: int, reason: str) -> Layer:
        return Layer(self.labels[i], self.nodes[i].op_type, self.module(i), reason)

    def resolve(self, names: Sequence[str], flag: str) -> dict[int, str]:
        """Node indices named by ``names`` (node names or module names), each with the name that selected it."""
        found: dict[int, str] = {}
        by_label = {label: i for i, label in enumerate(self.labels)}
        for name in names:
            if name in by_label:
                found.setdefault(by_label[name], name)
                continue
            members = [i for i, scope in enumerate(self.scopes) if name in scope]
            if not members:
                modules = sorted({m for scope in self.scopes for m in scope})
                close = difflib.get_close_matches(name, self.labels + modules, n=1)
                hint = f"Did you mean '{close[0]}'?" if close else "List the nodes with: pt2trt inspect MODEL --nodes"
                raise UsageError(f"{flag} {name}: no node or PyTorch module of that name in the model", hint)
            for i in members:
                found.setdefault(i, name)
        return found
