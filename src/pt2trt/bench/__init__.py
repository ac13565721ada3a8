"""Timing on every backend side by side: warm-up, percentiles, throughput and what each backend costs beyond compute.

import pt2trt.bench
report = pt2trt.bench.bench("r18.onnx", ["torch", "onnxruntime", "openvino"])
print(report.result("onnxruntime").latency.median)
"""

from __future__ import annotations

from pt2trt.backends.timing import Loop
from pt2trt.bench.run import BACKENDS, DEFAULT_BACKENDS, BackendResult, BenchReport, bench, parse_backends
from pt2trt.bench.stats import UNSTABLE_CV_PCT, LatencyStats

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKENDS",
    "UNSTABLE_CV_PCT",
    "BackendResult",
    "BenchReport",
    "LatencyStats",
    "Loop",
    "bench",
    "parse_backends",
]
