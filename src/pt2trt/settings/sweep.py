"""What ``pt2trt sweep`` is asked to do besides its manifest: where the models run, what to compare them with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Thresholds:
    """What counts as a change: ``latency`` a relative move of a median (0.10 = 10 %), widened to the runs' own
    spread; ``metric_drop`` an absolute drop of a higher-is-better metric (0.01 = one point of an agreement)."""

    latency: float = 0.10
    metric_drop: float = 0.01


@dataclass(frozen=True)
class SweepSettings:
    """``workers``: models converted at once on this machine [default: the usable cores], with ``ray="local"`` the
    local cluster's CPUs; ``ray``: ``"local"`` or a cluster address (None: local worker processes); ``baseline``: an
    earlier sweep's OUTDIR to judge each model against, with ``thresholds``; ``resume``: keep the models already done
    in OUTDIR; ``force``: run every model again, replacing OUTDIR's earlier sweep; ``gpu_bench_duration``: seconds of
    TensorRT bench per engine built on a Ray GPU node.

    (``--fail-on-regression`` is not here: it decides the CLI's exit code, while the Python API returns the report,
    whose ``regressions`` say the same.)"""

    workers: int | None = None
    ray: str | None = None
    baseline: Path | None = None
    resume: bool = False
    force: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)
    gpu_bench_duration: float = 1.0
