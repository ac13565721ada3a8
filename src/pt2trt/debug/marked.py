"""ONNX Runtime vs TensorRT by bisection over the ONNX node order, marking at most ``max_marked`` tensors per run.

Marking a tensor as a network output keeps TensorRT from fusing it away, so an engine with every tensor marked is
another engine than the one in production (and a slow, memory-hungry one). Here each run marks a bounded set:

1. the first run marks nothing: the engine is the production one; its outputs are compared with ONNX Runtime's,
   and its ``IEngineInspector`` report says which ONNX tensors it materialises (the rest were fused away);
2. a binary search over the *cut points* (nodes whose outputs depend on every node before them, see
   :mod:`pt2trt.debug.bisect`) marks one tensor per run and finds the first cut point out of tolerance;
3. the nodes between the last cut point within tolerance and that one are compared in windows of ``max_marked``
   tensors, in order: the origin is the first node out of tolerance whose inputs were within tolerance.

The origin is named by the PyTorch module its node scope records; the report lists the tensors of the origin's
segment that the production engine fused away (they exist only in the debug engines), rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np

from pt2trt.comparators.tensors import TensorComparison
from pt2trt.debug.bisect import first_failing
from pt2trt.debug.graph import GraphIndex
from pt2trt.debug.report import DIVERGED, OK, LayerResult
from pt2trt.debug.tolerance import compare_layer

#: names -> (reference values, candidate values), each holding at least the graph outputs and the marked names
Probe = Callable[[list[str]], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]


@dataclass
class MarkedBisection:
    index: GraphIndex
    probe: Probe
    rtol: float
    atol: float
    max_marked: int
    results: dict[str, TensorComparison] = field(default_factory=dict)
    marked_per_run: list[int] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return len(self.marked_per_run)

    # -- running ------------------------------------------------------------------------------------------------
    def compare(self, names: Collection[str]) -> None:
        """Compare these tensors (graph outputs come with every run), at most ``max_marked`` marked per run."""
        wanted = [n for n in dict.fromkeys(names) if n not in self.results]
        marks = [n for n in wanted if n not in self.index.outputs]
        if not marks and self.marked_per_run:
            return  # graph outputs come with every run: nothing new to learn
        chunks = [marks[i : i + self.max_marked] for i in range(0, len(marks), self.max_marked)] or [[]]
        for chunk in chunks:
            reference, candidate = self.probe(chunk)
            self.marked_per_run.append(len(chunk))
            for name in [*chunk, *self.index.outputs]:
                x, y = reference.get(name), candidate.get(name)
                if name not in self.results and x is not None and y is not None and np.shape(x) == np.shape(y):
                    self.results[name] = compare_layer(name, x, y, rtol=self.rtol, atol=self.atol)

    def outputs_of(self, i: int) -> list[str]:
        node = self.index.model.graph.node[i]
        return [t for t in node.output if t and t not in self.index.constants]

    def failed(self, i: int) -> bool | None:
        """Whether node ``i`` left tolerance (None: none of its outputs could be compared)."""
        self.compare(self.outputs_of(i)[:1])
        verdicts = [not self.results[t].passed for t in self.outputs_of(i) if t in self.results]
        return any(verdicts) if verdicts else None

    # -- the search ---------------------------------------------------------------------------------------------
    def search(self) -> tuple[int | None, list[int], str]:
        """(origin node, the nodes of its segment, note); the origin is None when the outputs agree."""
        self.compare([])  # the production engine: graph outputs only
        if all(self.results[o].passed for o in self.index.outputs if o in self.results):
            return None, [], ""
        computing = [i for i in range(len(self.index.model.graph.node)) if self.outputs_of(i)]
        cuts = cut_nodes(self.index, computing)
        while cuts and self.failed(cuts[-1]) is None:
            cuts.pop()
        if cuts and self.failed(cuts[-1]):
            lo = first_failing(cuts, self.failed)
            start, end = (cuts[lo - 1] if lo > 0 else -1), cuts[lo]
        else:  # the last comparable cut point is within tolerance: the error is after it
            start, end = (cuts[-1] if cuts else -1), computing[-1]
        segment = [i for i in computing if start < i <= end]
        for position in range(0, len(segment), self.max_marked):
            window = segment[position : position + self.max_marked]
            self.compare([t for i in window for t in self.outputs_of(i)])
            for i in window:
                if self.failed(i) and self.inputs_status(i, start) == OK:
                    return i, segment, "first node out of tolerance whose inputs were all within tolerance"
        failing = [i for i in segment if self.failed(i)]
        if failing:
            return failing[0], segment, "first node out of tolerance in the failing segment"
        return None, segment, "outputs differ but no node of the segment left tolerance"

    def inputs_status(self, i: int, start: int) -> str:
        """OK when every input is a model input, a constant, within tolerance, or from before the passing cut.

        Uses the comparisons made so far only (no new run): the segment is compared in order, so the producers of
        a node's inputs inside the segment were compared before it.
        """
        for name in self.index.model.graph.node[i].input:
            if not name or name in self.index.inputs or name in self.index.constants:
                continue
            if name in self.results:
                if not self.results[name].passed:
                    return DIVERGED
                continue
            producer = self.index.producer.get(name)
            if producer is not None and producer > start:
                known = [self.results[t].passed for t in self.outputs_of(producer) if t in self.results]
                if known and not all(known):
                    return DIVERGED
        return OK

    def layer(self, i: int, module: str | None) -> LayerResult:
        node = self.index.model.graph.node[i]
        names = [t for t in self.outputs_of(i) if t in self.results]
        return LayerResult(
            name=self.index.node_label(i),
            label=self.index.node_label(i),
            cls=node.op_type,
            order=i,
            onnx_nodes=[self.index.node_label(i)],
            onnx_tensors=names,
            tensors=[self.results[t] for t in names],
            module=module,
        )


def cut_nodes(index: GraphIndex, computing: list[int]) -> list[int]:
    """Nodes (of ``computing``, in graph order) whose outputs depend on every computing node before them."""
    position = {i: k for k, i in enumerate(computing)}
    ancestors: dict[int, int] = {}
    for i in computing:
        bits = 1 << position[i]
        for name in index.model.graph.node[i].input:
            producer = index.producer.get(name)
            if producer is not None and producer in ancestors:
                bits |= ancestors[producer]
        ancestors[i] = bits
    cuts, before = [], 0
    for i in computing:
        if before & ~ancestors[i] == 0:
            cuts.append(i)
        before |= 1 << position[i]
    return cuts


def fused_away(segment_tensors: list[str], engine_tensors: Collection[str] | None) -> list[str]:
    """The tensors the production engine does not materialise (unknown: an empty list)."""
    if engine_tensors is None:
        return []
    present = set(engine_tensors)
    return [t for t in segment_tensors if t not in present]
