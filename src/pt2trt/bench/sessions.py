"""One timed session per backend: set up once, then a call that runs one inference on the prepared input.

Fairness: every session gets the same feed (one seeded random batch, prepared before timing, so no conversion is
timed), the same intra-op thread count, float32 compute, and the same loop (:func:`pt2trt.bench.timing.time_calls`).
Each session's ``settings()`` records what it used, and the report prints them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt.bench.timing import Loop, Progress, Timings, time_calls
from pt2trt.errors import Pt2trtError
from pt2trt.shapes import InputSpec


class Session(ABC):
    """A backend prepared for timing: ``open()`` (timed as setup), ``run(loop)``, ``close()``."""

    backend: str = "base"
    mode: str = "latency"

    def __init__(self, feed: Mapping[str, np.ndarray], threads: int) -> None:
        self.feed = dict(feed)
        self.threads = threads
        self.first: object = None  # the first call's outputs (outside the clock), for accuracy checks

    def first_outputs(self) -> list[np.ndarray]:
        """The first call's outputs as numpy arrays, in the model's output order."""
        value = self.first
        if isinstance(value, Mapping):
            value = list(value.values())
        return [np.asarray(v) for v in value] if isinstance(value, list | tuple) else [np.asarray(value)]

    @property
    def label(self) -> str:
        return self.backend if self.mode == "latency" else f"{self.backend} ({self.mode})"

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def call(self) -> object:
        """One synchronous inference on the prepared feed."""

    def run(self, loop: Loop, progress: Progress | None = None) -> Timings:
        return time_calls(self.call, loop, progress)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the session."""

    def settings(self) -> dict[str, Any]:
        return {"threads": self.threads, "mode": self.mode}


class TorchSession(Session):
    """``module(*tensors)`` under ``torch.inference_mode`` with ``torch.set_num_threads(threads)``."""

    backend = "torch"

    def __init__(self, model: Any, specs: list[InputSpec], feed: Mapping[str, np.ndarray], threads: int) -> None:
        super().__init__(feed, threads)
        self.model = model
        self.specs = specs
        self._saved_threads: int | None = None

    def open(self) -> None:
        import torch

        from pt2trt.pytorch.sources import LoadedModel, load_model

        loaded = self.model if isinstance(self.model, LoadedModel) else load_model(self.model)
        self.module = loaded.module.eval()
        self.args = [torch.from_numpy(np.ascontiguousarray(self.feed[str(s.name)])) for s in self.specs]
        self._saved_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        self._mode = torch.inference_mode
        self.first = self.call()  # outside the clock: a model that cannot run fails here, as a setup error

    def call(self) -> object:
        with self._mode():
            return self.module(*self.args)

    def first_outputs(self) -> list[np.ndarray]:
        from pt2trt.pytorch.outputs import flatten_outputs

        return [t.detach().numpy() for _, t in flatten_outputs(self.first) if hasattr(t, "detach")]

    def close(self) -> None:
        import torch

        if self._saved_threads is not None:
            torch.set_num_threads(self._saved_threads)

    def settings(self) -> dict[str, Any]:
        import torch

        return {**super().settings(), "torch": torch.__version__, "device": "cpu", "inference_mode": True}


class OnnxRuntimeSession(Session):
    """``InferenceSession.run(None, feed)``: exactly a plain ORT loop, with ``intra_op_num_threads=threads``."""

    backend = "onnxruntime"

    def __init__(
        self, path: Path, feed: Mapping[str, np.ndarray], threads: int, providers: list[str] | None = None
    ) -> None:
        super().__init__(feed, threads)
        self.path = path
        self.providers = providers

    def open(self) -> None:
        import onnxruntime as ort

        from pt2trt.backends.onnxruntime import resolve_providers

        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.intra_op_num_threads = self.threads
        self.resolved = resolve_providers(self.providers)
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=self.resolved)
        except Exception as exc:  # ORT raises its own types for models it cannot take
            raise Pt2trtError(
                f"ONNX Runtime cannot load {self.path}: {_first_line(exc)}",
                "Check it with `pt2trt check MODEL.onnx`, or leave onnxruntime out of --backend",
            ) from exc
        self.first = self.call()

    def call(self) -> object:
        return self.session.run(None, self.feed)

    def close(self) -> None:
        self.session = None

    def settings(self) -> dict[str, Any]:
        import onnxruntime as ort

        return {**super().settings(), "onnxruntime": ort.__version__, "providers": self.resolved}


