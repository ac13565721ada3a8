"""``bench``: the same model, the same input and the same settings on every backend, side by side."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.backends.timing import Loop, peak_rss_mib, reset_peak_rss, rss_mib
from pt2trt.bench.stats import LatencyStats
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import existing_file
from pt2trt.onnx.model import ModelLike, OnnxModel
from pt2trt.settings import RunInputs, RunnerSettings
from pt2trt.shapes import InputSpec

#: every backend bench knows, in the order ``all`` runs them
BACKENDS = ("torch", "onnxruntime", "openvino", "tensorrt")
DEFAULT_BACKENDS = ("torch", "onnxruntime", "openvino")
#: ``--openvino-mode`` choices: the timing modes to run a backend in (``both``: latency and throughput)
OPENVINO_MODES = ("latency", "throughput", "both")
SAMPLES_KEPT = 2000  # latencies kept per backend for the report's distribution plots

ProgressFn = Callable[[str, float], None]

if TYPE_CHECKING:
    from pt2trt.backends.base import Runner


@dataclass
class BackendResult:
    """One backend's run: statistics in milliseconds, throughput, set-up time and costs beyond compute."""

    backend: str
    label: str
    status: str  # "ok" | "skipped" | "failed"
    reason: str = ""
    setup_seconds: float | None = None
    latency: LatencyStats | None = None
    wall_seconds: float | None = None
    batch: int = 1
    costs: dict[str, LatencyStats] = field(default_factory=dict)
    peak_rss_mib: float | None = None
    rss_growth_mib: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    samples_ms: list[float] = field(default_factory=list, repr=False)
    outputs: list[Any] = field(default_factory=list, repr=False)  # first call's outputs (numpy), not timed
    speedup: float | None = None

    @property
    def inferences_per_second(self) -> float | None:
        if self.latency is None or not self.wall_seconds:
            return None
        return self.latency.n / self.wall_seconds

    @property
    def images_per_second(self) -> float | None:
        ips = self.inferences_per_second
        return ips * self.batch if ips is not None else None

    def to_dict(self) -> dict[str, Any]:
        ips = self.inferences_per_second
        return {
            "backend": self.backend,
            "label": self.label,
            "status": self.status,
            "reason": self.reason,
            "setup_seconds": round(self.setup_seconds, 4) if self.setup_seconds is not None else None,
            "latency_ms": self.latency.to_dict() if self.latency else None,
            "wall_seconds": round(self.wall_seconds, 4) if self.wall_seconds is not None else None,
            "inferences_per_second": round(ips, 3) if ips is not None else None,
            "images_per_second": round(ips * self.batch, 3) if ips is not None else None,
            "speedup_vs_first": round(self.speedup, 4) if self.speedup is not None else None,
            "costs_ms": {k: v.to_dict() for k, v in self.costs.items()},
            "peak_rss_mib": round(self.peak_rss_mib, 1) if self.peak_rss_mib is not None else None,
            "rss_growth_mib": round(self.rss_growth_mib, 1) if self.rss_growth_mib is not None else None,
            "settings": self.settings,
        }


@dataclass
class BenchReport:
    """Every backend's result for one model and input."""

    model: Path
    inputs: list[InputSpec]
    batch: int
    threads: int
    loop: Loop
    results: list[BackendResult]
    seconds: float = 0.0

    @property
    def ran(self) -> list[BackendResult]:
        return [r for r in self.results if r.status == "ok"]

    @property
    def warnings(self) -> list[str]:
        notes = [w for r in self.ran if r.latency and (w := r.latency.stability_warning(r.label))]
        return notes + [f"{r.label}: {r.status}: {r.reason}" for r in self.results if r.status != "ok"]

    def result(self, label: str) -> BackendResult:
        return next(r for r in self.results if r.label == label)

    def fairness(self) -> str:
        shapes = ", ".join(str(s) for s in self.inputs)
        return (
            f"same input on every backend ({shapes}; one seeded random batch prepared before timing), "
            f"{self.threads} intra-op thread(s), float32, warm-up {self.loop.warmup_ms:g} ms, then at least "
            f"{self.loop.iterations} iterations and {self.loop.duration:g} s per backend"
        )

    def closing_line(self) -> str:
        best = min(self.ran, key=lambda r: r.latency.median if r.latency else float("inf"), default=None)
        fastest = f", fastest {best.label} {best.latency.median:.3f} ms median" if best and best.latency else ""
        ran = f"{len(self.ran)}/{len(self.results)}"
        return f"benchmarked {ran} backend(s) on {self.model.name}{fastest}, {self.seconds:.1f} s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": str(self.model),
            "inputs": [s.to_dict() for s in self.inputs],
            "batch": self.batch,
            "threads": self.threads,
            "loop": self.loop.to_dict(),
            "fairness": self.fairness(),
            "results": [r.to_dict() for r in self.results],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


