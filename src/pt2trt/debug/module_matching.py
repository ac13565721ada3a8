"""Compare recorded module calls with the ONNX tensors they map to, and judge each call's inputs.

A call's outputs are paired with the ONNX tensors leaving its nodes by shape and kind (float / integer / bool):
the last matching tensor for a single output (a module's result is computed last), in order for several. A call
whose outputs find no partner is reported unmatched, never compared against an arbitrary tensor.

A call's inputs are "ok" when every one was within tolerance: a model input, the output of an earlier compared
call, or (for a call whose producer has no ONNX counterpart, e.g. a Conv folded into the BatchNorm after it) the
inputs of that producer; values computed outside any module are compared with the ONNX tensors entering the call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from pt2trt.comparators.tensors import TensorComparison
from pt2trt.debug.graph import GraphIndex
from pt2trt.debug.hooks import ModuleCall, Trace
from pt2trt.debug.mapping import Mapping as CallMap
from pt2trt.debug.report import DIVERGED, OK, UNCHECKED, UNKNOWN, LayerResult
from pt2trt.debug.tolerance import compare_layer

_MAX_LISTED_NODES = 6


@dataclass
class CallComparer:
    """Results accumulate over evaluations (one per run of both sides); ``results`` maps call index -> layer."""

    calls: list[ModuleCall]
    mapping: CallMap
    index: GraphIndex
    rtol: float
    atol: float
    results: dict[int, LayerResult] = field(default_factory=dict)
    unpaired: dict[int, str] = field(default_factory=dict)
    _status: dict[int, str] = field(default_factory=dict)
    _cache: dict[tuple[int, str], TensorComparison] = field(default_factory=dict)  # within one evaluation
    _loose_status: dict[int, list[str]] = field(default_factory=dict)

    # -- what to expose ------------------------------------------------------------------------------------------
    @property
    def order(self) -> list[int]:
        """Mapped calls in execution (completion) order."""
        return sorted(self.mapping.mapped)

    def tensors_for(self, indices: Iterable[int], *, with_inputs: bool) -> set[str]:
        """ONNX tensors to expose to compare ``indices`` (and, with ``with_inputs``, their loose inputs)."""
        names: set[str] = set()
        for i in indices:
            m = self.mapping.mapped[i]
            names.update(m.outputs)
            if with_inputs and any(s.kind == "loose" for j in [i, *m.folded] for s in self.calls[j].inputs):
                names.update(m.inputs)
        return names - set(self.index.inputs) - self.index.constants

    def dependencies(self, i: int) -> set[int]:
        """The mapped calls whose results decide whether call ``i``'s inputs were within tolerance."""
        deps: set[int] = set()
        stack, seen = [i], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for source in self.calls[current].inputs:
                if source.kind != "call":
                    continue
                mapped = [p for p in source.producers if p in self.mapping.mapped]
                if mapped:
                    deps.add(mapped[0])
                else:
                    stack.append(source.producers[0])
        return deps

    # -- comparing -----------------------------------------------------------------------------------------------
    def evaluate(
        self, indices: Iterable[int], trace: Trace, values: Mapping[str, np.ndarray], feed: Mapping[str, np.ndarray]
    ) -> list[LayerResult]:
        """Compare the outputs of ``indices``; for those out of tolerance, also their inputs computed outside modules.

        Loose inputs matter only to decide whether a failing layer is the origin, so passing layers skip that
        comparison (their inputs show as "unchecked" when they have loose ones).
        """
        out = []
        merged = {**feed, **values}
        self._cache.clear()  # keyed by id() of this run's arrays
        self._compare_in_parallel(indices, trace, merged)
        for i in sorted(indices):
            if i in self.results or i in self.unpaired:
                if i in self.results:
                    out.append(self.results[i])
                continue
            result = self._compare_call(i, trace, merged)
            if result is None:
                continue
            self.results[i] = result
            out.append(result)
            if result.passed:
                continue
            entering = self.mapping.mapped[i].inputs
            for j in [i, *self.mapping.mapped[i].folded]:  # a folded conv's inputs enter the same ONNX node(s)
                if trace.loose.get(j):
                    statuses = self._loose_statuses(j, trace, merged, entering)
                    if UNKNOWN not in statuses or j not in self._loose_status:
                        self._loose_status[j] = statuses
        return out

    def _compare_in_parallel(self, indices: Iterable[int], trace: Trace, values: Mapping[str, np.ndarray]) -> None:
        """Fill the comparison cache for these calls on a few threads (numpy releases the GIL)."""
        jobs: dict[tuple[int, str], tuple[str, np.ndarray, np.ndarray]] = {}
        for i in indices:
            recorded = _arrays(trace.outputs.get(i))
            if i in self.results or i in self.unpaired or not recorded:
                continue
            call = self.calls[i]
            for k, name in self._pair(
                call, self.mapping.mapped[i].outputs, recorded, values, positional=call.name == ""
            ):
                key = (id(recorded[k]), name)
                if key not in self._cache:
                    jobs[key] = (name, recorded[k], values[name])
        if len(jobs) < 2:
            return

        def run(job: tuple[str, np.ndarray, np.ndarray]) -> TensorComparison:
            return compare_layer(job[0], job[1], job[2], rtol=self.rtol, atol=self.atol)

        with ThreadPoolExecutor(min(len(jobs), _usable_cores(), 4)) as pool:
            self._cache.update(zip(jobs, pool.map(run, jobs.values())))

    def judge_inputs(self, indices: Iterable[int]) -> None:
        """Set ``inputs_status`` of the given (already compared) calls from the results known so far."""
        self._status.clear()
        for i in indices:
            if i in self.results:
                self.results[i].inputs_status = self.inputs_status(i)

    def inputs_status(self, i: int) -> str:
        if i in self._status:
            return self._status[i]
        self._status[i] = UNKNOWN  # guards against cycles
        statuses = []
        loose = iter(self._loose_status.get(i, []))
        for source in self.calls[i].inputs:
            if source.kind == "input":
                statuses.append(OK)
            elif source.kind == "call":
                statuses.append(self._produced(source.producers))
            else:
                statuses.append(next(loose, UNCHECKED))
        status = next((s for s in (DIVERGED, UNKNOWN, UNCHECKED) if s in statuses), OK)
        self._status[i] = status
        return status

    def _produced(self, producers: tuple[int, ...]) -> str:
        for p in producers:
            if p in self.results:
                return OK if self.results[p].passed else DIVERGED
        first = producers[0]
        if first in self.mapping.unmapped or first in self.unpaired:
            return self.inputs_status(first)  # no counterpart (folded, pass-through): its own inputs decide
        return UNKNOWN

    def _compare_call(self, i: int, trace: Trace, values: Mapping[str, np.ndarray]) -> LayerResult | None:
        call = self.calls[i]
        m = self.mapping.mapped[i]
        recorded = _arrays(trace.outputs.get(i))
        if not recorded:
            return None
        pairs = self._pair(call, m.outputs, recorded, values, positional=call.name == "")
        if not pairs:
            shapes = ", ".join("x".join(map(str, o.shape)) or "scalar" for o in call.outputs)
            self.unpaired[i] = f"no ONNX tensor leaving its nodes has its output shape ({shapes})"
            return None
        tensors = []
        for k, name in pairs:
            key = (id(recorded[k]), name)
            if key not in self._cache:
                self._cache[key] = compare_layer(name, recorded[k], values[name], rtol=self.rtol, atol=self.atol)
            tensors.append(self._cache[key])
        return LayerResult(
            name=call.name,
            label=call.label,
            cls=call.cls,
            order=i,
            onnx_nodes=self._node_names(m.nodes, [n for _, n in pairs]),
            onnx_tensors=[n for _, n in pairs],
            tensors=tensors,
            folded=[self.calls[f].label for f in m.folded],
        )

    @staticmethod
    def _pair(
        call: ModuleCall,
        candidates: list[str],
        recorded: Sequence[np.ndarray],
        values: Mapping[str, np.ndarray],
        *,
        positional: bool,
    ) -> list[tuple[int, str]]:
        available = [n for n in candidates if n in values]
        if positional:
            return [
                (k, n) for k, (n, ref) in enumerate(zip(available, recorded)) if np.shape(values[n]) == np.shape(ref)
            ]
        pairs: list[tuple[int, str]] = []
        used: set[str] = set()
        for k, ref in enumerate(recorded):
            fits = [n for n in available if n not in used and _fits(ref, values[n])]
            if fits:
                chosen = fits[-1] if len(recorded) == 1 else fits[0]
                pairs.append((k, chosen))
                used.add(chosen)
        return pairs

    def _loose_statuses(
        self, i: int, trace: Trace, values: Mapping[str, np.ndarray], entering_names: list[str]
    ) -> list[str]:
        """One status per loose input of call ``i``: compared with a same-shaped ONNX tensor entering its nodes."""
        loose = trace.loose.get(i) or []
        sources = [s for s in self.calls[i].inputs if s.kind == "loose"]
        entering = [n for n in entering_names if n in values and n not in self.index.inputs]
        statuses = []
        for value in loose[: len(sources)]:
            if value is None:
                statuses.append(UNKNOWN)
                continue
            fits = [n for n in entering if _fits(value, values[n])]
            if not fits:
                statuses.append(UNKNOWN)
                continue
            within = any(compare_layer(n, value, values[n], rtol=self.rtol, atol=self.atol).passed for n in fits)
            statuses.append(OK if within else DIVERGED)
        statuses += [UNKNOWN] * (len(sources) - len(statuses))
        return statuses

    def _node_names(self, nodes: list[int], tensors: list[str]) -> list[str]:
        if len(nodes) <= _MAX_LISTED_NODES:
            return [self.index.node_label(n) for n in nodes]
        producers = [self.index.producer[t] for t in tensors if t in self.index.producer]
        return [self.index.node_label(n) for n in producers]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _fits(reference: np.ndarray, candidate: np.ndarray) -> bool:
    return np.shape(reference) == np.shape(candidate) and _kind(reference) == _kind(candidate)


def _kind(a: np.ndarray) -> str:
    kind = np.asarray(a).dtype.kind
    return "float" if kind in "fcV" else "int" if kind in "iu" else kind


def _arrays(recorded: Sequence[np.ndarray | None] | None) -> list[np.ndarray]:
    """A call's recorded outputs, or nothing when any is missing (not a tensor): such a call is not compared."""
    if not recorded or any(v is None for v in recorded):
        return []
    return [v for v in recorded if v is not None]
