"""Map each PyTorch module call to the ONNX nodes and tensors that compute it, or say why there are none.

A module's nodes are those whose scope (see :mod:`pt2trt.onnx.scopes`) contains its qualified name, or one of its
other names when it is registered twice (``self.gate`` and ``self.blocks[0]``: each exporter may use either). When a
module runs several times, its nodes are split into calls by the call numbers the legacy exporter writes
(``relu_1``) or, for the dynamo exporter, into connected pieces of the graph, matched to the calls in order; when the
counts disagree the module is reported unmapped rather than guessed.

The tensors leaving a call's nodes are its candidate outputs (paired with the PyTorch outputs by shape after the
run); the non-constant tensors entering them are its inputs.

Fusions are handled by what the exporters are known to do, not by looking at numbers:

* legacy exporter (constant folding on): a BatchNorm after a Conv/Linear is folded into it. The Conv node keeps the
  conv's name, yet its output is the BatchNorm's output: the BatchNorm takes the conv's tensor, and the conv is
  reported as folded into it;
* dynamo exporter (optimizer on): the fused Conv node carries the BatchNorm's scope, so it already maps to the
  BatchNorm; the conv, left without nodes, is reported as folded into it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pt2trt.debug.graph import GraphIndex
from pt2trt.debug.hooks import ModuleCall
from pt2trt.onnx.scopes import Scope

_CONV_LIKE = re.compile(r"^(Lazy)?(Conv(Transpose)?[123]d|Linear)$")
_NORM_LIKE = re.compile(r"BatchNorm[123]?d?$")
_FOLDING_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul"}


@dataclass
class CallMapping:
    """The ONNX side of one module call."""

    nodes: list[int]
    outputs: list[str]  # tensors leaving the call's nodes, in node order
    inputs: list[str]  # non-constant tensors entering them
    folded: list[int] = field(default_factory=list)  # calls whose computation these nodes include


@dataclass
class Mapping:
    """Calls with an ONNX counterpart, and the reason for each call without one."""

    mapped: dict[int, CallMapping]
    unmapped: dict[int, str]


def map_calls(index: GraphIndex, scopes: list[Scope], calls: list[ModuleCall]) -> Mapping:
    """Assign node groups to calls; then account for folded layers and say why the rest have no counterpart."""
    mapped: dict[int, CallMapping] = {}
    unmapped: dict[int, str] = {}
    members: dict[str, list[int]] = {}
    for i, scope in enumerate(scopes):
        for name, _ in scope:
            members.setdefault(name, []).append(i)
    by_name: dict[str, list[ModuleCall]] = {}
    for call in sorted(calls, key=lambda c: (c.name, c.call)):
        by_name.setdefault(call.name, []).append(call)

    for name, module_calls in by_name.items():
        if name == "":  # the model itself: every node, the graph's inputs and outputs
            for call in module_calls:
                mapped[call.index] = CallMapping(list(range(len(scopes))), list(index.outputs), list(index.inputs))
            continue
        scoped = next((n for n in (name, *module_calls[0].aliases) if members.get(n)), None)
        if scoped is None:
            continue
        nodes = members[scoped]
        groups, reason = _split_calls(index, scopes, scoped, nodes, len(module_calls))
        if groups is None:
            for call in module_calls:
                unmapped[call.index] = reason
            continue
        for call, group in zip(module_calls, groups):
            outs, ins = index.boundary(group)
            mapped[call.index] = CallMapping(group, outs, ins)

    _fold_batchnorms(index, calls, mapped, unmapped)
    for call in calls:
        if call.index in mapped or call.index in unmapped:
            continue
        if call.passthrough:
            unmapped[call.index] = "returns its input unchanged (nothing to compare)"
        elif not call.outputs:
            unmapped[call.index] = "returns no tensor"
        else:
            unmapped[call.index] = "no ONNX node carries its scope (removed or merged by the exporter)"
    return Mapping(mapped, unmapped)


def _split_calls(
    index: GraphIndex, scopes: list[Scope], name: str, nodes: list[int], count: int
) -> tuple[list[list[int]] | None, str]:
    """The nodes of each of ``count`` calls of module ``name``, in call order, or None and the reason."""
    if count == 1:
        return [nodes], ""
    keyed: dict[tuple, list[int]] = {}
    for i in nodes:
        scope = scopes[i]
        depth = next(d for d, (n, _) in enumerate(scope) if n == name)
        keyed.setdefault(scope[: depth + 1], []).append(i)
    if len(keyed) == count:
        return sorted(keyed.values(), key=lambda g: g[0]), ""
    pieces = index.components(nodes)
    if len(pieces) == count:
        return pieces, ""
    return None, f"runs {count} times but its ONNX nodes cannot be told apart per call"


def _fold_batchnorms(
    index: GraphIndex, calls: list[ModuleCall], mapped: dict[int, CallMapping], unmapped: dict[int, str]
) -> None:
    for norm in calls:
        if not _NORM_LIKE.search(norm.cls) or len(norm.inputs) != 1 or norm.inputs[0].kind != "call":
            continue
        conv = calls[norm.inputs[0].producers[0]]
        if not _CONV_LIKE.match(conv.cls) or conv.consumers != [norm.index]:
            continue
        if norm.index not in mapped and conv.index in mapped:  # legacy: the conv's node computes conv + norm
            op = _op_producing(index, mapped[conv.index])
            if op in _FOLDING_OPS:
                mapped[norm.index] = mapped.pop(conv.index)
                mapped[norm.index].folded.append(conv.index)
                unmapped[conv.index] = f"folded into {norm.label} (its ONNX {op} node computes {norm.label}'s output)"
        elif conv.index not in mapped and norm.index in mapped:  # dynamo: the fused node carries the norm's scope
            op = _op_producing(index, mapped[norm.index])
            if op in _FOLDING_OPS:
                mapped[norm.index].folded.append(conv.index)
                unmapped[conv.index] = f"folded into {norm.label} (its ONNX {op} node computes {norm.label}'s output)"


def _op_producing(index: GraphIndex, mapping: CallMapping) -> str:
    if len(mapping.outputs) != 1 or mapping.outputs[0] not in index.producer:
        return ""
    return index.model.graph.node[index.producer[mapping.outputs[0]]].op_type
