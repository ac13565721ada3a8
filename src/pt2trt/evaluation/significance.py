"""Paired reads of significance: exact McNemar on the samples that flipped, and a bootstrap over images.

Both compare two models on the *same* images. McNemar looks only at the discordant samples (``b`` right for the
reference and wrong for the other, ``c`` the reverse): under "no difference" each flip goes either way with
probability 1/2, so the two-sided p-value is the binomial tail ``2 * P(X <= min(b, c))``, ``X ~ Bin(b + c, 1/2)``.
The bootstrap draws the images with replacement (the same draw for both models, so the pairing is kept), recomputes
the metric difference on each draw, and reads a percentile interval and a two-sided p-value from the draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: a difference is called significant below this p-value
ALPHA = 0.05


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for ``b`` and ``c`` discordant samples (1.0 when nothing flipped)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    # log C(n, i) - n log 2, summed stably from the largest term down
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2) for i in range(k + 1)]
    top = max(logs)
    tail = math.exp(top) * sum(math.exp(v - top) for v in logs)
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Bootstrap:
    """Resampling counts: ``counts[r, i]`` is how often image ``i`` is drawn in round ``r``."""

    counts: np.ndarray

    @classmethod
    def draw(cls, images: int, rounds: int, seed: int = 0) -> Bootstrap:
        rng = np.random.default_rng(seed)
        counts = np.zeros((rounds, images), dtype=np.int64)
        for r in range(rounds):
            counts[r] = np.bincount(rng.integers(0, images, images), minlength=images)
        return cls(counts)

    @property
    def rounds(self) -> int:
        return int(self.counts.shape[0])


@dataclass(frozen=True)
class Interval:
    """A bootstrap read of a difference: its percentile interval and two-sided p-value."""

    low: float
    high: float
    p_value: float
    rounds: int


def paired_difference(
    metric: Callable[[np.ndarray], float],
    other: Callable[[np.ndarray], float],
    bootstrap: Bootstrap,
    level: float = 0.95,
) -> Interval:
    """The interval of ``other - metric`` over the bootstrap's draws (each a callable of per-image counts).

    Draws in which a metric is undefined (NaN: e.g. no ground truth drawn) are left out. The p-value is twice the
    share of draws on the far side of zero (at least 1 / draws: a bootstrap cannot say less)."""
    diffs = np.array([other(c) - metric(c) for c in bootstrap.counts], dtype=np.float64)
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return Interval(float("nan"), float("nan"), 1.0, 0)
    tail = (1 - level) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    if np.all(diffs == 0):
        p = 1.0
    else:
        share = min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0)))
        p = min(1.0, max(2 * share, 1 / diffs.size))
    return Interval(float(low), float(high), p, int(diffs.size))
