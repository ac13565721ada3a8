"""What INT8 Q/DQ buys on a CPU: resnet18 batch 1, FP32 and INT8 on ONNX Runtime and OpenVINO, PyTorch eager in
the same run, and the time ``pt2trt quantize`` takes.

- One model: torchvision resnet18 with random weights (He-initialised convolutions), exported by ``pt2trt export``
  (legacy exporter, batch 1). Calibration: scikit-image's colour photos and 5 random crops of each (42 images,
  1 in 5 held apart for measuring), through the ImageNet preprocessing.
- ``quantize`` is timed end to end (statistics, quantizer, measuring FP32 against INT8), twice: the figure is the
  faster run.
- PyTorch eager runs with all cores and with one thread; the faster is the baseline (OpenMP's spinning threads
  lose badly on a loaded machine: 350 ms instead of 50 ms for resnet18 here at load 7 on 2 cores).
- Latency: each runtime uses all cores (ONNX Runtime without thread spinning, which would slow the next runtime's
  calls on a small machine); after a warm-up, every round runs one block of calls per variant in a
  seeded random order (the first call of a block is not recorded), so machine drift spreads evenly. Reported:
  median, p90 and mean per call, and the speed-up of each variant over PyTorch eager (ratio of medians).
- Goal: the best INT8 backend at least 5x faster than PyTorch eager.

    .venv/bin/python benchmarks/bench_precision.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_info, print_table, summarize, write_result
from tests.precision_models import photos

from pt2trt.settings import ExportSettings

NAME = "bench_precision"
GOAL = 5.0


def resnet18() -> Any:
    """torchvision resnet18, random weights with He-initialised convolutions (the tests' builder)."""
    import torchvision
    from tests.task_models import he_init

    return he_init(torchvision.models.resnet18(weights=None).eval())


def variants(model: Any, fp32: Path, int8: Path, threads: int) -> dict[str, Callable[[np.ndarray], Any]]:
    import onnxruntime as ort
    import openvino as ov
    import torch

    def eager(n: int) -> Callable[[np.ndarray], Any]:
        def run(x: np.ndarray) -> Any:
            torch.set_num_threads(n)
            with torch.inference_mode():
                return model(torch.from_numpy(x))

        return run

    def ort_session(path: Path) -> Callable[[np.ndarray], Any]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads must not slow others
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {"input": x})

    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}

    def ov_model(path: Path) -> Callable[[np.ndarray], Any]:
        compiled = core.compile_model(str(path), "CPU", config)
        request = compiled.create_infer_request()
        return lambda x: request.infer({"input": x})

    return {
        f"PyTorch eager FP32 ({threads} threads)": eager(threads),
        "PyTorch eager FP32 (1 thread)": eager(1),
        "ONNX Runtime FP32": ort_session(fp32),
        "ONNX Runtime INT8 (Q/DQ)": ort_session(int8),
        "OpenVINO FP32": ov_model(fp32),
        "OpenVINO INT8 (Q/DQ)": ov_model(int8),
    }


def measure(calls: dict[str, Callable[[np.ndarray], Any]], rounds: int, block: int) -> dict[str, list[float]]:
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)
    for fn in calls.values():
        for _ in range(5):
            fn(x)
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    rng = random.Random(0)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            fn = calls[name]
            fn(x)  # lets the previous runtime's threads go idle; not recorded
            for _ in range(block):
                start = time.perf_counter()
                fn(x)
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (writes results/NAME.quick.json)")
    args = parser.parse_args()
    from pt2trt.precision import quantize
    from pt2trt.pytorch.export import export
    from pt2trt.shapes import InputSpec

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-precision-") as tmp:
        folder = photos(Path(tmp), crops=5)
        work = Path(tmp) / "models"
        work.mkdir()
        model = resnet18()
        fp32 = work / "resnet18.onnx"
        export(model, [InputSpec("input", (1, 3, 224, 224))], fp32, ExportSettings(exporter="legacy"), force=True)
        seconds = []
        for _ in range(1 if args.quick else 2):
            start = time.perf_counter()
            result = quantize(fp32, work / "resnet18-int8.onnx", "int8", calib=folder, force=True, progress=False)
            seconds.append(time.perf_counter() - start)
        print(f"quantize: {min(seconds):.1f} s; " + "; ".join(result.accuracy.lines()), flush=True)
        calls = variants(model, fp32, result.output, threads)
        times = measure(calls, rounds=4 if args.quick else 20, block=5 if args.quick else 10)
    stats = {name: summarize(values) for name, values in times.items()}
    eager_name = min((n for n in stats if n.startswith("PyTorch")), key=lambda n: stats[n]["median"])
    eager = stats[eager_name]["median"]  # the faster thread setting: OpenMP threads suffer on a loaded machine
    rows = [
        [name, f"{s['median']:.2f}", f"{s['p90']:.2f}", f"{s['mean']:.2f}", f"{eager / s['median']:.2f}x"]
        for name, s in stats.items()
    ]
    print_table(["variant (resnet18, batch 1)", "median ms", "p90 ms", "mean ms", "vs eager"], rows)
    print(f"baseline: {eager_name}; load average {os.getloadavg()[0]:.1f} on {threads} usable cores")
    best_int8 = max((n for n in stats if "INT8" in n), key=lambda n: eager / stats[n]["median"])
    speedup = eager / stats[best_int8]["median"]
    verdict = "met" if speedup >= GOAL else "NOT met"
    print(f"best INT8: {best_int8}, {speedup:.2f}x {eager_name} (goal >= {GOAL:g}x: {verdict})")
    path = write_result(
        NAME + (".quick" if args.quick else ""),
        {
            "machine": machine_info(),
            "threads": threads,
            "quantize_seconds": min(seconds),
            "quantize": {"agreement": result.accuracy.agreement, "calibration": result.calibration},
            "latency_ms": stats,
            "speedup_vs_eager": {n: eager / s["median"] for n, s in stats.items()},
            "eager_baseline": eager_name,
            "load_average_end": os.getloadavg()[0],
            "best_int8": best_int8,
            "best_int8_speedup": speedup,
            "goal": GOAL,
            "goal_met": speedup >= GOAL,
            "median_of_medians_ms": statistics.median(s["median"] for s in stats.values()),
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
