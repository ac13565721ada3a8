"""An index over an ONNX graph: who produces and who consumes each tensor, and each node's module scope.

Both PyTorch exporters record which module a node came from, in different places:

* legacy (TorchScript) exporter: the node name, ``/layer3/layer3.0/conv2/Conv``: one path component per module,
  each ending in the module's attribute name (``layer3.0`` -> child ``0`` of ``layer3``), a ``_N`` suffix for the
  (N+1)-th call of the same module (``relu_1``);
* dynamo exporter: per-node ``metadata_props``: ``pkg.torch.onnx.name_scopes`` holds the qualified names
  (``['', 'layer1', 'layer1.0', 'layer1.0.bn1', '<fx node>']``), ``namespace`` the same with classes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pt2trt.onnx import metadata as meta
from pt2trt.onnx.graph import initializer_names, real_input_names

if TYPE_CHECKING:
    import onnx

NAME_SCOPES = "pkg.torch.onnx.name_scopes"
NAMESPACE = "namespace"
_CALL_SUFFIX = re.compile(r"^(.+)_(\d+)$")

Scope = tuple[tuple[str, int | None], ...]  # (qualified module name, call number if the exporter recorded it)


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
        parent = {i: i for i in members}

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in members:
            for name in self.model.graph.node[i].output:
                for c in self.consumers.get(name, []):
                    if c in parent:
                        parent[find(c)] = find(i)
        pieces: dict[int, list[int]] = {}
        for i in members:
            pieces.setdefault(find(i), []).append(i)
        return sorted(pieces.values(), key=lambda p: p[0])


def _subgraph_reads(node: onnx.NodeProto) -> Iterator[str]:
    """Outer-scope tensors read inside If/Loop/Scan bodies count as read by the node itself."""
    for attr in node.attribute:
        for graph in [attr.g] if attr.HasField("g") else list(attr.graphs):
            for inner in graph.node:
                yield from inner.input
                yield from _subgraph_reads(inner)


def exporter_of(model: onnx.ModelProto) -> str | None:
    """``dynamo`` or ``legacy`` as recorded by pt2trt, else recognised from the node names / metadata."""
    recorded = meta.read_metadata(model).get(meta.EXPORTER)
    if recorded in ("dynamo", "legacy"):
        return recorded
    nodes = list(model.graph.node)
    if any(p.key in (NAME_SCOPES, NAMESPACE) for n in nodes for p in n.metadata_props):
        return "dynamo"
    if any(n.name.startswith("/") for n in nodes):
        return "legacy"
    return None


def node_scopes(model: onnx.ModelProto, exporter: str | None, module_names: Collection[str] | None) -> list[Scope]:
    """Each top-level node's module path, outermost first (empty for the model's own code or unknown)."""
    nodes = list(model.graph.node)
    if exporter == "dynamo":
        return [_dynamo_scope(n) for n in nodes]
    if exporter == "legacy":
        return _legacy_scopes(nodes, module_names)
    return [() for _ in nodes]


def _dynamo_scope(node: onnx.NodeProto) -> Scope:
    props = {p.key: p.value for p in node.metadata_props}
    names: list[str] = []
    if NAME_SCOPES in props:
        try:
            parsed = ast.literal_eval(props[NAME_SCOPES])
            names = [str(n) for n in parsed] if isinstance(parsed, list | tuple) else []
        except (ValueError, SyntaxError):
            names = []
    elif NAMESPACE in props:  # ": pkg.Model/layer1: torch...Sequential/layer1.0: ...BasicBlock/add: aten.add.Tensor"
        names = [part.split(": ")[0] for part in props[NAMESPACE].split("/")]
    # the first entry is the model itself (''), the last the fx node that produced this ONNX node
    return tuple((n, None) for n in names[1:-1] if n)


def _legacy_scopes(nodes: list[onnx.NodeProto], module_names: Collection[str] | None) -> list[Scope]:
    paths = [n.name.split("/")[1:-1] if n.name.startswith("/") else [] for n in nodes]
    if module_names is not None:
        names = set(module_names)
        return [_resolve_legacy(p, names.__contains__, calls_first=False) for p in paths]
    # Without the model, a name is taken to exist when some node's path spells it out, so that "relu_1" is read as
    # the second call of "relu" only when a plain "relu" appears beside it.
    spelled = {q for p in paths for q in _plain_names(p)}
    return [_resolve_legacy(p, spelled.__contains__, calls_first=True) for p in paths]


def _plain_names(path: list[str]) -> Iterator[str]:
    parent = ""
    for comp in path:
        parent = _qualify(parent, comp)[0]
        yield parent


def _resolve_legacy(path: list[str], exists: Callable[[str], bool], *, calls_first: bool) -> Scope:
    """Qualified names for a legacy node path, with the call number its ``_N`` suffixes give.

    ``calls_first``: read ``relu_1`` as the second call of ``relu`` when ``relu`` exists, before trying a module
    named ``relu_1`` (when the names are only guessed from the paths, both "exist").
    """
    scope: list[tuple[str, int | None]] = []
    parent = ""
    for comp in path:
        options = [(q, 0) for q in _qualify(parent, comp)]
        m = _CALL_SUFFIX.match(comp)
        if m:
            calls = [(q, int(m[2])) for q in _qualify(parent, m[1])]
            options = calls + options if calls_first else options + calls
        qualified, call = next((o for o in options if exists(o[0])), options[0])
        scope.append((qualified, call))
        parent = qualified
    return tuple(scope)


def _qualify(parent: str, comp: str) -> list[str]:
    """Candidate qualified names of a path component, most likely first.

    The legacy exporter names a module by its qualified name from the last non-numeric atom on (``layer1.0``,
    ``block.0.0``, ``conv1``), so the component may repeat the tail of its parent's name (``features.1.block.0`` +
    ``block.0.0`` -> ``features.1.block.0.0``) or simply extend it (``layer1.0`` + ``conv1``).
    """
    p = parent.split(".") if parent else []
    c = comp.split(".")
    options = []
    for j in range(len(p) - 1, -1, -1):
        if p[j] == c[0] and len(c) > len(p) - j and p[j + 1 :] == c[1 : len(p) - j]:
            options.append(".".join(p[:j] + c))
            break
    options.append(".".join(p + c))
    return options
