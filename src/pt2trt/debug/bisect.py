"""Find the origin by bisection over the layer order, exposing only a few tensors per run (bounded memory).

Bisection needs a predicate that stays true once it turns true. "This layer is out of tolerance" is not one in a
model with branches: in a residual block the shortcut can be fine after the main branch has diverged. It is one
at the *cut points*: layers whose output depends (in the ONNX dataflow) on every layer before them, such as the
output of a residual block. An error anywhere before a cut point reaches it, unless a later operation hides it
again, which is the one assumption this search makes. So:

1. the model's outputs (the last cut point) are checked first: within tolerance means no divergence;
2. a binary search over the cut points finds the first one out of tolerance;
3. the layers between the previous cut point and that one are compared with their inputs, in windows that fit
   the memory budget, in execution order: the first one out of tolerance with all inputs within tolerance is the
   origin, the layer an all-at-once run names.

Each probe is one run of both sides that records and exposes only the probed layers' tensors.
"""

from __future__ import annotations

from collections.abc import Callable

from pt2trt.debug.module_matching import CallComparer
from pt2trt.debug.report import OK, LayerResult, choose_origin

Evaluate = Callable[[list[int], bool], None]  # compare these calls (with their inputs' producers when True)


def cut_points(comparer: CallComparer) -> list[int]:
    """Mapped calls (execution order) whose ONNX outputs depend on the outputs of every mapped call before them."""
    index = comparer.index
    ancestors: list[int] = []  # bit set of ancestor nodes (itself included) per node
    for i, node in enumerate(index.model.graph.node):
        bits = 1 << i
        for name in node.input:
            producer = index.producer.get(name)
            if producer is not None and producer < i:
                bits |= ancestors[producer]
        ancestors.append(bits)
    cuts: list[int] = []
    before = 0  # producers of the outputs of every call so far
    for i in comparer.order:
        produced = [index.producer[n] for n in comparer.mapping.mapped[i].outputs if n in index.producer]
        reach = 0
        for p in produced:
            reach |= ancestors[p]
        if produced and before & ~reach == 0:
            cuts.append(i)
        for p in produced:
            before |= 1 << p
    return cuts


def bisect_origin(comparer: CallComparer, evaluate: Evaluate, max_bytes: int) -> tuple[LayerResult | None, str, int]:
    """(origin, note, number of runs) by bisection; results accumulate in ``comparer.results``."""
    runs = 0

    def fails(i: int) -> bool | None:
        nonlocal runs
        if i not in comparer.results and i not in comparer.unpaired:
            evaluate([i], False)
            runs += 1
        result = comparer.results.get(i)
        return None if result is None else not result.passed

    cuts = cut_points(comparer)
    while cuts and fails(cuts[-1]) is None:  # the last comparable cut point
        cuts.pop()
    if not cuts or not fails(cuts[-1]):
        return None, "", runs
    lo = first_failing(cuts, fails)
    start = cuts[lo - 1] if lo > 0 else -1
    segment = [i for i in comparer.order if start < i <= cuts[lo]]

    position = 0
    while position < len(segment):
        window = _window(comparer, segment, position, max_bytes)
        evaluate(window, True)
        runs += 1
        comparer.judge_inputs(window)
        for i in window:
            result = comparer.results.get(i)
            if result is not None and not result.passed and result.inputs_status == OK:
                return result, "first layer out of tolerance whose inputs were all within tolerance", runs
        position += len(window)
    origin, note = choose_origin([comparer.results[i] for i in segment if i in comparer.results])
    return origin, note, runs


def _window(comparer: CallComparer, candidates: list[int], start: int, max_bytes: int) -> list[int]:
    """Consecutive candidates from ``start`` whose outputs, and their inputs' producers, fit in ``max_bytes``."""
    window: list[int] = []
    total = 0
    for i in candidates[start:]:
        size = comparer.calls[i].nbytes + sum(comparer.calls[d].nbytes for d in comparer.dependencies(i))
        if window and total + size > max_bytes:
            break
        window.append(i)
        total += size
    return window


def first_failing(cuts: list[int], fails: Callable[[int], bool | None]) -> int:
    """Index of the first cut point that fails, by bisection, given that the last one fails. ``fails`` returns None
    where nothing is comparable: that cut point is dropped from ``cuts`` (in place) and the same range searched."""
    lo, hi = 0, len(cuts) - 1  # invariant: cuts[hi] fails; cuts before lo pass
    while lo < hi:
        mid = (lo + hi) // 2
        verdict = fails(cuts[mid])
        if verdict is None:
            cuts.pop(mid)
            hi -= 1
        elif verdict:
            hi = mid
        else:
            lo = mid + 1
    return lo
