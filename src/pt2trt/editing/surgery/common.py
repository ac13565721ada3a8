"""What every edit family shares: the :class:`Verification` an edit returns, the graphsurgeon plumbing
(:func:`on_graph`: import after shape inference, edit, ``cleanup().toposort()``, export) and lookups by name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed

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


def names_text(items: Sequence[Any]) -> str:
    """The names of ``items``, comma-separated (``none`` when empty), for error hints."""
    return ", ".join(t.name for t in items) or "none"


def _find(tensors: Sequence[gs.Variable], name: str | None, kind: str) -> gs.Variable:
    """The graph ``kind`` (input/output) called ``name``, the first one when None."""
    if name is None:
        if not tensors:
            raise Pt2trtError(f"the model has no {kind}s", "Check the model with `pt2trt inspect MODEL.onnx`")
        return tensors[0]
    for t in tensors:
        if t.name == name:
            return t
    raise Pt2trtError(f"the model has no {kind} '{name}'", f"{kind.capitalize()}s are: {names_text(tensors)}")


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


def unused_name(graph: gs.Graph, base: str) -> str:
    """``base``, or ``base_N`` with the first N that no tensor or node of ``graph`` is called."""
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
        old.name = unused_name(graph, f"{name}_{suffix}")
        new.name = name


def constant(graph: gs.Graph, base: str, value: Any, dtype: Any = None) -> gs.Constant:
    """A new initializer holding ``value``, named after ``base`` without clashing."""
    import onnx_graphsurgeon as gs

    return gs.Constant(unused_name(graph, base), np.asarray(value, dtype=dtype))


def mapping_value(value: Any, what: str) -> dict[str, Any]:
    """A recipe mapping, or the same written inline on the command line as YAML (``{op: Relu, after: x}``)."""
    if isinstance(value, str):
        from pt2trt.user_yaml import load_user_yaml

        value = load_user_yaml(value, f"'{value}'", argument=True)  # the caller names the edit
    if not isinstance(value, Mapping):
        raise UsageError(
            f"{what} expects a mapping, e.g. {{op: Relu, after: TENSOR}}", "Write it as a YAML mapping of key: value"
        )
    return dict(value)


def name_list(value: Any) -> list[str]:
    """Tensor names from ``A,B`` or a list (a recipe value); None gives none."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]
