"""What a sweep keeps of each model: status, the failing step and its one-line reason, metrics, latency per backend.

One :class:`ModelResult` per model, written as ``OUTDIR/<name>/sweep.json`` the moment the model is done (so a sweep
killed half way loses nothing done) and gathered into ``results.json``; a later sweep's ``--baseline`` reads them back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASSED, FAILED, ERROR = "passed", "failed", "error"
#: passed: every step passed; failed: a check of convert failed (its report says which); error: convert could not
#: run or finish (a usage error, a crash, a process or worker killed twice)
STATUSES = (PASSED, FAILED, ERROR)
RECORD = "sweep.json"


@dataclass
class Metric:
    """One number a model's conversion is judged by, with how many samples it rests on."""

    value: float
    samples: int | None = None
    higher_is_better: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Latency:
    """One backend's latency summary from convert's bench (milliseconds)."""

    median: float
    p90: float | None = None
    min: float | None = None
    n: int = 0
    cv_pct: float | None = None

    @property
    def spread(self) -> float | None:
        """The run's own relative jitter: (p90 - median) / median, None without a p90."""
        if self.p90 is None or self.median <= 0:
            return None
        return max(0.0, (self.p90 - self.median) / self.median)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ModelResult:
    """One model of the sweep, as run."""

    name: str
    model: str
    line: int
    status: str
    step: str | None = None  # failing step: convert's step name, or "convert" / "worker" when it did not finish
    reason: str = ""  # one line
    seconds: float = 0.0
    started: float | None = None  # wall clock (epoch seconds) when its convert started and ended
    finished: float | None = None
    attempts: int = 1
    where: dict[str, Any] = field(default_factory=dict)  # executor, host, Ray node id, pid
    steps: list[dict[str, Any]] = field(default_factory=list)  # name, status, seconds of each convert step
    metrics: dict[str, Metric] = field(default_factory=dict)
    latency: dict[str, Latency] = field(default_factory=dict)
    engine: dict[str, Any] | None = None  # where the engine was built, or why not
    report: str | None = None  # OUTDIR-relative path of report.html
    log: str | None = None  # OUTDIR-relative path of the convert log
    fingerprint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def summary(self) -> str:
        """``passed`` or ``failed at verify: REASON``."""
        if self.passed:
            return PASSED
        return f"{self.status} at {self.step}: {self.reason}" if self.step else f"{self.status}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = {k: m.to_dict() for k, m in self.metrics.items()}
        data["latency"] = {k: v.to_dict() for k, v in self.latency.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelResult:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["metrics"] = {k: Metric(**m) for k, m in (data.get("metrics") or {}).items()}
        fields["latency"] = {k: Latency(**v) for k, v in (data.get("latency") or {}).items()}
        return cls(**fields)
