"""TensorRT timing with CUDA events: host-to-device copy, compute, device-to-host copy and host enqueue time.

Written against TensorRT 10/11's tensor-name API and PyTorch's CUDA streams and events; it runs only where TensorRT
and a CUDA GPU exist, and has not run on the CPU machines pt2trt is developed on. Each iteration, on one stream::

    record e0; copy pinned host input -> device; record e1; execute_async_v3 (host time = enqueue);
    record e2; copy device output -> pinned host; record e3; synchronize

``e0..e1`` is H2D, ``e1..e2`` GPU compute, ``e2..e3`` D2H, as trtexec splits them. With ``cuda_graph=True`` the
``execute_async_v3`` call is captured once into a CUDA graph and replayed (trtexec's ``--useCudaGraph``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from pt2trt.backends.timing import Loop, Progress, Timings, warm_up


class CudaEventTimer:
    """An active :class:`~pt2trt.backends.tensorrt.runner.TensorRTRunner` timed with CUDA events on its stream
    (see the module docstring); the feed is copied to pinned host memory once, before timing."""

    def __init__(self, *, cuda_graph: bool = False) -> None:
        self.cuda_graph = cuda_graph
        self.graph: Any = None

    def prepare(self, runner: Any, feed: Mapping[str, np.ndarray]) -> None:
        """Bind the active runner's context and stream, copy ``feed`` to pinned memory, run once (and capture)."""
        import torch

        from pt2trt.backends.tensorrt.tensors import check_shape

        self.feed = dict(feed)
        self.torch = torch
        self.runner = runner
        context = self.runner._context  # the runner owns engine, context and stream; the timer drives them
        self.stream = self.runner._stream
        device = f"cuda:{self.runner.device}"
        self.host_in: dict[str, Any] = {}
        self.dev_in: dict[str, Any] = {}
        self.dev_out: dict[str, Any] = {}
        self.host_out: dict[str, Any] = {}
        for t in self.runner.tensors:
            if t.is_input:
                value = np.ascontiguousarray(self.feed[t.name])
                check_shape(t, value.shape, self.runner.profile)
                self.host_in[t.name] = torch.from_numpy(value).pin_memory()
                self.dev_in[t.name] = self.host_in[t.name].to(device)
                context.set_input_shape(t.name, tuple(value.shape))
                context.set_tensor_address(t.name, self.dev_in[t.name].data_ptr())
        for t in self.runner.tensors:
            if not t.is_input:
                shape = tuple(context.get_tensor_shape(t.name))
                self.dev_out[t.name] = torch.empty(shape, dtype=getattr(torch, t.dtype), device=device)
                self.host_out[t.name] = torch.empty(shape, dtype=getattr(torch, t.dtype)).pin_memory()
                context.set_tensor_address(t.name, self.dev_out[t.name].data_ptr())
        self.context = context
        self.events = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
        self.graph = None
        self._enqueue()  # a first execution settles shapes and lazy allocations before a graph capture
        self.stream.synchronize()
        if self.cuda_graph:
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph, stream=self.stream):
                self._enqueue()
        self.enqueue_seconds: list[float] = []

    def _enqueue(self) -> None:
        if not self.context.execute_async_v3(self.stream.cuda_stream):
            raise RuntimeError("TensorRT execute_async_v3 returned False")

    def call(self) -> object:
        e0, e1, e2, e3 = self.events
        with self.torch.cuda.stream(self.stream):
            e0.record(self.stream)
            for name, host in self.host_in.items():
                self.dev_in[name].copy_(host, non_blocking=True)
            e1.record(self.stream)
            start = time.perf_counter()
            if self.graph is not None:
                self.graph.replay()
            else:
                self._enqueue()
            self.enqueue_seconds.append(time.perf_counter() - start)
            e2.record(self.stream)
            for name, dev in self.dev_out.items():
                self.host_out[name].copy_(dev, non_blocking=True)
            e3.record(self.stream)
        self.stream.synchronize()
        return self.host_out

    def run(self, loop: Loop, progress: Progress | None = None) -> Timings:
        """Latency = H2D + compute + D2H from the events (GPU time), as trtexec's "Latency"; phases kept apart."""
        warm_up(self.call, loop.warmup_ms)
        self.enqueue_seconds = []
        phases: dict[str, list[float]] = {"h2d": [], "compute": [], "d2h": []}
        latencies: list[float] = []
        clock = time.perf_counter
        begin = clock()
        end = begin + loop.duration
        while True:
            self.call()
            e0, e1, e2, e3 = self.events
            h2d, compute, d2h = (a.elapsed_time(b) / 1e3 for a, b in ((e0, e1), (e1, e2), (e2, e3)))
            phases["h2d"].append(h2d)
            phases["compute"].append(compute)
            phases["d2h"].append(d2h)
            latencies.append(h2d + compute + d2h)
            now = clock()
            if len(latencies) >= loop.iterations and now >= end:
                break
            if progress is not None and len(latencies) % 16 == 0:
                progress(min(1.0, max(len(latencies) / loop.iterations, (now - begin) / loop.duration or 1)))
        phases["enqueue"] = list(self.enqueue_seconds)
        return Timings(latencies, clock() - begin, 0, extra=phases)

    def close(self) -> None:
        self.graph = None

    def settings(self) -> dict[str, Any]:
        import tensorrt

        return {
            "tensorrt": tensorrt.__version__,
            "device": self.torch.cuda.get_device_name(self.runner.device),
            "cuda_graph": self.cuda_graph,
            "copies": "pinned host memory, timed with CUDA events",
        }
