"""A static SVG picture of an ONNX graph, laid out by pt2trt itself (no Graphviz, no browser).

The layout is the classic layered one (Sugiyama): boxes on layers by longest path from the inputs, long edges
routed through invisible points on the layers between, box order within a layer by repeated barycentre sweeps
(fewer crossings), then x positions pulled towards the neighbours' and pushed apart so boxes never overlap. Edges
are smooth curves with the tensor shape written beside them. Pure Python: ``pt2trt view --svg`` works wherever
pt2trt installs.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from pt2trt.view.graph_summary import DEFAULT_MAX_BOXES, Box, GraphSummary, summarize_graph

if TYPE_CHECKING:
    from pt2trt.onnx.model import ModelLike

FONT = 12
CHAR_W = 7.0  # generous average glyph width of a sans-serif font at 12 px
LINE_H = 15
PAD_X, PAD_Y = 10, 6
GAP_X, GAP_Y = 28, 46
MARGIN = 24

_COLOURS = {
    "conv": ("#dbeafe", "#3b82f6"),
    "activation": ("#fee2e2", "#ef4444"),
    "pool": ("#dcfce7", "#22c55e"),
    "norm": ("#fef9c3", "#ca8a04"),
    "math": ("#ede9fe", "#8b5cf6"),
    "shape": ("#f3f4f6", "#6b7280"),
    "other": ("#ffffff", "#6b7280"),
    "group": ("#e0f2fe", "#0369a1"),
    "chain": ("#f1f5f9", "#334155"),
    "io": ("#fde68a", "#b45309"),
}
_CATEGORIES = {
    "conv": {"Conv", "ConvTranspose", "Gemm", "MatMul", "QLinearConv", "QLinearMatMul", "Einsum"},
    "activation": {
        "Relu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "Clip", "Softmax", "LogSoftmax", "Gelu",
        "Elu", "Selu", "PRelu", "Mish", "Softplus", "Erf",
    },
    "pool": {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Resize", "Upsample", "ReduceMean"},
    "norm": {"BatchNormalization", "LayerNormalization", "InstanceNormalization", "GroupNormalization"},
    "math": {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Max", "Min", "Sum", "Neg", "Abs"},
    "shape": {
        "Reshape", "Transpose", "Concat", "Split", "Slice", "Gather", "GatherND", "GatherElements", "Flatten",
        "Squeeze", "Unsqueeze", "Shape", "Cast", "Expand", "Tile", "Identity", "Pad", "ConstantOfShape", "Range",
    },
}  # fmt: skip


def _colour(box: Box) -> tuple[str, str]:
    if box.kind in ("input", "output"):
        return _COLOURS["io"]
    if box.kind in ("group", "chain"):
        return _COLOURS[box.kind]
    for category, ops in _CATEGORIES.items():
        if box.op in ops:
            return _COLOURS[category]
    return _COLOURS["other"]


@dataclass
class _Placed:
    x: float  # centre
    y: float  # top
    w: float
    h: float


def _size(box: Box) -> tuple[float, float]:
    lines = box.lines
    width = max(len(line) for line in lines) * CHAR_W + 2 * PAD_X
    return max(width, 56.0), len(lines) * LINE_H + 2 * PAD_Y


def layout(summary: GraphSummary) -> tuple[dict[str, _Placed], list[list[str]], dict[tuple[str, str], list[str]]]:
    """Positions of the boxes, the layers (with dummy points ``~N``) and each edge's chain of points."""
    ids = [b.id for b in summary.boxes]
    sizes = {b.id: _size(b) for b in summary.boxes}
    succ: dict[str, list[str]] = defaultdict(list)
    for e in summary.edges:
        succ[e.source].append(e.target)
    # break cycles (possible once nodes are grouped): drop edges back to a box on the current DFS path
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in ids:
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    edges = [(e.source, e.target) for e in summary.edges if (e.source, e.target) not in back]
    edges += [(t, s) for s, t in back]
    preds: dict[str, list[str]] = defaultdict(list)
    succ = defaultdict(list)
    for s, t in edges:
        succ[s].append(t)
        preds[t].append(s)
    # layers: longest path from the sources, in topological order
    layer: dict[str, int] = {}
    indeg = {i: len(preds[i]) for i in ids}
    queue = [i for i in ids if indeg[i] == 0]
    while queue:
        node = queue.pop(0)
        layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
        for t in succ[node]:
            indeg[t] -= 1
            if indeg[t] == 0:
                queue.append(t)
    # outputs sit on the last layer
    last = max(layer.values(), default=0)
    for b in summary.boxes:
        if b.kind == "output" and not succ[b.id]:
            layer[b.id] = max(layer[b.id], last)
    layers: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for i in ids:
        layers[layer[i]].append(i)
    # long edges through dummy points
    routes: dict[tuple[str, str], list[str]] = {}
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    dummy = 0
    for s, t in edges:
        chain = [s]
        for level in range(layer[s] + 1, layer[t]):
            d = f"~{dummy}"
            dummy += 1
            layers[level].append(d)
            sizes[d] = (8.0, LINE_H)
            chain.append(d)
        chain.append(t)
        routes[(s, t)] = chain
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)
    # order: barycentre sweeps, keeping the order with the fewest crossings
    pos = {n: i for lay in layers for i, n in enumerate(lay)}

    def crossings() -> int:
        total = 0
        for lay in layers:
            pairs = sorted((pos[a], pos[b]) for a in lay for b in down[a])
            for i in range(len(pairs)):
                for j in range(i + 1, len(pairs)):
                    if pairs[j][1] < pairs[i][1] and pairs[j][0] > pairs[i][0]:
                        total += 1
        return total

    best, best_cross = [list(lay) for lay in layers], crossings()
    for sweep in range(12):
        order = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        for level in order:
            neighbours = up if sweep % 2 == 0 else down

            def centre(n: str, nb: dict[str, list[str]] = neighbours) -> float:
                return sum(pos[m] for m in nb[n]) / len(nb[n]) if nb[n] else pos[n]

            layers[level].sort(key=centre)
            for i, n in enumerate(layers[level]):
                pos[n] = i
        cross = crossings()
        if cross < best_cross:
            best, best_cross = [list(lay) for lay in layers], cross
        if best_cross == 0:
            break
    layers = best
    # x: pack, then pull towards neighbours and push apart, a few rounds
    x: dict[str, float] = {}
    for lay in layers:
        cursor = 0.0
        for n in lay:
            w = sizes[n][0]
            x[n] = cursor + w / 2
            cursor += w + GAP_X
    for rnd in range(41):  # sweeps down (centre under the parents) and up (centre over the children), ending down
        downward = rnd % 2 == 0
        for lay in layers if downward else reversed(layers):
            for n in lay:
                nb = up[n] if downward else down[n]
                if nb:
                    x[n] = sum(x[m] for m in nb) / len(nb)
            for i in range(1, len(lay)):  # push right
                a, b = lay[i - 1], lay[i]
                least = x[a] + (sizes[a][0] + sizes[b][0]) / 2 + GAP_X
                if x[b] < least:
                    x[b] = least
            for i in range(len(lay) - 2, -1, -1):  # and back left, so the row stays centred on its wishes
                a, b = lay[i], lay[i + 1]
                most = x[b] - (sizes[a][0] + sizes[b][0]) / 2 - GAP_X
                if x[a] > most:
                    x[a] = most
    left = min((x[n] - sizes[n][0] / 2 for n in x), default=0.0)
    placed: dict[str, _Placed] = {}
    y = float(MARGIN)
    for lay in layers:
        height = max((sizes[n][1] for n in lay), default=LINE_H)
        for n in lay:
            w, h = sizes[n]
            placed[n] = _Placed(x[n] - left + MARGIN, y + (height - h) / 2, w, h)
        y += height + GAP_Y
    return placed, layers, routes


