"""Edits of the model's interface: rename inputs and outputs, make axes dynamic, fix the batch size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.editing.surgery.common import Verification, constant, find_input, names_text, on_graph
from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    import onnx_graphsurgeon as gs


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
            raise Pt2trtError(f"the model has no {kind} '{old}'", f"{kind.capitalize()}s are: {names_text(tensors)}")
        if new in existing and new != old:
            raise Pt2trtError(
                f"cannot rename {kind} '{old}' to '{new}': a tensor of that name exists",
                "Pick a name no tensor uses (see `pt2trt inspect MODEL.onnx`)",
            )
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
        raise UsageError(f"batch size must be at least 1, got {batch}", "Pass a batch size of 1 or more")
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