def parse_backends(text: str | Sequence[str]) -> list[str]:
    """``torch,onnxruntime`` or ``all`` (the local ones) -> backend names, checked against the backend registry."""
    from pt2trt.backends import backend_names

    known = list(dict.fromkeys([*BACKENDS, *backend_names()]))
    items = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    if items == ["all"]:
        return list(BACKENDS)
    unknown = [b for b in items if b not in known]
    if unknown or not items:
        raise UsageError(f"unknown backend '{', '.join(unknown) or text}'", f"Use any of: {', '.join(known)}, or all")
    return list(dict.fromkeys(items))


def timing_modes(openvino_mode: str) -> tuple[str, ...]:
    """``--openvino-mode`` as timing modes: ``both`` runs latency and throughput."""
    if openvino_mode not in OPENVINO_MODES:
        raise UsageError(f"unknown OpenVINO mode '{openvino_mode}'", f"Use one of: {', '.join(OPENVINO_MODES)}")
    return ("latency", "throughput") if openvino_mode == "both" else (openvino_mode,)


def default_threads() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@dataclass(frozen=True)
class _Planned:
    """One backend run to time: its runner (None when it cannot run here, with the reason) and its label."""

    backend: str
    label: str
    runner: Runner | None
    reason: str = ""


def bench(
    model: ModelLike,
    backends: Sequence[str] = DEFAULT_BACKENDS,
    *,
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    runner: RunnerSettings | None = None,
    loop: Loop | None = None,
    modes: Sequence[str] = ("latency",),
    sources: Mapping[str, Any] | None = None,
    progress: bool | ProgressFn = False,
) -> BenchReport:
    """Time ``model`` (an ONNX handle or path) on ``backends`` with one loop and one input; the first is the baseline.

    Every backend is a registered runner: it runs the model of its kind (``Runner.source``): the ONNX model, or
    ``sources["pytorch"]`` (a spec, module or :class:`~pt2trt.settings.ModelSource`; by default the spec recorded
    in the ONNX metadata at export) or ``sources["engine"]`` (the TensorRT engine built from ``model``). ``inputs``
    (:class:`~pt2trt.settings.RunInputs`: specs, batch, seed) choose the one input; ``runner`` the threads (the same
    on every backend; default: the usable cores), providers and backend options (Triton: ``url``, ``model_name``;
    TensorRT: ``cuda_graph``). ``modes`` are the timing modes to run each backend in where it has them (OpenVINO:
    ``latency``, ``throughput``). A backend that cannot run here is reported as skipped with the reason; one that
    fails to load is reported as failed.
    """
    from pt2trt.feeds import random_feed
    from pt2trt.onnx import metadata as meta
    from pt2trt.onnx.inputs import resolve_verify_inputs

    handle = OnnxModel.of(model)
    run = RunInputs.of(inputs)
    settings = runner or RunnerSettings()
    if run.batch is not None and run.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {run.batch}", "Pass --batch 1 or more")
    loop = loop or Loop()
    if loop.iterations < 1 or loop.duration < 0 or loop.warmup_ms < 0:
        raise UsageError(
            "--iterations must be at least 1, --duration and --warmup not negative",
            "e.g. --iterations 100 --duration 3 --warmup 200",
        )
    settings = replace(
        settings, threads=settings.threads or default_threads(), providers=settings.providers or run.providers
    )
    specs = resolve_verify_inputs(handle, run.spec_list, run.batch)
    given = dict(sources or {})
    kinds: dict[str, Any] = {"onnx": handle, "pytorch": given.get("pytorch") or handle.metadata.get(meta.MODEL)}
    if given.get("engine") is not None:
        kinds["engine"] = existing_file(given["engine"], "engine file")
    feed = random_feed(specs, run.seed)
    first_batch = specs[0].shape[0] if specs and specs[0].shape else 1
    planned = [p for name in parse_backends(backends) for p in _plan(name, modes, kinds, specs, settings)]

    start = time.perf_counter()
    report = BenchReport(handle.path or Path(handle.name), specs, first_batch, settings.threads or 1, loop, [], 0.0)
    notify = _Notifier(progress)
    try:
        for item in planned:
            if item.runner is None:
                report.results.append(
                    BackendResult(item.backend, item.label, "skipped", item.reason, batch=first_batch)
                )
                continue
            report.results.append(_run_one(item, feed, loop, first_batch, notify))
    finally:
        notify.close()
    baseline = report.results[0] if report.results and report.results[0].latency else None
    for r in report.ran:
        if baseline is not None and baseline.latency and r.latency:
            r.speedup = baseline.latency.median / r.latency.median
    report.seconds = time.perf_counter() - start
    if not report.ran:
        raise Pt2trtError(
            "no backend could run: " + "; ".join(f"{r.label}: {r.reason}" for r in report.results),
            "Install a backend (onnxruntime is a dependency) or fix the model",
        )
    return report


