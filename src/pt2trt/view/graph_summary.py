"""A readable summary of an ONNX graph: nodes grouped by the PyTorch module they came from, chains collapsed.

An exported ResNet has 50-70 nodes, a detector thousands: too many boxes for a picture. Both exporters record where
each node came from: the legacy exporter in the node name (``/layer1/layer1.0/conv1/Conv``), the dynamo exporter in
the node's ``pkg.torch.onnx.name_scopes`` metadata (with the module classes in ``pkg.torch.onnx.class_hierarchy``).
:func:`summarize_graph` starts from the top-level modules as single boxes and opens the biggest ones while the picture
stays within ``max_boxes`` (the module tree: :mod:`pt2trt.view.module_tree`); long single-file chains of boxes are
then merged. Constant subgraphs (weights, shape
arithmetic) are not drawn. ``max_boxes=None`` draws every node.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pt2trt.onnx.dims import dim_text
from pt2trt.onnx.graph import real_inputs
from pt2trt.settings.view import DEFAULT_MAX_BOXES
from pt2trt.view.module_tree import Group, ModuleTree, Node, collect_nodes, components, open_groups, split_components

if TYPE_CHECKING:
    import onnx


@dataclass
class Box:
    """One box of the picture: a node, a module (group of nodes), a merged chain, or a graph input/output."""

    id: str
    kind: str  # "node" | "group" | "chain" | "input" | "output"
    title: str
    detail: str = ""
    op: str = ""  # op type of a single node (drives the colour)
    nodes: int = 0

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.title, self.detail) if line]


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""


@dataclass
class GraphSummary:
    name: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    total_nodes: int = 0


def _constant_tensors(model: onnx.ModelProto) -> tuple[set[str], set[int]]:
    """Tensors known before any input arrives (initializers and what only they feed) and the nodes computing them."""
    known = {t.name for t in model.graph.initializer} | {""}
    hidden: set[int] = set()
    for i, node in enumerate(model.graph.node):  # exported graphs are topologically sorted
        if all(name in known for name in node.input):
            known.update(node.output)
            hidden.add(i)
    return known, hidden


def _shape_text(value: onnx.ValueInfoProto) -> str:
    t = value.type.tensor_type
    if not t.HasField("shape"):
        return ""
    return "x".join(dim_text(d) for d in t.shape.dim) or "scalar"


def _op_mix(ops: Counter[str], limit: int = 3) -> str:
    parts = [f"{op}×{n}" if n > 1 else op for op, n in ops.most_common(limit)]
    if len(ops) > limit:
        parts.append("…")
    return " ".join(parts)


def summarize_graph(model: onnx.ModelProto, max_boxes: int | None = DEFAULT_MAX_BOXES) -> GraphSummary:
    """Boxes and edges for a picture of ``model`` with at most about ``max_boxes`` boxes (None: one per node).

    The phases: collect the computed nodes into the module tree (:func:`collect_nodes`), open the tree's groups
    while the picture fits (:func:`open_groups`), give each node its box (:func:`_assign_boxes`), make the boxes
    (:func:`_make_boxes`), connect them (:func:`_connect`), then merge single-file chains (:func:`_merge_chains`).
    """
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:
        inferred = model
    constants, hidden = _constant_tensors(inferred)
    nodes, groups = collect_nodes(inferred.graph, hidden, scoped=max_boxes is not None)
    # nodes outside any module (post-processing written as plain functions) can be thousands: when they are too many
    # to draw one by one, each connected run of them is one box from the start
    loose = groups[""].nodes
    glue = max_boxes is not None and len(loose) > max_boxes // 2
    tree = ModuleTree(groups, components(nodes, loose) if glue else [[j] for j in loose])
    shown = [f"n:{j}" for j in range(len(nodes))] if max_boxes is None else open_groups(tree, max_boxes)
    boxes = _assign_boxes(nodes, tree, shown, glue)
    summary = GraphSummary(inferred.graph.name or "graph", total_nodes=len(nodes))
    _connect(summary, inferred.graph, nodes, boxes, _make_boxes(nodes, groups, boxes), constants)
    if max_boxes is not None and len(summary.boxes) > max_boxes:
        _merge_chains(summary)
    return summary


def _assign_boxes(nodes: list[Node], tree: ModuleTree, shown: list[str], glue: bool) -> dict[int, str]:
    """Box id per node: the shown item that holds it, split where that item's nodes are not connected."""
    owner: dict[int, str] = {}  # node position -> shown item
    repeat_of = {k: item for item in shown if item.startswith("r:") for k in item[2:].split("|")}
    for box_id in shown:
        if box_id.startswith("n:"):
            owner[int(box_id[2:])] = box_id
        elif box_id.startswith("u:"):
            for j in tree.units[int(box_id[2:])]:
                owner[j] = "g:" if glue else f"n:{j}"
    for j, node in enumerate(nodes):
        if j not in owner:
            owner[j] = next(
                f"g:{k}" if f"g:{k}" in shown else repeat_of[k]
                for k in reversed(node.scope)
                if f"g:{k}" in shown or k in repeat_of
            )
    boxes = split_components(nodes, owner)
    parallel = {b.split("#")[0] for b in boxes.values() if b.startswith("r:") and "#" in b}
    if parallel:  # identical blocks side by side (two heads), not one after another: draw each block
        for j, node in enumerate(nodes):
            if owner[j] in parallel:
                owner[j] = next(f"g:{k}" for k in node.scope if k in owner[j][2:].split("|"))
        boxes = split_components(nodes, owner)
    return boxes


