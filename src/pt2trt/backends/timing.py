"""The timing loop every runner uses (warm-up, then at least N iterations and at least D seconds) and peak-memory
probes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pt2trt.settings.runner import Loop as Loop  # re-exported: the timing loop's settings

Progress = Callable[[float], None]  # called with the fraction done, 0..1


@dataclass
class Timings:
    """Per-inference seconds of one timed loop, its wall time, and the warm-up calls spent before it."""

    seconds: list[float]
    wall: float
    warmup_calls: int
    extra: dict[str, list[float]] = field(default_factory=dict)  # per-phase seconds (h2d, compute, d2h, enqueue)


def warm_up(fn: Callable[[], object], warmup_ms: float) -> int:
    """Call ``fn`` until ``warmup_ms`` have passed (at least once); the number of calls."""
    clock = time.perf_counter
    end = clock() + warmup_ms / 1e3
    calls = 0
    while True:
        fn()
        calls += 1
        if clock() >= end:
            return calls


def time_calls(fn: Callable[[], object], loop: Loop, progress: Progress | None = None) -> Timings:
    """Time synchronous calls of ``fn``: each call between two ``perf_counter`` reads, nothing else in the loop.

    The loop body is the same as a hand-written ``start = perf_counter(); fn(); times.append(...)`` loop, so the
    measurement adds no cost beyond those two clock reads (benchmarks/bench_bench.py checks this).
    """
    warmup_calls = warm_up(fn, loop.warmup_ms)
    clock = time.perf_counter
    times: list[float] = []
    append = times.append
    begin = clock()
    end = begin + loop.duration
    next_report = begin + 0.25
    while True:
        start = clock()
        fn()
        stop = clock()
        append(stop - start)
        if len(times) >= loop.iterations and stop >= end:
            break
        if progress is not None and stop >= next_report:
            progress(
                min(1.0, max(len(times) / loop.iterations, (stop - begin) / loop.duration if loop.duration else 1))
            )
            next_report = stop + 0.25
    if progress is not None:
        progress(1.0)
    return Timings(times, clock() - begin, warmup_calls)


# -- memory ------------------------------------------------------------------------------------------------------------
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kb(field_name: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the process's peak resident set size (Linux: ``echo 5 > /proc/self/clear_refs``); False if unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def rss_mib() -> float | None:
    kb = _status_kb("VmRSS")
    return kb / 1024 if kb is not None else None


def peak_rss_mib() -> float | None:
    kb = _status_kb("VmHWM")
    return kb / 1024 if kb is not None else None
