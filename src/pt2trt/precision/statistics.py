"""Activation statistics of the FP32 model, one pass for both precisions.

ONNX Runtime runs the model over the samples with every float intermediate tensor exposed as an output; per tensor
we keep the running min, max, largest magnitude, NaN/Inf counts, how many non-zero values fall below FP16's smallest
normal number, and (for the entropy and percentile calibration methods) ONNX Runtime's own merged histogram. Memory
stays bounded: one batch of activations at a time, then only the counters and 2048-bin histograms.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.precision.data import Samples, measurement_batch

if TYPE_CHECKING:
    import onnx

FP16_MAX = 65504.0
FP16_MIN_NORMAL = 2.0**-14
HISTOGRAM_BINS = 2048


@dataclass
class TensorStats:
    """What one tensor held over all samples."""

    name: str
    min: float = float("inf")
    max: float = float("-inf")
    abs_max: float = 0.0
    count: int = 0
    nonzero: int = 0
    subnormal: int = 0  # non-zero values with |x| < 2**-14 (FP16 subnormals or zero)
    nan: int = 0
    inf: int = 0
    abs_min_nonzero: float = float("inf")
    shape: tuple[int, ...] = ()  # as last seen (batch axis included)
    channel_sum: np.ndarray | None = None  # per channel (axis 1) sums, for INT8 bias correction
    channel_count: int = 0

    @property
    def channel_mean(self) -> np.ndarray | None:
        return self.channel_sum / self.channel_count if self.channel_sum is not None and self.channel_count else None

    def update(self, values: np.ndarray) -> None:
        if values.ndim >= 2 and np.isfinite(values).all():
            sums = values.astype(np.float64).sum(axis=tuple(i for i in range(values.ndim) if i != 1))
            if self.channel_sum is None or self.channel_sum.shape != sums.shape:
                self.channel_sum, self.channel_count = sums, 0
            else:
                self.channel_sum = self.channel_sum + sums
            self.channel_count += values.size // values.shape[1] if values.shape[1] else 0
        self.shape = tuple(values.shape)
        flat = values.reshape(-1)
        finite = np.isfinite(flat)
        self.count += flat.size
        if not finite.all():
            self.nan += int(np.isnan(flat).sum())
            self.inf += int(np.isinf(flat).sum())
            flat = flat[finite]
        if flat.size == 0:
            return
        lo, hi = float(flat.min()), float(flat.max())
        self.min, self.max = min(self.min, lo), max(self.max, hi)
        self.abs_max = max(self.abs_max, abs(lo), abs(hi))
        magnitude = np.abs(flat)
        nonzero = magnitude[magnitude > 0]
        self.nonzero += nonzero.size
        if nonzero.size:
            self.abs_min_nonzero = min(self.abs_min_nonzero, float(nonzero.min()))
            self.subnormal += int((nonzero < FP16_MIN_NORMAL).sum())

    @property
    def subnormal_fraction(self) -> float:
        return self.subnormal / self.nonzero if self.nonzero else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "min": self.min,
            "max": self.max,
            "abs_max": self.abs_max,
            "subnormal_fraction": self.subnormal_fraction,
            **({"nan": self.nan} if self.nan else {}),
            **({"inf": self.inf} if self.inf else {}),
        }


@dataclass
class Statistics:
    """Per-tensor statistics, and the histograms collected for the entropy/percentile methods."""

    tensors: dict[str, TensorStats]
    samples: int
    batches: int
    seconds: float
    histograms: dict[str, tuple] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        largest = max(self.tensors.values(), key=lambda t: t.abs_max, default=None)
        return {
            "samples": self.samples,
            "tensors": len(self.tensors),
            "seconds": round(self.seconds, 3),
            "histograms": bool(self.histograms),
            **({"largest_tensor": {"name": largest.name, "abs_max": largest.abs_max}} if largest else {}),
            "tensors_over_fp16_range": sorted(n for n, t in self.tensors.items() if t.abs_max > FP16_MAX),
        }


def float_tensors(model: onnx.ModelProto) -> list[str]:
    """Tensors produced by nodes, plus the graph's inputs, in graph order. Tensors computed from constants only are
    included: a weight written as ``Constant`` + ``Reshape`` (PaddlePaddle's exporter) is an input of the op the
    quantizer sees, and it needs a range like any activation. ``Constant`` nodes' own outputs are values already."""
    from pt2trt.debug.graph import GraphIndex

    index = GraphIndex.build(model)
    names = list(index.inputs)
    for node in model.graph.node:
        if node.op_type != "Constant":
            names.extend(t for t in node.output if t)
    return list(dict.fromkeys(names))


def collect_statistics(
    model: onnx.ModelProto,
    source: Path | bytes | None,
    samples: Samples,
    *,
    batch: int = 8,
    histograms: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Statistics:
    """Run ``model`` over ``samples`` and keep statistics; ``source``: the file ``model`` was loaded from when it holds
    all of it, or the bytes read from it (reused, not serialised again)."""
    from pt2trt.debug.expose import exposed, onnxruntime_factory

    start = time.perf_counter()
    names = float_tensors(model)
    stats: dict[str, TensorStats] = {}
    collector = _histogram_collector() if histograms else None
    batch, static = measurement_batch(model, batch)
    batches = 0
    with exposed(model, names, source) as serialized, onnxruntime_factory()(serialized) as runner:
        for feed, count in samples.batches(batch, pad=static):
            outputs = runner.infer(feed, check=False)
            values = {**{k: v for k, v in feed.items() if k in names}, **outputs}
            floats = {k: v for k, v in values.items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"}
            for name, array in floats.items():
                stats.setdefault(name, TensorStats(name)).update(array)
            if collector is not None:
                finite = {k: np.nan_to_num(v.astype(np.float32, copy=False)) for k, v in floats.items()}
                with contextlib.redirect_stdout(io.StringIO()):  # ORT prints a line per call
                    collector.collect(finite)
            batches += 1
            if progress:
                progress(count)
    return Statistics(
        stats,
        len(samples),
        batches,
        time.perf_counter() - start,
        collector.get_histogram_dict() if collector is not None else {},
    )


def _histogram_collector() -> Any:
    from onnxruntime.quantization.calibrate import HistogramCollector

    # a signed histogram over [-|x|max, |x|max] serves both entropy and (folded) percentile thresholds
    return HistogramCollector("entropy", True, HISTOGRAM_BINS, 128, 99.999, "same")