def _plan(
    name: str, modes: Sequence[str], kinds: Mapping[str, Any], specs: list[InputSpec], settings: RunnerSettings
) -> list[_Planned]:
    """The runs of backend ``name``: one per timing mode it has among ``modes`` (else latency), each a runner or the
    reason it cannot run here."""
    from pt2trt.backends import runner_class

    cls = runner_class(name)
    runs = [m for m in modes if m in cls.modes] or ["latency"]
    labels = [name if m == "latency" else f"{name} ({m})" for m in runs]
    why = cls.unavailable() or (None if kinds.get(cls.source) is not None else _missing(cls.source))
    if why:
        return [_Planned(name, label, None, why) for label in labels]
    planned = []
    for mode, label in zip(runs, labels):
        made = cls.from_settings(kinds[cls.source], replace(settings, mode=mode), specs)
        planned.append(_Planned(name, made.label if mode == "latency" else label, made))
    return planned


def _missing(source: str) -> str:
    if source == "pytorch":
        return "no PyTorch model: the ONNX file records none (export it with pt2trt) and none was given (--pytorch)"
    if source == "engine":
        return "no engine: build one with `pt2trt build MODEL.onnx` and pass it with --engine"
    return f"no {source} model given"


def _run_one(item: _Planned, feed: dict, loop: Loop, batch: int, notify: _Notifier) -> BackendResult:
    runner = item.runner
    assert runner is not None
    result = BackendResult(item.backend, item.label, "ok", batch=batch)
    peak_resettable = reset_peak_rss()
    before = rss_mib()
    notify(item.label, 0.0)
    start = time.perf_counter()
    try:
        runner.activate()
        first = runner.infer(feed)  # outside the clock: a model that cannot run fails here, as a setup error
        result.setup_seconds = time.perf_counter() - start
        result.outputs = [np.asarray(v) for v in first.values()]
        timings = runner.time(feed, loop, lambda done: notify(item.label, done))
        result.settings = runner.timing_settings()
    except Pt2trtError as exc:
        result.status, result.reason = "failed", str(exc)
        return result
    finally:
        after = rss_mib()
        runner.deactivate()
    result.latency = LatencyStats.from_seconds(timings.seconds)
    result.wall_seconds = timings.wall
    result.costs = {k: LatencyStats.from_seconds(v) for k, v in timings.extra.items() if v}
    step = max(1, len(timings.seconds) // SAMPLES_KEPT)
    result.samples_ms = [round(s * 1e3, 4) for s in timings.seconds[::step]]
    result.peak_rss_mib = peak_rss_mib() if peak_resettable else None
    result.rss_growth_mib = after - before if after is not None and before is not None else None
    result.settings["warmup_calls"] = timings.warmup_calls
    return result


class _Notifier:
    """Progress: a caller's function, a rich bar per backend on stderr, or nothing."""

    def __init__(self, target: bool | ProgressFn) -> None:
        self.fn: ProgressFn | None = target if callable(target) else None
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        if target is True:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("bench {task.description:<24}"), BarColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )  # fmt: skip
            self.bar.start()

    def __call__(self, label: str, done: float) -> None:
        if self.fn is not None:
            self.fn(label, done)
        if self.bar is not None:
            if label not in self.tasks:
                self.tasks[label] = self.bar.add_task(label, total=1.0)
            self.bar.update(self.tasks[label], completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
