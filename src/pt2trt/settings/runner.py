"""How a backend runs a model, and how long a timing runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: modes a runner can be timed in: one request at a time, or as many in flight as the device likes
TIMING_MODES = ("latency", "throughput")


@dataclass(frozen=True)
class RunnerSettings:
    """The options a runner may read; each backend reads those it has and no other.

    ``backend`` ``auto`` chooses by the model's file suffix. ONNX Runtime: ``providers`` (``cpu``, ``cuda``,
    ``tensorrt``...; default CPU) and ``threads``. OpenVINO: ``threads``, ``mode``. PyTorch: ``threads``. Triton:
    ``url``, ``model_name``. TensorRT: ``check_metadata`` (refuse an engine whose ``.json`` names another TensorRT
    or GPU), ``profile``, ``cuda_graph`` (timing). ``mode`` is how a timing runs (``latency`` or ``throughput``).
    """

    backend: str = "auto"
    providers: tuple[str, ...] = ()
    threads: int | None = None
    url: str | None = None
    model_name: str | None = None
    check_metadata: bool = True
    profile: int = 0
    cuda_graph: bool = False
    mode: str = "latency"

    @property
    def provider_list(self) -> list[str] | None:
        return list(self.providers) or None

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class Loop:
    """How long to run: warm-up in milliseconds, then ``iterations`` and ``duration`` seconds, both minimums."""

    warmup_ms: float = 200.0
    iterations: int = 10
    duration: float = 3.0

    def to_dict(self) -> dict[str, Any]:
        return {"warmup_ms": self.warmup_ms, "iterations": self.iterations, "duration_s": self.duration}
