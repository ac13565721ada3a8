"""Graph surgery on ONNX models, one small function per edit, built on onnx-graphsurgeon.

Every edit takes a ModelProto and its parameters and returns the edited ModelProto plus a :class:`Verification` that
says how to prove the edit did what it claims (same outputs, renamed outputs, outputs of a transformed input, ...),
or ``None`` for edits that change the model's meaning on purpose. :data:`EDITS` registers them all: the table drives
the CLI flags of ``pt2trt edit``, the keys of a recipe and the order flags are applied in.

The model-level wrapper (:func:`on_graph`) imports the graph with ``gs.import_onnx`` after shape inference, runs the
edit, then ``cleanup().toposort()`` and exports, keeping what graphsurgeon does not carry (metadata, doc string).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed
from pt2trt.preprocess import IMAGENET_MEAN, IMAGENET_STD

if TYPE_CHECKING:
    import onnx
    import onnx_graphsurgeon as gs


@dataclass
class Verification:
    """How to check an edit with ONNX Runtime: reference = model before, candidate = model after.

    ``input_map``/``output_map`` rename reference names to candidate names; ``feed_from_candidate`` builds the
    reference feed from a candidate feed (the candidate's inputs drive the cases); ``expected_outputs`` turns the
    reference outputs into the candidate's expected outputs; ``mode`` selects a special check (``batch``: the
    reference is run sample by sample, ``extract``: the candidate is fed the reference's intermediate tensors).
    """

    input_map: dict[str, str] = field(default_factory=dict)
    output_map: dict[str, str] = field(default_factory=dict)
    feed_from_candidate: Callable[[Feed], Feed] | None = None
    expected_outputs: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None
    only_reference_outputs: bool = False
    mode: str = "same"
    extract: tuple[list[str], list[str]] | None = None


EditFn = Callable[["onnx.ModelProto", Any], "tuple[onnx.ModelProto, Verification | None, str]"]


# -- graphsurgeon plumbing -------------------------------------------------------------------------------------------


def import_graph(model: onnx.ModelProto) -> gs.Graph:
    """``gs.import_onnx`` after shape inference, so intermediate tensors carry dtypes and shapes."""
    import onnx
    import onnx_graphsurgeon as gs

    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:
        pass  # custom ops: work with what is known
    return gs.import_onnx(model)


def export_graph(graph: gs.Graph, like: onnx.ModelProto) -> onnx.ModelProto:
    """Clean up, sort and export ``graph``, carrying over the model-level fields graphsurgeon drops."""
    import onnx
    import onnx_graphsurgeon as gs

    graph.cleanup(remove_unused_graph_inputs=False).toposort()
    model = gs.export_onnx(graph)
    model.ir_version = like.ir_version
    model.producer_name, model.producer_version = like.producer_name, like.producer_version
    model.doc_string, model.model_version, model.domain = like.doc_string, like.model_version, like.domain
    model.metadata_props.extend(like.metadata_props)
    model.graph.ClearField("value_info")  # stale after edits; shape inference fills it again
    domains = {o.domain for o in model.opset_import}
    for node in model.graph.node:
        if node.domain not in domains and node.domain != "ai.onnx":
            model.opset_import.append(onnx.helper.make_opsetid(node.domain, 1))
            domains.add(node.domain)
    return model


def on_graph(
    fn: Callable[[gs.Graph, Any], tuple[Verification | None, str]],
) -> Callable[[onnx.ModelProto, Any], tuple[onnx.ModelProto, Verification | None, str]]:
    """Lift an edit over a ``gs.Graph`` to one over a ModelProto."""

    @functools.wraps(fn)
    def wrapper(model: onnx.ModelProto, params: Any) -> tuple[onnx.ModelProto, Verification | None, str]:
        graph = import_graph(model)
        verification, description = fn(graph, params)
        return export_graph(graph, model), verification, description

    return wrapper


def _names(items: Sequence[Any]) -> str:
    return ", ".join(t.name for t in items) or "none"


def _find(tensors: Sequence[gs.Variable], name: str | None, kind: str) -> gs.Variable:
    """The graph ``kind`` (input/output) called ``name``, the first one when None."""
    if name is None:
        if not tensors:
            raise Pt2trtError(f"the model has no {kind}s")
        return tensors[0]
    for t in tensors:
        if t.name == name:
            return t
    raise Pt2trtError(f"the model has no {kind} '{name}'", f"{kind.capitalize()}s are: {_names(tensors)}")


def find_input(graph: gs.Graph, name: str | None) -> gs.Variable:
    """The graph input ``name`` (the first input when None)."""
    return _find(graph.inputs, name, "input")


def find_output(graph: gs.Graph, name: str | None) -> gs.Variable:
    """The graph output ``name`` (the first output when None)."""
    return _find(graph.outputs, name, "output")


def find_tensor(graph: gs.Graph, name: str) -> gs.Tensor:
    tensors = graph.tensors()
    if name not in tensors:
        close = _close_matches(name, list(tensors))
        raise Pt2trtError(
            f"the model has no tensor '{name}'",
            f"Did you mean {close}?" if close else "List them with `pt2trt inspect --nodes`",
        )
    return tensors[name]


def find_node(graph: gs.Graph, name: str) -> gs.Node:
    for node in graph.nodes:
        if node.name == name:
            return node
    close = _close_matches(name, [n.name for n in graph.nodes])
    raise Pt2trtError(
        f"the model has no node '{name}'",
        f"Did you mean {close}?" if close else "List them with `pt2trt inspect --nodes`",
    )


def _close_matches(name: str, choices: Sequence[str]) -> str:
    import difflib

    return ", ".join(repr(c) for c in difflib.get_close_matches(name, choices, n=3))


def _unused_name(graph: gs.Graph, base: str) -> str:
    tensors = graph.tensors()
    names = set(tensors) | {n.name for n in graph.nodes}
    if base not in names:
        return base
    i = 1
    while f"{base}_{i}" in names:
        i += 1
    return f"{base}_{i}"


def redirect_consumers(graph: gs.Graph, old: gs.Tensor, new: gs.Tensor, *, skip: gs.Node | None = None) -> None:
    """Make every reader of ``old`` (nodes except ``skip``, and the graph outputs) read ``new`` instead."""
    for node in list(old.outputs):
        if node is skip:
            continue
        for i, t in enumerate(node.inputs):
            if t is old:
                node.inputs[i] = new
    graph.outputs = [new if t is old else t for t in graph.outputs]


def take_over_name(graph: gs.Graph, old: gs.Tensor, new: gs.Tensor, suffix: str) -> None:
    """When ``old`` was a graph output, ``new`` takes its name (the interface stays) and ``old`` is renamed."""
    if any(t is new for t in graph.outputs):
        name = old.name
        old.name = _unused_name(graph, f"{name}_{suffix}")
        new.name = name


def constant(graph: gs.Graph, base: str, value: Any, dtype: Any = None) -> gs.Constant:
    import onnx_graphsurgeon as gs

    return gs.Constant(_unused_name(graph, base), np.asarray(value, dtype=dtype))


def parse_pairs(value: Any) -> dict[str, str]:
    """Rename parameters: ``OLD=NEW`` strings, lists of them, or a mapping."""
    return _pairs(value, "rename")


def _pairs(value: Any, what: str) -> dict[str, str]:
    """``OLD=NEW`` strings, lists of them, or a mapping -> ``{old: new}``."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    items = [value] if isinstance(value, str) else list(value)
    out = {}
    for item in items:
        old, sep, new = str(item).partition("=")
        if not sep or not old or not new:
            raise UsageError(f"malformed {what} '{item}'", "Expected OLD=NEW")
        out[old] = new
    return out


def _options(text: str) -> dict[str, str]:
    """``key=value,key=value`` -> dict (values stay strings)."""
    out = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"malformed option '{item}'", "Expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _floats(value: Any, what: str) -> tuple[float, ...]:
    items = value if isinstance(value, list | tuple) else re.split(r"[,/ ]+", str(value).strip())
    try:
        return tuple(float(v) for v in items if v != "")
    except ValueError:
        raise UsageError(f"{what} must be numbers, got '{value}'") from None


# -- renames ---------------------------------------------------------------------------------------------------------


@on_graph
def rename_inputs(graph: gs.Graph, names: dict[str, str]) -> tuple[Verification, str]:
    """Rename graph inputs ``{old: new}``."""
    _rename(graph, names, graph.inputs, "input")
    return Verification(input_map=dict(names)), "renamed input " + ", ".join(f"{a} -> {b}" for a, b in names.items())


@on_graph
def rename_outputs(graph: gs.Graph, names: dict[str, str]) -> tuple[Verification, str]:
    """Rename graph outputs ``{old: new}``."""
    _rename(graph, names, graph.outputs, "output")
    return Verification(output_map=dict(names)), "renamed output " + ", ".join(f"{a} -> {b}" for a, b in names.items())


def _rename(graph: gs.Graph, names: dict[str, str], tensors: Sequence[gs.Tensor], kind: str) -> None:
    existing = graph.tensors()
    by_name = {t.name: t for t in tensors}
    for old, new in names.items():
        if old not in by_name:
            raise Pt2trtError(f"the model has no {kind} '{old}'", f"{kind.capitalize()}s are: {_names(tensors)}")
        if new in existing and new != old:
            raise Pt2trtError(f"cannot rename {kind} '{old}' to '{new}': a tensor of that name exists")
        by_name[old].name = new


# -- shapes ----------------------------------------------------------------------------------------------------------


def _fix_batch_constants(graph: gs.Graph, old_batch: int) -> int:
    """Reshape targets that hard-code the batch size (``[1, 512]``) read it from their input instead (``[0, 512]``)."""
    import onnx_graphsurgeon as gs

    fixed = 0
    for node in graph.nodes:
        if node.op != "Reshape" or len(node.inputs) < 2 or not isinstance(node.inputs[1], gs.Constant):
            continue
        target = np.array(node.inputs[1].values)
        if target.ndim != 1 or target.size == 0 or target[0] != old_batch or 0 in target:
            continue
        target = target.copy()
        target[0] = 0
        node.inputs[1] = constant(graph, f"{node.name or 'reshape'}_shape", target, np.int64)
        node.attrs["allowzero"] = 0  # 0 copies the input's dim (the target held no literal 0, so allowzero is moot)
        fixed += 1
    return fixed


@on_graph
def dynamic_batch(graph: gs.Graph, enabled: bool = True) -> tuple[Verification | None, str]:
    """Make dim 0 of every input and output a symbolic ``batch``; Reshapes that hard-code it follow the input."""
    if not enabled:
        return None, "dynamic batch not requested"
    old = {t.shape[0] for t in graph.inputs if t.shape and isinstance(t.shape[0], int)}
    if not old:
        raise Pt2trtError("no input has a fixed batch axis to make dynamic", "The batch axis is dynamic already")
    if len(old) > 1:
        raise Pt2trtError(f"inputs disagree on the batch size ({sorted(old)})", "Use --dynamic NAME:AXIS per input")
    (batch,) = old
    for t in [*graph.inputs, *graph.outputs]:
        if t.shape and t.shape[0] == batch:
            t.shape = ["batch", *t.shape[1:]]
    fixed = _fix_batch_constants(graph, batch)
    note = f", {fixed} Reshape target(s) made batch-agnostic" if fixed else ""
    return Verification(mode="batch"), f"made the batch axis dynamic (was {batch}){note}"


@on_graph
def dynamic_axes(graph: gs.Graph, specs: list[tuple[str, int, str | None]]) -> tuple[Verification, str]:
    """Make axes of inputs dynamic: ``[(input, axis, label or None)]``."""
    done = []
    for name, axis, label in specs:
        t = find_input(graph, name)
        if not t.shape or not -len(t.shape) <= axis < len(t.shape):
            raise Pt2trtError(f"input '{name}' has no axis {axis}", f"Its shape is {t.shape}")
        shape = list(t.shape)
        shape[axis] = label or ("batch" if axis % len(shape) == 0 else f"{name}_dim{axis % len(shape)}")
        t.shape = shape
        done.append(f"{name}[{axis}]={shape[axis]}")
    for t in graph.outputs:  # output shapes are re-inferred from the new inputs
        t.shape = None
    return Verification(), "made dynamic: " + ", ".join(done)


@on_graph
def fix_batch(graph: gs.Graph, batch: int) -> tuple[Verification, str]:
    """Set dim 0 of every input (and output) to ``batch``: fixes a dynamic batch axis, or changes a static one."""
    if batch < 1:
        raise UsageError(f"batch size must be at least 1, got {batch}")
    old = {t.shape[0] for t in graph.inputs if t.shape}
    static = {b for b in old if isinstance(b, int)}
    for t in graph.inputs:
        if t.shape:
            t.shape = [batch, *t.shape[1:]]
    for t in graph.outputs:
        if t.shape and t.shape[0] in old:
            t.shape = [batch, *t.shape[1:]]
    if len(static) == 1 and static != {batch}:
        _fix_batch_constants(graph, next(iter(static)))
    was = ", ".join(str(b) for b in sorted(old, key=str)) or "?"
    return Verification(mode="batch"), f"fixed the batch size to {batch} (was {was})"


# -- uint8 NHWC input with the normalisation inside ------------------------------------------------------------------


@dataclass(frozen=True)
class Uint8Input:
    input: str | None = None
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    scale: float = 255.0

    def normalise(self, images: np.ndarray) -> np.ndarray:
        """What the edited graph computes, in numpy: uint8 NHWC -> normalised float32 NCHW."""
        x = images.astype(np.float32) / np.float32(self.scale)
        x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)