def _make_boxes(nodes: list[Node], groups: dict[str, Group], boxes: dict[int, str]) -> list[Box]:
    """One :class:`Box` per box id, titled by what it holds, in the order of their first nodes."""
    by_box: dict[str, list[int]] = {}
    for j in range(len(nodes)):
        by_box.setdefault(boxes[j], []).append(j)
    made: list[Box] = []
    for box_id, members in by_box.items():  # dicts keep insertion order: by first node
        key = box_id.split("#")[0]
        ops = Counter(nodes[j].op for j in members)
        if len(members) == 1:
            node = nodes[members[0]]
            label = groups[key[2:]].label if key.startswith("g:") and key != "g:" else _legacy_label(node.name)
            made.append(Box(box_id, "node", node.op, label, op=node.op, nodes=1))
        elif key == "g:":
            made.append(Box(box_id, "chain", f"{len(members)} ops", _op_mix(ops), nodes=len(members)))
        elif key.startswith("r:"):
            keys = key[2:].split("|")
            first, last = groups[keys[0]], groups[keys[-1]]
            title = f"{first.label} … {last.label}" + (f" ({first.cls})" if first.cls else "")
            made.append(Box(box_id, "group", title, f"×{len(keys)}: {_op_mix(first.ops)}", nodes=len(members)))
        else:
            g = groups[key[2:]]
            title = f"{g.label} ({g.cls})" if g.cls else g.label
            made.append(Box(box_id, "group", title, _op_mix(ops), nodes=len(members)))
    return made


def _connect(
    summary: GraphSummary,
    graph: onnx.GraphProto,
    nodes: list[Node],
    boxes: dict[int, str],
    made: list[Box],
    constants: set[str],
) -> None:
    """Add the input boxes, ``made``, the output boxes and one edge per pair of connected boxes (labelled by shape)."""
    shapes = {v.name: _shape_text(v) for v in [*graph.value_info, *graph.input, *graph.output]}
    producer: dict[str, str] = {}
    for value in real_inputs(graph):
        box = Box(f"i:{value.name}", "input", value.name, _dtype_shape(value), nodes=0)
        summary.boxes.append(box)
        producer[value.name] = box.id
    summary.boxes.extend(made)
    for j, node in enumerate(nodes):
        for name in node.outputs:
            producer[name] = boxes[j]
    seen: set[tuple[str, str]] = set()

    def connect(source: str, target: str, tensor: str) -> None:
        if source != target and (source, target) not in seen:
            seen.add((source, target))
            summary.edges.append(Edge(source, target, shapes.get(tensor, "")))

    for j, node in enumerate(nodes):
        for name in node.inputs:
            if name in producer and name not in constants:
                connect(producer[name], boxes[j], name)
    for value in graph.output:
        box = Box(f"o:{value.name}", "output", value.name, _dtype_shape(value), nodes=0)
        summary.boxes.append(box)
        if value.name in producer:
            connect(producer[value.name], box.id, value.name)


