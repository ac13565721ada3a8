"""Rank quantized layers by the error they add, with the layer-wise comparison of ``debug layers`` (ONNX vs ONNX),
and keep the worst in float (``--auto-exclude``).

Each layer's error is ``1 - cosine similarity`` between its FP32 and INT8 outputs on a few calibration samples;
what a layer *adds* is its error minus the largest error among the tensors it reads. The layer adding the most is
the one to keep in float first. :class:`Int8Writer` writes each trial, :class:`LayerRanking` ranks the model on
disk, :func:`auto_exclude` runs the rounds judged by the agreement with FP32 (the ``--max-drop`` search judged by a
task metric on labelled data is :mod:`pt2trt.precision.metric_search`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.feeds import Feed
from pt2trt.precision.accuracy import Accuracy
from pt2trt.precision.int8 import QUANTIZED_OPS
from pt2trt.precision.names import Layer, NodeNames
from pt2trt.precision.statistics import Statistics

if TYPE_CHECKING:
    import onnx

    from pt2trt.onnx.model import OnnxModel


@dataclass(frozen=True)
class Ranked:
    node: str
    op: str
    module: str | None
    added_error: float
    error: float


def rank_layers(reference: Path, candidate: Path, feed: Feed, skip: Collection[str] = ()) -> list[Ranked]:
    """Quantizable nodes of ``reference`` (not in ``skip``), worst first, by the output error each one adds."""
    from pt2trt.debug.onnx_pair import debug_onnx_layers
    from pt2trt.settings import RunInputs, Tolerance

    report = debug_onnx_layers(
        reference, candidate, RunInputs(feed=feed), Tolerance(rtol=1e-2, atol=1e-3), backend="onnxruntime"
    )
    error: dict[str, float] = {}
    for layer in report.layers:
        for tensor, comparison in zip(layer.onnx_tensors, layer.tensors):
            cosine = comparison.cosine_similarity
            error[tensor] = 1.0 - cosine if cosine is not None else 1.0
    import onnx

    model = onnx.load(str(reference), load_external_data=False)
    labels = {n.name or f"{n.op_type}_{i}": n for i, n in enumerate(model.graph.node)}
    ranked = []
    for layer in report.layers:
        node = labels.get(layer.name)
        if node is None or node.op_type not in QUANTIZED_OPS or layer.name in skip:
            continue
        out = max((error.get(t, 0.0) for t in node.output), default=0.0)
        inputs = max((error.get(t, 0.0) for t in node.input), default=0.0)
        ranked.append(Ranked(layer.name, node.op_type, layer.module, out - inputs, out))
    return sorted(ranked, key=lambda r: -r.added_error)


#: calibration samples the ranking runs on
RANK_SAMPLES = 8


def candidate_handle(path: Path, proto: onnx.ModelProto) -> OnnxModel:
    """The handle of a model just written to ``path`` from ``proto``: runtimes get the proto's bytes, the file is not
    read again (a model whose weights went to external data files is read from its path)."""
    from pt2trt.onnx.model import OnnxModel

    if any(t.data_location == 1 for t in proto.graph.initializer):  # TensorProto.EXTERNAL
        return OnnxModel(path)
    return OnnxModel(path, proto)


@dataclass
class Int8Writer:
    """Writes ``proto`` with Q/DQ to ``staged``, the layers given left in float: every trial of a search."""

    proto: onnx.ModelProto
    stats: Statistics
    method: str
    staged: Path

    def write(self, excluded: Sequence[Layer]) -> tuple[onnx.ModelProto, OnnxModel]:
        """The Q/DQ model with ``excluded`` left in float, written to ``staged``, and its handle."""
        from pt2trt.precision.int8 import quantize_int8

        exclude = [x.node for x in excluded]
        converted = quantize_int8(self.proto, self.stats, self.staged, method=self.method, exclude=exclude)
        return converted, candidate_handle(self.staged, converted)


class LayerRanking:
    """Ranks the quantized layers of the model in ``writer.staged`` against FP32 on a few calibration samples: the
    FP32 copy with named nodes is written beside it on first use."""

    def __init__(self, writer: Int8Writer, names: NodeNames, feed: Feed) -> None:
        self.writer = writer
        self.names = names
        self.feed = feed
        self.index = {label: i for i, label in enumerate(names.labels)}
        self._reference: Path | None = None

    def worst(self, skip: Collection[str], reason: str) -> tuple[Layer, Ranked] | None:
        """The layer adding most error in the model on disk (not in ``skip``), as a :class:`Layer` whose reason
        starts with ``reason``; None when none is left."""
        if self._reference is None:
            from pt2trt.precision.fp16 import named_copy
            from pt2trt.precision.saving import save_model

            self._reference = self.writer.staged.parent / "fp32-named.onnx"
            save_model(named_copy(self.writer.proto), self._reference)
        ranked = rank_layers(self._reference, self.writer.staged, self.feed, skip=skip)
        if not ranked:
            return None
        top = ranked[0]
        layer = self.names.layer(self.index[top.node], f"{reason}: added error {top.added_error:.3g} (1 - cosine)")
        return layer, top


@dataclass
class Int8State:
    """The INT8 model as it stands: the layers left in float, the proto written, its handle, its accuracy."""

    excluded: list[Layer]
    proto: onnx.ModelProto
    candidate: OnnxModel
    accuracy: Accuracy


def auto_exclude(
    state: Int8State, ranking: LayerRanking, measure: Callable[[OnnxModel], Accuracy], max_exclusions: int
) -> tuple[Int8State, list[dict[str, Any]]]:
    """``--auto-exclude``: keep the layer adding most error in float, round after round, until the agreement
    target is met or ``max_exclusions`` layers were tried; an exclusion stays only when it brings the model closer
    to FP32. The best state, and one record per round."""
    rounds: list[dict[str, Any]] = []
    tried: set[str] = {x.node for x in state.excluded}
    best = score(state.accuracy)
    while not state.accuracy.passed and len(rounds) < max_exclusions:
        found = ranking.worst(tried, "auto")
        if found is None:
            break
        layer, top = found
        tried.add(top.node)
        trial, handle = ranking.writer.write([*state.excluded, layer])
        measured = measure(handle)
        kept = score(measured) > best
        rounds.append({"node": top.node, "module": top.module, "agreement": measured.agreement, "kept": kept})
        if kept:  # an exclusion stays only when it brings the converted model closer to FP32
            state = Int8State([*state.excluded, layer], trial, handle, measured)
            best = score(measured)
    if rounds and not rounds[-1]["kept"]:  # the file on disk is the last trial: write the best one again
        proto, handle = ranking.writer.write(state.excluded)
        state = Int8State(state.excluded, proto, handle, state.accuracy)
    return state, rounds


def score(accuracy: Accuracy) -> tuple[float, float]:
    """Higher is closer to FP32: the task agreement, then the outputs' mean cosine similarity."""
    cosines = [o.comparison.cosine_similarity or 0.0 for o in accuracy.outputs]
    return (accuracy.agreement or 0.0, sum(cosines) / len(cosines) if cosines else 0.0)