def parse_uint8(value: Any) -> Uint8Input:
    """``true`` | ``NAME`` | ``NAME:mean=a,b,c:std=a,b,c:scale=255`` | a mapping with those keys."""
    if value is True or value is None or value == "":
        return Uint8Input()
    if isinstance(value, Mapping):
        data = dict(value)
    else:
        parts = str(value).split(":")
        data = {"input": parts[0] or None}
        for part in parts[1:]:
            key, sep, val = part.partition("=")
            if not sep:
                raise UsageError(f"malformed --uint8-nhwc option '{part}'", "Expected mean=..., std=... or scale=...")
            data[key.strip()] = val
    unknown = set(data) - {"input", "mean", "std", "scale"}
    if unknown:
        raise UsageError(f"unknown uint8_nhwc option(s) {', '.join(sorted(unknown))}", "Use input, mean, std, scale")
    spec = Uint8Input(
        input=data.get("input"),
        mean=_floats(data["mean"], "mean") if "mean" in data else IMAGENET_MEAN,
        std=_floats(data["std"], "std") if "std" in data else IMAGENET_STD,
        scale=float(data.get("scale", 255.0)),
    )
    if len(spec.mean) != len(spec.std):
        raise UsageError(f"mean has {len(spec.mean)} values but std has {len(spec.std)}")
    if any(s == 0 for s in spec.std) or spec.scale == 0:
        raise UsageError("std and scale must not be 0")
    return spec


