"""Latency statistics as trtexec reports them: min/mean/median/percentiles/max, spread and throughput."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Above this coefficient of variation (std / mean, in percent) a run is flagged unstable. trtexec prints a similar
#: warning when its GPU compute times vary; the threshold here is the one the project chose for CPU runs.
UNSTABLE_CV_PCT = 2.5


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of already sorted values (numpy's default method), ``q`` in [0, 100]."""
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def above(value: float, limit: float, digits: int = 1) -> str:
    """``value`` with as many decimals as it takes to print it above ``limit`` (``2.54`` beside 2.5, not ``2.5``):
    a verdict "X > limit" must not read "2.5 > 2.5"."""
    for places in range(digits, 7):
        text = f"{value:.{places}f}"
        if float(text) > limit:
            return text
    return repr(value)


@dataclass(frozen=True)
class LatencyStats:
    """Statistics of per-inference latencies, in milliseconds."""

    n: int
    min: float
    mean: float
    median: float
    p90: float
    p95: float
    p99: float
    max: float
    std: float

    @classmethod
    def from_seconds(cls, seconds: Sequence[float]) -> LatencyStats:
        ms = sorted(s * 1e3 for s in seconds)
        return cls(
            n=len(ms),
            min=ms[0],
            mean=statistics.fmean(ms),
            median=percentile(ms, 50),
            p90=percentile(ms, 90),
            p95=percentile(ms, 95),
            p99=percentile(ms, 99),
            max=ms[-1],
            std=statistics.pstdev(ms) if len(ms) > 1 else 0.0,
        )

    @property
    def cv_pct(self) -> float:
        """Coefficient of variation, std / mean in percent."""
        return 100.0 * self.std / self.mean if self.mean else 0.0

    @property
    def stable(self) -> bool:
        return self.cv_pct <= UNSTABLE_CV_PCT

    def stability_warning(self, label: str) -> str | None:
        if self.stable:
            return None
        return (
            f"{label}: latency is unstable (coefficient of variation {above(self.cv_pct, UNSTABLE_CV_PCT)} % > "
            f"{UNSTABLE_CV_PCT:g} %); other processes may compete for the CPU: close them, pin --threads, or run "
            "longer (--duration)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            **{k: round(getattr(self, k), 4) for k in ("min", "mean", "median", "p90", "p95", "p99", "max", "std")},
            "cv_pct": round(self.cv_pct, 2),
        }
