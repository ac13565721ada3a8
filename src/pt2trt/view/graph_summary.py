"""A readable summary of an ONNX graph: nodes grouped by the PyTorch module they came from, chains collapsed.

An exported ResNet has 50-70 nodes, a detector thousands: too many boxes for a picture. Both exporters record where
each node came from: the legacy exporter in the node name (``/layer1/layer1.0/conv1/Conv``), the dynamo exporter in
the node's ``pkg.torch.onnx.name_scopes`` metadata (with the module classes in ``pkg.torch.onnx.class_hierarchy``).
:func:`summarize_graph` starts from the top-level modules as single boxes and opens the biggest ones while the picture
stays within ``max_boxes``; long single-file chains of boxes are then merged. Constant subgraphs (weights, shape
arithmetic) are not drawn. ``max_boxes=None`` draws every node.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pt2trt.onnx.dims import dim_text

if TYPE_CHECKING:
    import onnx

DEFAULT_MAX_BOXES = 30


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


@dataclass
class _Node:
    index: int
    op: str
    name: str
    scope: tuple[str, ...]  # cumulative scope keys, outermost first
    inputs: list[str]
    outputs: list[str]


@dataclass
class _Group:
    key: str
    label: str
    cls: str
    children: list[str] = field(default_factory=list)  # scope keys of child groups, in first-seen order
    nodes: list[int] = field(default_factory=list)  # nodes directly in this group
    size: int = 0  # all nodes below
    ops: Counter[str] = field(default_factory=Counter)  # op types of all nodes below


def _scope(node: onnx.NodeProto) -> tuple[tuple[str, ...], dict[str, str], dict[str, str]]:
    """(scope keys, key -> label, key -> module class) of one node, from dynamo metadata or a legacy name."""
    props = {p.key: p.value for p in node.metadata_props}
    text = props.get("pkg.torch.onnx.name_scopes")
    if text:
        try:
            scopes = [str(s) for s in ast.literal_eval(text)]
            classes = [str(c) for c in ast.literal_eval(props.get("pkg.torch.onnx.class_hierarchy", "[]"))]
        except (ValueError, SyntaxError):
            scopes, classes = [], []
        keys = scopes[1:-1]  # the first is the root module, the last the aten op itself
        labels = {k: k for k in keys}
        cls = {k: classes[i + 1].rpartition(".")[2] for i, k in enumerate(keys) if i + 1 < len(classes)}
        return tuple(keys), labels, cls
    if node.name.startswith("/"):
        parts = [p for p in node.name.split("/")[1:-1] if p]
        keys = tuple("/" + "/".join(parts[: i + 1]) for i in range(len(parts)))
        return keys, dict(zip(keys, _qualified(parts))), {}
    return (), {}, {}


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
    """Boxes and edges for a picture of ``model`` with at most about ``max_boxes`` boxes (None: one per node)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:
        inferred = model
    graph = inferred.graph
    shapes = {v.name: _shape_text(v) for v in [*graph.value_info, *graph.input, *graph.output]}
    constants, hidden = _constant_tensors(inferred)

    nodes: list[_Node] = []
    groups: dict[str, _Group] = {"": _Group("", "", "")}
    for i, n in enumerate(graph.node):
        if i in hidden:
            continue
        keys, labels, classes = _scope(n) if max_boxes is not None else ((), {}, {})
        node = _Node(i, n.op_type, n.name or f"{n.op_type}_{i}", keys, list(n.input), list(n.output))
        nodes.append(node)
        parent = ""
        for key in keys:
            if key not in groups:
                groups[key] = _Group(key, labels.get(key, key), classes.get(key, ""))
                groups[parent].children.append(key)
            groups[key].size += 1
            groups[key].ops[n.op_type] += 1
            parent = key
        groups[parent].nodes.append(len(nodes) - 1)
        groups[""].size += 1

    # open the groups level by level while the whole level fits; part of a level only while the picture is sparse
    # nodes outside any module (post-processing written as plain functions) can be thousands: when they are too many
    # to draw one by one, each connected run of them is one box from the start
    loose = groups[""].nodes
    glue = max_boxes is not None and len(loose) > max_boxes // 2
    units = _components(nodes, loose) if glue else [[j] for j in loose]

    def signature(key: str) -> tuple[str, frozenset[tuple[str, int]]] | None:
        g = groups[key]
        return (g.cls, frozenset(g.ops.items())) if g.size >= 2 else None

    def runs(children: list[str]) -> list[str]:
        """Child groups, with runs of identical siblings (same class and ops: blocks.0, blocks.1...) as one item."""
        out, i = [], 0
        while i < len(children):
            j = i + 1
            while (
                j < len(children)
                and signature(children[i]) is not None
                and (signature(children[j]) == signature(children[i]))
            ):
                j += 1
            out.append(f"g:{children[i]}" if j - i == 1 else "r:" + "|".join(children[i:j]))
            i = j
        return out

    def members(item: str) -> list[str]:
        """What an item opens into; a repeat (``r:K1|K2``) opens its blocks' insides, level with its peers."""
        if item.startswith("r:"):
            return [m for k in item[2:].split("|") for m in members(f"g:{k}")]
        key = item[2:]
        g = groups[key]
        if key == "":
            return runs(g.children) + [f"u:{k}" for k in range(len(units))]
        return runs(g.children) + [f"n:{j}" for j in g.nodes]

    def size(item: str) -> int:
        return sum(groups[k].size for k in item[2:].split("|"))

    if max_boxes is None:
        shown = [f"n:{j}" for j in range(len(nodes))]
    else:
        shown = members("g:")
        while True:
            closed = [b for b in shown if b[:2] in ("g:", "r:")]
            opened = len(shown) - len(closed) + sum(len(members(b)) for b in closed)
            if closed and opened <= max_boxes:
                shown = [m for b in shown for m in (members(b) if b in closed else [b])]
                continue
            for item in sorted(closed, key=lambda b: -size(b)):
                inner = members(item)
                if len(shown) - 1 + len(inner) <= max(max_boxes // 3, 1):
                    at = shown.index(item)
                    shown[at : at + 1] = inner
            break

    owner: dict[int, str] = {}  # node position -> shown item
    repeat_of = {k: item for item in shown if item.startswith("r:") for k in item[2:].split("|")}
    for box_id in shown:
        if box_id.startswith("n:"):
            owner[int(box_id[2:])] = box_id
        elif box_id.startswith("u:"):
            for j in units[int(box_id[2:])]:
                owner[j] = "g:" if glue else f"n:{j}"
    for j, node in enumerate(nodes):
        if j not in owner:
            owner[j] = next(
                f"g:{k}" if f"g:{k}" in shown else repeat_of[k]
                for k in reversed(node.scope)
                if f"g:{k}" in shown or k in repeat_of
            )
    boxes = _split_components(nodes, owner)
    parallel = {b.split("#")[0] for b in boxes.values() if b.startswith("r:") and "#" in b}
    if parallel:  # identical blocks side by side (two heads), not one after another: draw each block
        for j, node in enumerate(nodes):
            if owner[j] in parallel:
                owner[j] = next(f"g:{k}" for k in node.scope if k in owner[j][2:].split("|"))
        boxes = _split_components(nodes, owner)

    def box_of(j: int) -> str:
        return boxes[j]

    by_box: dict[str, list[int]] = {}
    for j in range(len(nodes)):
        by_box.setdefault(box_of(j), []).append(j)
    made: dict[str, Box] = {}
    for box_id, members_ in by_box.items():
        key = box_id.split("#")[0]
        ops = Counter(nodes[j].op for j in members_)
        if len(members_) == 1:
            node = nodes[members_[0]]
            label = groups[key[2:]].label if key.startswith("g:") and key != "g:" else _legacy_label(node.name)
            made[box_id] = Box(box_id, "node", node.op, label, op=node.op, nodes=1)
        elif key == "g:":
            made[box_id] = Box(box_id, "chain", f"{len(members_)} ops", _op_mix(ops), nodes=len(members_))
        elif key.startswith("r:"):
            keys = key[2:].split("|")
            first, last = groups[keys[0]], groups[keys[-1]]
            title = f"{first.label} … {last.label}" + (f" ({first.cls})" if first.cls else "")
            detail = f"×{len(keys)}: {_op_mix(first.ops)}"
            made[box_id] = Box(box_id, "group", title, detail, nodes=len(members_))
        else:
            g = groups[key[2:]]
            title = f"{g.label} ({g.cls})" if g.cls else g.label
            made[box_id] = Box(box_id, "group", title, _op_mix(ops), nodes=len(members_))
    order = sorted(made, key=lambda b: min(by_box[b]))
    owner = {j: box_of(j) for j in range(len(nodes))}

    summary = GraphSummary(graph.name or "graph", total_nodes=len(nodes))
    producer: dict[str, str] = {}
    initializers = {t.name for t in graph.initializer}
    for value in graph.input:
        if value.name in initializers:
            continue
        box = Box(f"i:{value.name}", "input", value.name, _dtype_shape(value), nodes=0)
        summary.boxes.append(box)
        producer[value.name] = box.id
    summary.boxes.extend(made[b] for b in order)
    for j, node in enumerate(nodes):
        for name in node.outputs:
            producer[name] = owner[j]
    seen: set[tuple[str, str]] = set()

    def connect(source: str, target: str, tensor: str) -> None:
        if source != target and (source, target) not in seen:
            seen.add((source, target))
            summary.edges.append(Edge(source, target, shapes.get(tensor, "")))

    for j, node in enumerate(nodes):
        for name in node.inputs:
            if name in producer and name not in constants:
                connect(producer[name], owner[j], name)
    for value in graph.output:
        box = Box(f"o:{value.name}", "output", value.name, _dtype_shape(value), nodes=0)
        summary.boxes.append(box)
        if value.name in producer:
            connect(producer[value.name], box.id, value.name)
    if max_boxes is not None and len(summary.boxes) > max_boxes:
        _merge_chains(summary)
    return summary


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
        head = box.id
        starts_chain = head in mergeable and not (
            len(pred[head]) == 1 and pred[head][0] in mergeable and len(succ[pred[head][0]]) == 1
        )
        if not starts_chain:
            new_boxes.append(box)
            continue
        chain = [head]
        while len(succ[chain[-1]]) == 1:
            nxt = succ[chain[-1]][0]
            if nxt not in mergeable or len(pred[nxt]) != 1:
                break
            chain.append(nxt)
        if len(chain) < 3:
            new_boxes.append(box)
            continue
        ops: Counter[str] = Counter()
        for b in chain:
            member = by_id[b]
            if member.kind == "node":
                ops[member.op] += 1
            else:
                for part in member.detail.split():
                    op, _, n = part.partition("×")
                    if op != "…":
                        ops[op] += int(n or 1)
        count = sum(by_id[b].nodes for b in chain)
        first, last = by_id[chain[0]], by_id[chain[-1]]
        title = f"{count} nodes: {first.title.split(' (')[0]} … {last.title.split(' (')[0]}"
        new = Box(f"c:{head}", "chain", title, _op_mix(ops), nodes=count)
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


def _qualified(parts: list[str]) -> list[str]:
    """Legacy scope parts to module paths: ``[features, features.1, block, block.0]`` ->
    ``[features, features.1, features.1.block, features.1.block.0]`` (a part may already repeat its parent)."""
    out: list[str] = []
    for i, part in enumerate(parts):
        if not out:
            out.append(part)
        elif part.startswith(parts[i - 1] + "."):
            out.append(out[-1][: len(out[-1]) - len(parts[i - 1])] + part)
        else:
            out.append(f"{out[-1]}.{part}")
    return out


def _legacy_label(name: str) -> str:
    """``/layer1/layer1.0/conv1/Conv`` -> ``conv1``: the module of a legacy-exported node."""
    parts = [p for p in name.split("/") if p]
    return parts[-2] if name.startswith("/") and len(parts) > 1 else ""


def _components(nodes: list[_Node], members: list[int]) -> list[list[int]]:
    """Connected components (through edges among ``members`` only), each in node order, ordered by first node."""
    owner = {j: "x" if j in set(members) else f"other{j}" for j in range(len(nodes))}
    split = _split_components(nodes, owner)
    comps: dict[str, list[int]] = {}
    for j in members:
        comps.setdefault(split[j], []).append(j)
    return list(comps.values())


def _split_components(nodes: list[_Node], owner: dict[int, str]) -> dict[int, str]:
    """Box id per node: nodes of one owner that are not connected (a module called twice) get separate boxes."""
    parent = list(range(len(nodes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    producer = {name: j for j, n in enumerate(nodes) for name in n.outputs}
    for j, n in enumerate(nodes):
        for name in n.inputs:
            k = producer.get(name)
            if k is not None and owner[k] == owner[j]:
                parent[find(j)] = find(k)
    roots: dict[str, list[int]] = {}
    out = {}
    for j in range(len(nodes)):
        root = find(j)
        seen = roots.setdefault(owner[j], [])
        if root not in seen:
            seen.append(root)
        index = seen.index(root)
        out[j] = owner[j] if index == 0 else f"{owner[j]}#{index}"
    return out