@on_graph
def uint8_nhwc(graph: gs.Graph, spec: Uint8Input) -> tuple[Verification, str]:
    """Replace a float NCHW image input by a uint8 NHWC one; Cast, Transpose and (x/scale - mean)/std run in-graph."""
    import onnx_graphsurgeon as gs

    old = find_input(graph, spec.input)
    if old.dtype is None or np.dtype(old.dtype) not in (np.float32, np.float16):
        raise Pt2trtError(f"input '{old.name}' is {old.dtype}, not a float image", "Choose a float NCHW input")
    if not old.shape or len(old.shape) != 4 or not isinstance(old.shape[1], int):
        raise Pt2trtError(
            f"input '{old.name}' has shape {old.shape}, not N x C x H x W with a fixed C", "Choose an NCHW image input"
        )
    channels = old.shape[1]
    if len(spec.mean) not in (1, channels):
        raise Pt2trtError(f"input '{old.name}' has {channels} channels but {len(spec.mean)} mean/std values")
    name = old.name
    n, c, h, w = old.shape
    new = gs.Variable(name, dtype=np.uint8, shape=[n, h, w, c])
    old.name = _unused_name(graph, f"{name}_normalised")
    mean = np.asarray(spec.mean, np.float64).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, np.float64).reshape(1, -1, 1, 1)
    # (x/scale - mean)/std == x * (1/(scale*std)) + (-mean/std): one Mul and one Add, folded constants
    mul = (1.0 / (spec.scale * std)).astype(np.dtype(old.dtype))
    add = (-mean / std).astype(np.dtype(old.dtype))
    as_float = gs.Variable(_unused_name(graph, f"{name}_float"), dtype=np.dtype(old.dtype), shape=[n, h, w, c])
    nchw = gs.Variable(_unused_name(graph, f"{name}_nchw"), dtype=np.dtype(old.dtype), shape=[n, c, h, w])
    scaled = gs.Variable(_unused_name(graph, f"{name}_scaled"), dtype=np.dtype(old.dtype), shape=[n, c, h, w])
    to = 1 if np.dtype(old.dtype) == np.float32 else 10  # TensorProto.FLOAT / FLOAT16
    graph.nodes += [
        gs.Node("Cast", f"{name}_cast", {"to": to}, [new], [as_float]),
        gs.Node("Transpose", f"{name}_to_nchw", {"perm": [0, 3, 1, 2]}, [as_float], [nchw]),
        gs.Node("Mul", f"{name}_scale", inputs=[nchw, constant(graph, f"{name}_mul", mul)], outputs=[scaled]),
        gs.Node("Add", f"{name}_shift", inputs=[scaled, constant(graph, f"{name}_add", add)], outputs=[old]),
    ]
    graph.inputs = [new if t is old else t for t in graph.inputs]

    def reference_feed(feed: Feed) -> Feed:
        out = dict(feed)
        out[name] = spec.normalise(out[name]).astype(np.dtype(old.dtype))
        return out

    mean_text = ",".join(f"{m:g}" for m in spec.mean)
    std_text = ",".join(f"{s:g}" for s in spec.std)
    return (
        Verification(feed_from_candidate=reference_feed),
        f"input '{name}' is now uint8 NHWC {new.shape}; in-graph (x/{spec.scale:g} - [{mean_text}]) / [{std_text}]",
    )


