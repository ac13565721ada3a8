"""The module tree of an ONNX graph for its picture: which module each node lies in, and which modules to open.

Each computed node is placed in the tree of PyTorch modules its exporter recorded (see :mod:`pt2trt.onnx.scopes`).
:class:`ModuleTree` says what each item of the picture opens into and :func:`open_groups` opens the biggest ones
while the picture stays within its box budget. :func:`split_components` keeps apart the nodes of one item that are
not connected (a module called twice).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pt2trt.onnx.scopes import connected_groups, dynamo_modules, legacy_path, plain_names

if TYPE_CHECKING:
    import onnx


@dataclass
class Node:
    """A computed node of the graph: its position, op, name, module scope keys and tensor names."""

    index: int
    op: str
    name: str
    scope: tuple[str, ...]  # cumulative scope keys, outermost first
    inputs: list[str]
    outputs: list[str]


@dataclass
class Group:
    """A module of the tree: its label and class, child modules, direct nodes, and what lies below it."""

    key: str
    label: str
    cls: str
    children: list[str] = field(default_factory=list)  # scope keys of child groups, in first-seen order
    nodes: list[int] = field(default_factory=list)  # nodes directly in this group
    size: int = 0  # all nodes below
    ops: Counter[str] = field(default_factory=Counter)  # op types of all nodes below


def _scope(node: onnx.NodeProto) -> tuple[tuple[str, ...], dict[str, str], dict[str, str]]:
    """(scope keys, key -> label, key -> module class) of one node, from dynamo metadata or a legacy name."""
    modules = dynamo_modules(node)
    if modules:
        keys = tuple(name for name, _ in modules)
        return keys, {k: k for k in keys}, dict(modules)
    parts = legacy_path(node.name)
    keys = tuple("/" + "/".join(parts[: i + 1]) for i in range(len(parts)))
    return keys, dict(zip(keys, plain_names(parts))), {}


def collect_nodes(graph: onnx.GraphProto, hidden: set[int], *, scoped: bool) -> tuple[list[Node], dict[str, Group]]:
    """The computed nodes (``hidden`` ones left out) and the module tree they lie in (key ``""``: the model).

    ``scoped=False`` leaves every node at the top level (a picture with one box per node).
    """
    nodes: list[Node] = []
    groups: dict[str, Group] = {"": Group("", "", "")}
    for i, n in enumerate(graph.node):
        if i in hidden:
            continue
        keys, labels, classes = _scope(n) if scoped else ((), {}, {})
        nodes.append(Node(i, n.op_type, n.name or f"{n.op_type}_{i}", keys, list(n.input), list(n.output)))
        parent = ""
        for key in keys:
            if key not in groups:
                groups[key] = Group(key, labels.get(key, key), classes.get(key, ""))
                groups[parent].children.append(key)
            groups[key].size += 1
            groups[key].ops[n.op_type] += 1
            parent = key
        groups[parent].nodes.append(len(nodes) - 1)
        groups[""].size += 1
    return nodes, groups


@dataclass
class ModuleTree:
    """The module tree as items that open into other items.

    An item is ``g:KEY`` (a module; ``g:`` the model), ``r:K1|K2|...`` (a run of identical sibling modules),
    ``n:J`` (node J) or ``u:K`` (unit K of the nodes outside any module: one node, or a connected run of them).
    """

    groups: dict[str, Group]
    units: list[list[int]]

    def signature(self, key: str) -> tuple[str, frozenset[tuple[str, int]]] | None:
        g = self.groups[key]
        return (g.cls, frozenset(g.ops.items())) if g.size >= 2 else None

    def runs(self, children: list[str]) -> list[str]:
        """Child groups, with runs of identical siblings (same class and ops: blocks.0, blocks.1...) as one item."""
        out, i = [], 0
        while i < len(children):
            j = i + 1
            first = self.signature(children[i])
            while j < len(children) and first is not None and self.signature(children[j]) == first:
                j += 1
            out.append(f"g:{children[i]}" if j - i == 1 else "r:" + "|".join(children[i:j]))
            i = j
        return out

    def members(self, item: str) -> list[str]:
        """What an item opens into; a repeat (``r:K1|K2``) opens its blocks' insides, level with its peers."""
        if item.startswith("r:"):
            return [m for k in item[2:].split("|") for m in self.members(f"g:{k}")]
        key = item[2:]
        g = self.groups[key]
        if key == "":
            return self.runs(g.children) + [f"u:{k}" for k in range(len(self.units))]
        return self.runs(g.children) + [f"n:{j}" for j in g.nodes]

    def size(self, item: str) -> int:
        return sum(self.groups[k].size for k in item[2:].split("|"))


def open_groups(tree: ModuleTree, max_boxes: int) -> list[str]:
    """The items to draw: open the groups level by level while the whole level fits; then part of a level, biggest
    groups first, only while the picture stays sparse (a third of ``max_boxes``)."""
    shown = tree.members("g:")
    while True:
        closed = [b for b in shown if b[:2] in ("g:", "r:")]
        opened = len(shown) - len(closed) + sum(len(tree.members(b)) for b in closed)
        if closed and opened <= max_boxes:
            shown = [m for b in shown for m in (tree.members(b) if b in closed else [b])]
            continue
        for item in sorted(closed, key=lambda b: -tree.size(b)):
            inner = tree.members(item)
            if len(shown) - 1 + len(inner) <= max(max_boxes // 3, 1):
                at = shown.index(item)
                shown[at : at + 1] = inner
        return shown


def _links(nodes: list[Node], joined: Callable[[int, int], bool]) -> Iterator[tuple[int, int]]:
    """(producer, reader) pairs of node positions that ``joined`` accepts."""
    producer = {name: j for j, n in enumerate(nodes) for name in n.outputs}
    for j, n in enumerate(nodes):
        for name in n.inputs:
            k = producer.get(name)
            if k is not None and joined(k, j):
                yield k, j


def components(nodes: list[Node], members: list[int]) -> list[list[int]]:
    """Connected components (through edges among ``members`` only), each in node order, ordered by first node."""
    return connected_groups(members, _links(nodes, lambda k, j: True))


def split_components(nodes: list[Node], owner: dict[int, str]) -> dict[int, str]:
    """Box id per node: nodes of one owner that are not connected (a module called twice) get separate boxes."""
    out: dict[int, str] = {}
    count: Counter[str] = Counter()
    for group in connected_groups(range(len(nodes)), _links(nodes, lambda k, j: owner[k] == owner[j])):
        name = owner[group[0]]
        index = count[name]
        count[name] += 1
        for j in group:
            out[j] = name if index == 0 else f"{name}#{index}"
    return out