class OpenVinoSession(Session):
    """OpenVINO on CPU in float32. ``latency``: one synchronous infer request with ``PERFORMANCE_HINT=LATENCY``.

    ``throughput``: ``PERFORMANCE_HINT=THROUGHPUT`` and the device's optimal number of asynchronous infer requests
    kept busy; each latency is OpenVINO's measurement of one inference, throughput is inferences / wall time.
    """

    backend = "openvino"

    def __init__(self, path: Path, feed: Mapping[str, np.ndarray], threads: int, mode: str = "latency") -> None:
        super().__init__(feed, threads)
        self.path = path
        self.mode = mode
        self.requests = 1

    def open(self) -> None:
        from pt2trt.backends.openvino.runner import import_openvino

        ov = import_openvino()
        self.ov = ov
        config = {
            "PERFORMANCE_HINT": self.mode.upper(),
            "INFERENCE_PRECISION_HINT": "f32",
            "INFERENCE_NUM_THREADS": self.threads,
        }
        core = ov.Core()
        try:
            self.compiled = core.compile_model(core.read_model(str(self.path)), "CPU", config)
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses
            raise Pt2trtError(
                f"OpenVINO {ov.__version__} cannot load {self.path}: {_first_line(exc)}",
                "Leave openvino out of --backend (its ONNX frontend lacks an op of this model)",
            ) from exc
        self.request = self.compiled.create_infer_request()
        if self.mode == "throughput":
            self.requests = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.first = {k: np.array(v, copy=True) for k, v in self.call().items()}

    def call(self) -> object:
        return self.request.infer(self.feed, share_inputs=True)

    def run(self, loop: Loop, progress: Progress | None = None) -> Timings:
        if self.mode == "latency":
            return super().run(loop, progress)
        return self._run_async(loop, progress)

    def _run_async(self, loop: Loop, progress: Progress | None) -> Timings:
        """Keep ``requests`` asynchronous infer requests busy, round robin; each latency is OpenVINO's own
        measurement of that inference (``InferRequest.latency``). No Python callback runs on OpenVINO's threads:
        callbacks that need the GIL while a request is destroyed can deadlock (openvinotoolkit/openvino#37073).
        """
        from pt2trt.bench.timing import warm_up

        clock = time.perf_counter
        requests = [self.compiled.create_infer_request() for _ in range(self.requests)]
        warmup_calls = warm_up(self.call, loop.warmup_ms)
        latencies: list[float] = []
        busy = [False] * len(requests)
        begin = clock()
        end = begin + loop.duration
        started = 0
        while True:
            slot = started % len(requests)
            if busy[slot]:
                requests[slot].wait()
                latencies.append(requests[slot].latency / 1e3)
            requests[slot].start_async(self.feed, share_inputs=True)
            busy[slot] = True
            started += 1
            now = clock()
            if started >= loop.iterations and now >= end:
                break
            if progress is not None and started % 8 == 0:
                progress(
                    min(1.0, max(started / loop.iterations, (now - begin) / loop.duration if loop.duration else 1))
                )
        for slot, request in enumerate(requests):
            if busy[slot]:
                request.wait()
                latencies.append(request.latency / 1e3)
        wall = clock() - begin
        if progress is not None:
            progress(1.0)
        return Timings(latencies, wall, warmup_calls)

    def close(self) -> None:
        self.request = self.compiled = None

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "openvino": self.ov.__version__,
            "device": "CPU",
            "precision": "f32",
            "performance_hint": self.mode.upper(),
            "infer_requests": self.requests,
        }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class RunnerSession(Session):
    """Any other registered backend (Triton...) through its runner: ``activate()`` is the setup, ``infer`` the call.

    The runner gets the same feed and, where its constructor takes them, the thread count and ``options``
    (``url``/``model_name`` for Triton). What a remote backend's call costs includes the round trip: that is what a
    client pays.
    """

    def __init__(
        self, backend: str, path: Path, feed: Mapping[str, np.ndarray], threads: int, options: Mapping[str, Any]
    ) -> None:
        super().__init__(feed, threads)
        self.backend = backend
        self.path = path
        self.options = dict(options)
        self.runner: Any = None

    def open(self) -> None:
        from pt2trt.backends import runner_class

        self.runner = runner_class(self.backend).from_path(self.path, threads=self.threads, **self.options)
        self.runner.activate()
        self.first = self.runner.infer(self.feed)  # checked once; the timed calls skip the name check

    def call(self) -> object:
        return self.runner.infer(self.feed, check=False)

    def close(self) -> None:
        if self.runner is not None and self.runner.is_active:
            self.runner.deactivate()

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), **{k: str(v) for k, v in self.options.items()}}