# -- nodes -----------------------------------------------------------------------------------------------------------


@on_graph
def remove_nodes(graph: gs.Graph, names: list[str]) -> tuple[None, str]:
    """Remove nodes and reconnect: readers of a removed node's output read its (first non-constant) input."""
    import onnx_graphsurgeon as gs

    for name in names:
        node = find_node(graph, name)
        data = [t for t in node.inputs if isinstance(t, gs.Variable)]
        if not data:
            raise Pt2trtError(f"node '{name}' ({node.op}) reads no tensor to reconnect its readers to")
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
            raise UsageError(f"{what} needs an 'op'")
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
                    raise UsageError(f"input {i} of node {node_name} needs a 'value' for its initializer")
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
        return gs.Variable(_unused_name(graph, self.output or default), dtype=dtype, shape=self.shape)


@on_graph
def insert_node(graph: gs.Graph, spec: NodeSpec) -> tuple[None, str]:
    """Insert a node after tensor ``after``: it reads the tensor (plus extra inputs); the tensor's readers read it."""
    import onnx_graphsurgeon as gs

    after = getattr(spec, "after", None)
    source = find_tensor(graph, after)
    name = _unused_name(graph, spec.name or f"{spec.op.lower()}_after_{source.name}")
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
    data = _mapping(value, "insert_node")
    base = NodeSpec.parse(data, "insert_node", extra=("after",))
    if not data.get("after"):
        raise UsageError("insert_node needs 'after': the tensor the new node reads")
    return InsertSpec(**vars(base), after=str(data["after"]))