def _dtype_shape(value: onnx.ValueInfoProto) -> str:
    from onnx import helper

    elem = value.type.tensor_type.elem_type
    dtype = helper.tensor_dtype_to_string(elem).removeprefix("TensorProto.").lower() if elem else "?"
    return f"{dtype} {_shape_text(value) or '?'}"


def _merge_chains(summary: GraphSummary) -> None:
    """Merge runs of boxes that form a single file (one way in, one way out) into one box each."""
    succ: dict[str, list[str]] = {b.id: [] for b in summary.boxes}
    pred: dict[str, list[str]] = {b.id: [] for b in summary.boxes}
    for e in summary.edges:
        succ[e.source].append(e.target)
        pred[e.target].append(e.source)
    by_id = {b.id: b for b in summary.boxes}
    mergeable = {b.id for b in summary.boxes if b.kind in ("node", "group", "chain")}
    merged_into: dict[str, str] = {}
    new_boxes: list[Box] = []
    for box in summary.boxes:
        if box.id in merged_into:
            continue
        chain = _chain_from(box.id, succ, pred, mergeable)
        if len(chain) < 3:
            new_boxes.append(box)
            continue
        new = _chain_box([by_id[b] for b in chain])
        for b in chain:
            merged_into[b] = new.id
        new_boxes.append(new)
    edges: list[Edge] = []
    seen: set[tuple[str, str]] = set()
    for e in summary.edges:
        s, t = merged_into.get(e.source, e.source), merged_into.get(e.target, e.target)
        if s != t and (s, t) not in seen:
            seen.add((s, t))
            edges.append(Edge(s, t, e.label))
    summary.boxes, summary.edges = new_boxes, edges


def _chain_from(head: str, succ: dict[str, list[str]], pred: dict[str, list[str]], mergeable: set[str]) -> list[str]:
    """The single-file run of mergeable boxes that starts at ``head``, or ``[head]`` when a run does not start there
    (``head`` is not mergeable, or it continues the run of its only predecessor)."""
    starts_chain = head in mergeable and not (
        len(pred[head]) == 1 and pred[head][0] in mergeable and len(succ[pred[head][0]]) == 1
    )
    if not starts_chain:
        return [head]
    chain = [head]
    while len(succ[chain[-1]]) == 1:
        nxt = succ[chain[-1]][0]
        if nxt not in mergeable or len(pred[nxt]) != 1:
            break
        chain.append(nxt)
    return chain


def _chain_box(chain: list[Box]) -> Box:
    """The box standing for a merged chain: its node count, its ends and the mix of its ops."""
    ops: Counter[str] = Counter()
    for member in chain:
        if member.kind == "node":
            ops[member.op] += 1
        else:  # a group's detail is its op mix, a repeat's "×K: " and one block's op mix
            times, _, mix = member.detail.rpartition(": ")
            for part in mix.split():
                op, _, n = part.partition("×")
                if op != "…":
                    ops[op] += int(n or 1) * int(times.lstrip("×") or 1)
    count = sum(b.nodes for b in chain)
    first, last = chain[0], chain[-1]
    title = f"{count} nodes: {first.title.split(' (')[0]} … {last.title.split(' (')[0]}"
    return Box(f"c:{first.id}", "chain", title, _op_mix(ops), nodes=count)


def _legacy_label(name: str) -> str:
    """``/layer1/layer1.0/conv1/Conv`` -> ``conv1``: the module of a legacy-exported node."""
    parts = [p for p in name.split("/") if p]
    return parts[-2] if name.startswith("/") and len(parts) > 1 else ""