def render(summary: GraphSummary, title: str | None = None) -> str:
    """The SVG document for ``summary``."""
    placed, _, routes = layout(summary)
    width = max((p.x + p.w / 2 for p in placed.values()), default=0) + MARGIN
    if title:
        width = max(width, len(title) * CHAR_W * 14 / FONT + 2 * MARGIN)
    height = max((p.y + p.h for p in placed.values()), default=0) + MARGIN
    top = 0.0
    out: list[str] = []
    if title:
        top = 28.0
        out.append(f'<text x="{MARGIN}" y="20" class="title">{escape(title)}</text>')
    labels = {(e.source, e.target): e.label for e in summary.edges}
    written: set[tuple[str, str]] = set()
    for (s, t), chain in routes.items():
        points = []
        for k, n in enumerate(chain):
            p = placed[n]
            if k == 0:
                points.append((p.x, p.y + p.h))
            elif k == len(chain) - 1:
                points.append((p.x, p.y))
            else:
                points += [(p.x, p.y), (p.x, p.y + p.h)]
        path = f"M{points[0][0]:.1f},{points[0][1] + top:.1f}"
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            mid = (y0 + y1) / 2
            path += f" C{x0:.1f},{mid + top:.1f} {x1:.1f},{mid + top:.1f} {x1:.1f},{y1 + top:.1f}"
        reverse = (t, s) in labels and (s, t) not in labels
        label = labels.get((s, t)) or labels.get((t, s), "")
        marker = "marker-start" if reverse else "marker-end"
        out.append(f'<path d="{path}" class="edge" {marker}="url(#arrow)"/>')
        if label and (s, label) not in written:
            written.add((s, label))
            lx, ly = points[0][0] + 4, points[0][1] + 12 + top
            out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" class="shape">{escape(label)}</text>')
    for box in summary.boxes:
        p = placed[box.id]
        fill, stroke = _colour(box)
        rx = p.h / 2 if box.kind in ("input", "output") else 5
        cls = "box group" if box.kind in ("group", "chain") else "box"
        out.append(
            f'<g class="{cls}" data-kind="{box.kind}" data-nodes="{box.nodes}"><title>{escape(box.id[2:])}</title>'
            f'<rect x="{p.x - p.w / 2:.1f}" y="{p.y + top:.1f}" width="{p.w:.1f}" height="{p.h:.1f}" rx="{rx:.1f}" '
            f'fill="{fill}" stroke="{stroke}"/>'
        )
        for k, line in enumerate(box.lines):
            cls_text = "name" if k == 0 else "detail"
            ty = p.y + top + PAD_Y + LINE_H * (k + 1) - 3
            out.append(f'<text x="{p.x:.1f}" y="{ty:.1f}" class="{cls_text}">{escape(line)}</text>')
        out.append("</g>")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height + top:.0f}" '
        f'viewBox="0 0 {width:.0f} {height + top:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="{FONT}">\n'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>\n'
        "<style>.edge{fill:none;stroke:#475569;stroke-width:1.2}.name{text-anchor:middle;fill:#0f172a}"
        ".group .name{font-weight:bold}.detail{text-anchor:middle;fill:#475569;font-size:11px}"
        ".shape{fill:#64748b;font-size:10px}.title{font-size:14px;font-weight:bold;fill:#0f172a}</style>\n"
        '<rect width="100%" height="100%" fill="#ffffff"/>\n'
    )
    return head + "\n".join(out) + "\n</svg>\n"