@dataclass
class ReplaceSpec(NodeSpec):
    between: tuple[list[str], list[str]] = ((), ())  # type: ignore[assignment]
    equivalent: bool = False


def parse_replace(value: Any) -> ReplaceSpec:
    data = _mapping(value, "replace_subgraph")
    base = NodeSpec.parse(data, "replace_subgraph", extra=("from", "to", "equivalent"))
    sources, targets = _name_list(data.get("from")), _name_list(data.get("to"))
    if not sources or not targets:
        raise UsageError("replace_subgraph needs 'from' (input tensors) and 'to' (output tensors)")
    return ReplaceSpec(**vars(base), between=(sources, targets), equivalent=bool(data.get("equivalent", False)))


@on_graph
def replace_subgraph(graph: gs.Graph, spec: ReplaceSpec) -> tuple[Verification | None, str]:
    """Replace the nodes between tensors ``from`` and ``to`` by one node (``to`` keep their names and readers)."""
    import onnx_graphsurgeon as gs

    sources = [find_tensor(graph, n) for n in spec.between[0]]
    targets = [find_tensor(graph, n) for n in spec.between[1]]
    inside = subgraph_nodes(graph, sources, targets)
    name = _unused_name(graph, spec.name or f"{spec.op.lower()}_replacement")
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
        raise Pt2trtError("no node lies between the given tensors")
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
        raise Pt2trtError(f"the type of tensor(s) {', '.join(untyped)} is unknown (shape inference could not tell)")
    if any(isinstance(tensors[n], gs.Constant) for n in names_in):
        raise Pt2trtError("extract inputs must be computed tensors, not initializers")
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
        ins, outs = _name_list(value.get("inputs")), _name_list(value.get("outputs"))
    else:
        text = str(value)
        if text.count(":") != 1:
            raise UsageError(f"malformed --extract '{text}'", "Expected INPUT[,INPUT...]:OUTPUT[,OUTPUT...]")
        a, b = text.split(":")
        ins, outs = _name_list(a), _name_list(b)
    if not ins or not outs:
        raise UsageError("extract needs input and output tensor names")
    return ins, outs


