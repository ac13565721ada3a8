"""``pt2trt bench``'s ONNX Runtime median against a plain ``session.run`` loop timed in the same run.

Both sides run the same resnet18 ONNX file (random weights, batch 1) on the same seeded input with the same session
options (intra-op threads, log level, CPU provider). Each round runs, in a seeded random order, one
``pt2trt.bench.bench(..., ["onnxruntime"])`` call and one hand-written loop
(``start = perf_counter(); session.run(None, feed); times.append(perf_counter() - start)``) with the same warm-up
and number of timed calls; the paired ratio is the median over rounds of bench's median / plain's median. The target:
within 2 % (the measurement adds no cost). An A/A control (a second plain loop) shows the noise floor.

    .venv/bin/python benchmarks/bench_bench.py [--quick] [--threads N] [--onnx resnet18.onnx]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from _common import machine_info, print_table, summarize, write_result
from bench_ort_runner import export_resnet18, plain_session, tiny_model

from pt2trt.bench import Loop, bench
from pt2trt.settings import RunnerSettings

NAME = "bench_bench"
TARGET = 0.02  # |paired ratio - 1| <= 2 %

BENCH = "pt2trt bench (onnxruntime)"
PLAIN = "plain session.run loop"
PLAIN_AA = "plain loop, 2nd session (A/A control)"


def plain_loop(session: ort.InferenceSession, feed: dict[str, np.ndarray], warmup_ms: float, calls: int) -> list[float]:
    """The hand-written measurement: warm up for ``warmup_ms``, then time ``calls`` calls one by one (seconds)."""
    end = time.perf_counter() + warmup_ms / 1e3
    while time.perf_counter() < end:
        session.run(None, feed)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return times


def measure(
    path: Path, threads: int, rounds: int, calls: int, warmup_ms: float
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per variant: the median of each round (ms) and every latency (ms)."""
    # bench's own input: seeded random values for the recorded shape; the plain loop gets the very same array
    from pt2trt.feeds import random_feed
    from pt2trt.onnx.inputs import resolve_verify_inputs
    from pt2trt.onnx.load import load_onnx

    feed = random_feed(resolve_verify_inputs(load_onnx(path, load_external_data=False), None, None), 0)
    plain, plain_aa = plain_session(path, threads), plain_session(path, threads)
    medians: dict[str, list[float]] = {BENCH: [], PLAIN: [], PLAIN_AA: []}
    pooled: dict[str, list[float]] = {BENCH: [], PLAIN: [], PLAIN_AA: []}
    order = random.Random(0)
    loop = Loop(warmup_ms=warmup_ms, iterations=calls, duration=0.0)
    for r in range(rounds):
        names = list(medians)
        order.shuffle(names)
        for name in names:
            if name == BENCH:
                result = bench(path, ["onnxruntime"], runner=RunnerSettings(threads=threads), loop=loop).result(
                    "onnxruntime"
                )
                ms = list(result.samples_ms)
                assert result.latency is not None
                medians[name].append(result.latency.median)  # exact, not from the rounded samples
                pooled[name].extend(ms)
                continue
            else:
                session = plain if name == PLAIN else plain_aa
                ms = [t * 1e3 for t in plain_loop(session, feed, warmup_ms, calls)]
            medians[name].append(statistics.median(ms))
            pooled[name].extend(ms)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {medians[n][-1]:.3f} ms" for n in medians), flush=True)

    return medians, pooled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, written to results/bench_bench.quick.json")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--onnx", type=Path, help="reuse this resnet18 ONNX file instead of exporting one")
    args = parser.parse_args(argv)
    rounds, calls, warmup_ms = (4, 20, 300.0) if args.quick else (12, 40, 500.0)
    info = machine_info()
    summaries: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
        path = args.onnx or Path(tmp) / "resnet18.onnx"
        if args.onnx is None:
            export_resnet18(path)
        r18 = measure(path, args.threads, rounds, calls, warmup_ms)
        tiny_path = Path(tmp) / "identity.onnx"
        tiny_model(tiny_path)
        tiny = measure(tiny_path, args.threads, rounds, 50 * calls, 100.0)
    parts = {"resnet18": r18, "identity": tiny}
    for label, (medians, pooled) in parts.items():
        paired = {n: statistics.median(m / p for m, p in zip(medians[n], medians[PLAIN])) for n in (BENCH, PLAIN_AA)}
        stats = {n: summarize(v) for n, v in pooled.items()}
        summaries[label] = {"paired": paired, "stats": stats, "round_medians": medians}
    shown = {
        "resnet18": ("resnet18 1x3x224x224", "ms", 1.0),
        "identity": ("Identity 1x1000 (per-call cost)", "us", 1e3),
    }
    for label, (title, unit, scale) in shown.items():
        part = summaries[label]
        rows = [
            [n, *(f"{s[k] * scale:.3f}" for k in ("median", "p90", "mean", "min")),
             f"{part['paired'].get(n, 1.0):.4f}x", str(s["n"])]
            for n, s in part["stats"].items()
        ]  # fmt: skip
        print()
        headers = ["variant", *(f"{k} {unit}" for k in ("median", "p90", "mean", "min")), "paired/plain", "n"]
        print_table(headers, rows, title=f"{title}, ONNX Runtime, {args.threads} thread(s), {rounds} rounds")
    paired = summaries["resnet18"]["paired"]
    met = abs(paired[BENCH] - 1) <= TARGET
    per_call_us = {
        n: (summaries["identity"]["stats"][n]["median"] - summaries["identity"]["stats"][PLAIN]["median"]) * 1e3
        for n in (BENCH, PLAIN_AA)
    }
    print(
        f"\nresnet18: bench/plain paired median ratio {paired[BENCH]:.4f}x (A/A control {paired[PLAIN_AA]:.4f}x); "
        f"target within {TARGET:.0%}: {'met' if met else 'MISSED'}\n"
        f"Identity: bench's median minus plain's {per_call_us[BENCH]:+.2f} us per call "
        f"(A/A control {per_call_us[PLAIN_AA]:+.2f} us)"
    )
    result: dict[str, Any] = {
        "benchmark": NAME,
        "quick": args.quick,
        "machine": info,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "config": {"model": "torchvision:resnet18", "input": "input:1x3x224x224", "threads": args.threads,
                   "rounds": rounds, "calls": calls, "warmup_ms": warmup_ms, "identity_calls": 50 * calls,
                   "method": "per round, seeded random order; paired = median over rounds of median ratios"},
        "unit": "ms",
        "resnet18": summaries["resnet18"],
        "identity": summaries["identity"],
        "paired_ratio_vs_plain": paired,
        "identity_median_difference_us": per_call_us,
        "target": f"|paired - 1| <= {TARGET} on resnet18",
        "target_met": met,
    }  # fmt: skip
    print("wrote", write_result(NAME + (".quick" if args.quick else ""), result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