@dataclass
class SvgResult:
    path: Path
    boxes: int
    nodes: int
    size_bytes: int

    def closing_line(self) -> str:
        return f"wrote {self.path}: {self.nodes} nodes drawn as {self.boxes} boxes ({self.size_bytes / 1000:.1f} KB)"


def write_svg(
    model: ModelLike, output: str | Path, *, max_boxes: int | None = DEFAULT_MAX_BOXES, force: bool = False
) -> SvgResult:
    """Draw ``model`` (a handle or a path) into the SVG file ``output`` (atomically; an existing file only with
    ``force``)."""
    from pt2trt.errors import UsageError
    from pt2trt.files import check_writable, publish, staging_dir
    from pt2trt.onnx.model import OnnxModel

    out = check_writable(output, force=force)
    if out.suffix.lower() != ".svg":
        raise UsageError(f"output {out} does not end in .svg", "Name the picture like model.svg")
    if max_boxes is not None and max_boxes < 3:
        raise UsageError(f"--max-boxes must be at least 3, got {max_boxes}", "Pass --max-boxes 3 or more")
    handle = OnnxModel.of(model)
    summary = summarize_graph(handle.proto, max_boxes)
    text = render(summary, title=f"{handle.name}: {summary.total_nodes} nodes")
    with staging_dir(out) as tmp:
        staged = tmp / out.name
        staged.write_text(text, encoding="utf-8")
        publish(staged, out, replace=force)
    return SvgResult(out, len(summary.boxes), summary.total_nodes, len(text.encode("utf-8")))