@on_graph
def expose(graph: gs.Graph, names: list[str]) -> tuple[Verification, str]:
    """Add intermediate tensors to the graph outputs (their dtype and shape from shape inference)."""
    current = {t.name for t in graph.outputs}
    for name in names:
        t = find_tensor(graph, name)
        if t.dtype is None:
            raise Pt2trtError(f"the type of tensor '{name}' is unknown (shape inference could not tell)")
        if name not in current:
            graph.outputs.append(t)
    return Verification(only_reference_outputs=True), f"exposed {', '.join(names)} as output(s)"


# -- model-level edits -----------------------------------------------------------------------------------------------


def convert_opset(model: onnx.ModelProto, opset: int) -> tuple[onnx.ModelProto, Verification, str]:
    """``onnx.version_converter`` to another ai.onnx opset."""
    from onnx import version_converter

    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if current == opset:
        raise Pt2trtError(f"the model already uses opset {opset}")
    try:
        converted = version_converter.convert_version(model, int(opset))
    except Exception as exc:
        raise Pt2trtError(
            f"onnx.version_converter cannot convert opset {current} to {opset}: {_first_line(exc)}",
            "Try a nearer opset, or re-export with --opset",
        ) from exc
    converted.graph.ClearField("value_info")
    return converted, Verification(), f"converted opset {current} -> {opset}"


def set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> tuple[onnx.ModelProto, Verification, str]:
    """Set ``metadata_props`` entries; an empty value removes the key."""
    import onnx

    from pt2trt.onnx import metadata as meta

    out = onnx.ModelProto()
    out.CopyFrom(model)
    keep = [p for p in out.metadata_props if p.key not in values or values[p.key]]
    del out.metadata_props[:]
    out.metadata_props.extend(keep)
    meta.write_metadata(out, {k: v for k, v in values.items() if v})
    return (
        out,
        Verification(mode="unchanged"),
        "metadata " + ", ".join(f"{k}={v!r}" if v else f"-{k}" for k, v in values.items()),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _mapping(value: Any, what: str) -> dict[str, Any]:
    """A recipe mapping, or the same written inline on the command line as YAML (``{op: Relu, after: x}``)."""
    if isinstance(value, str):
        import yaml

        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise UsageError(f"malformed {what} '{value}': {exc}") from None
    if not isinstance(value, Mapping):
        raise UsageError(f"{what} expects a mapping, e.g. {{op: Relu, after: TENSOR}}")
    return dict(value)


def _name_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]
