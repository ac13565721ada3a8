"""Latency of ``OnnxRuntimeRunner.infer`` against a plain ``onnxruntime.InferenceSession.run``.

Both run the same ONNX file (torchvision resnet18, random weights, batch 1) with the same session options
(intra-op threads, log level, CPU provider) on the same input, in this one process. Every variant gets its own
session, so every block starts right after another session ran and all variants pay the same switching cost.
After a warm-up, blocks of calls are interleaved in a seeded random order each round, which spreads machine
drift and noise evenly; the first call of every block lets the previous session's spinning worker threads go
idle and is not recorded.

A second, tiny model (one Identity node on 1x1000) measures the runner's fixed per-call cost in microseconds,
which on resnet18 is lost in the noise.

    .venv/bin/python benchmarks/bench_ort_runner.py [--quick] [--threads N] [--onnx resnet18.onnx]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from _common import machine_info, print_table, pt2trt_command, summarize, write_result

from pt2trt.backends.onnxruntime import OnnxRuntimeRunner

NAME = "bench_ort_runner"
MODEL = "torchvision:resnet18"
INPUT = "input:1x3x224x224"
TARGET_RATIO = 1.02

PLAIN = "plain session.run"
PLAIN_AA = "plain session.run (2nd session, A/A control)"
RUNNER = "runner.infer(feed)  [check=True, default]"
RUNNER_NOCHECK = "runner.infer(feed, check=False)"


def export_resnet18(path: Path) -> None:
    """Export the model with the pt2trt CLI in a child process, so torch never loads in this one."""
    cmd = pt2trt_command()
    cmd += ["export", MODEL, "--input", INPUT, "-o", str(path), "--force"]
    print("exporting:", " ".join(cmd[-7:]), flush=True)
    subprocess.run(cmd, check=True)


def tiny_model(path: Path) -> None:
    """One Identity node on float32[1, 1000]: session.run is almost free, so the wrapper's own cost shows."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"])],
        "identity",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1000])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1000])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, str(path))


def plain_session(path: Path, threads: int) -> ort.InferenceSession:
    """An InferenceSession with exactly the options ``OnnxRuntimeRunner(path, threads=threads)`` uses."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def measure(
    variants: dict[str, Callable[[], object]], *, warmup: int, rounds: int, block: int, seed: int = 0
) -> dict[str, list[list[float]]]:
    """Interleaved timings in seconds, per variant one list per round: every round runs each variant's block."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    blocks: dict[str, list[list[float]]] = {n: [] for n in names}
    order = random.Random(seed)
    clock = time.perf_counter
    for _ in range(rounds):
        order.shuffle(names)
        for name in names:
            fn = variants[name]
            fn()  # settle: wake this session's thread pool, not recorded
            times: list[float] = []
            for _ in range(block):
                start = clock()
                fn()
                times.append(clock() - start)
            blocks[name].append(times)
    return blocks


Stats = dict[str, dict[str, float | int]]


def compare(
    onnx_path: Path, feed: dict[str, np.ndarray], threads: int, *, warmup: int, rounds: int, block: int
) -> Stats:
    """Time the four variants on ``onnx_path``; statistics in milliseconds.

    Besides the pooled statistics, ``paired_ratio`` is the median over rounds of (this variant's block median /
    plain's block median in the same round): blocks a few hundred milliseconds apart share the machine's state,
    so this cancels slow drift and load from other processes better than the ratio of pooled medians.
    """
    plain = plain_session(onnx_path, threads)
    plain_aa = plain_session(onnx_path, threads)
    with (
        OnnxRuntimeRunner(onnx_path, threads=threads) as runner,
        OnnxRuntimeRunner(onnx_path, threads=threads) as runner_nocheck,
    ):
        reference = plain.run(None, feed)[0]
        np.testing.assert_allclose(runner.infer(feed)["output"], reference, rtol=1e-5, atol=1e-6)
        variants: dict[str, Callable[[], object]] = {
            PLAIN: lambda: plain.run(None, feed),
            RUNNER: lambda: runner.infer(feed),
            RUNNER_NOCHECK: lambda: runner_nocheck.infer(feed, check=False),
            PLAIN_AA: lambda: plain_aa.run(None, feed),
        }
        blocks = measure(variants, warmup=warmup, rounds=rounds, block=block)
    base = [statistics.median(b) for b in blocks[PLAIN]]
    stats: Stats = {}
    for name, rounds_ in blocks.items():
        stats[name] = summarize([t * 1e3 for b in rounds_ for t in b])
        stats[name]["paired_ratio"] = statistics.median(statistics.median(b) / p for b, p in zip(rounds_, base))
    return stats


def ratios(stats: Stats) -> dict[str, dict[str, float]]:
    """Each variant over plain session.run: per pooled statistic, and the paired per-round ratio."""
    base = stats[PLAIN]
    return {
        name: {**{k: s[k] / base[k] for k in ("median", "p90", "p99", "mean")}, "paired": s["paired_ratio"]}
        for name, s in stats.items()
        if name != PLAIN
    }


def show(title: str, stats: Stats, unit: str, scale: float) -> None:
    base = stats[PLAIN]
    columns = ("median", "p90", "p99", "mean", "min")
    rows = [
        [
            name,
            *(f"{s[k] * scale:.3f}" for k in columns),
            f"{s['median'] / base['median']:.4f}x",
            f"{s['mean'] / base['mean']:.4f}x",
            f"{s['paired_ratio']:.4f}x",
            str(s["n"]),
        ]
        for name, s in stats.items()
    ]
    headers = [f"{k} {unit}" for k in columns] + ["median/plain", "mean/plain", "paired/plain", "n"]
    print_table(["variant", *headers], rows, title=title)
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds: a smoke run, written to results/bench_ort_runner.quick.json"
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="intra-op threads for both sides")
    parser.add_argument("--onnx", type=Path, help="reuse this resnet18 ONNX file instead of exporting one")
    args = parser.parse_args(argv)

    if args.quick:
        big = {"warmup": 5, "rounds": 10, "block": 5}
        tiny = {"warmup": 200, "rounds": 10, "block": 200}
    else:
        big = {"warmup": 10, "rounds": 60, "block": 10}
        tiny = {"warmup": 1000, "rounds": 40, "block": 500}
    info = machine_info()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
        onnx_path = args.onnx or Path(tmp) / "resnet18.onnx"
        if args.onnx is None:
            export_resnet18(onnx_path)
        feed = {"input": rng.standard_normal((1, 3, 224, 224), dtype=np.float32)}
        print(f"resnet18 batch 1, {args.threads} intra-op thread(s), {big['rounds']} rounds x {big['block']} calls")
        r18 = compare(onnx_path, feed, args.threads, **big)

        tiny_path = Path(tmp) / "identity.onnx"
        tiny_model(tiny_path)
        tiny_feed = {"input": rng.standard_normal((1, 1000), dtype=np.float32)}
        small = compare(tiny_path, tiny_feed, args.threads, **tiny)

    show("resnet18 1x3x224x224 (latency)", r18, "ms", 1.0)
    show("Identity 1x1000 (fixed per-call cost)", small, "us", 1e3)
    r18_ratios = ratios(r18)
    overhead_us = {name: (small[name]["median"] - small[PLAIN]["median"]) * 1e3 for name in small if name != PLAIN}
    verdict = r18_ratios[RUNNER]["paired"] <= TARGET_RATIO
    print(
        f"runner/plain on resnet18 (check=True): paired {r18_ratios[RUNNER]['paired']:.4f}x,"
        f" median {r18_ratios[RUNNER]['median']:.4f}x, mean {r18_ratios[RUNNER]['mean']:.4f}x;"
        f" check=False: paired {r18_ratios[RUNNER_NOCHECK]['paired']:.4f}x;"
        f" A/A control: paired {r18_ratios[PLAIN_AA]['paired']:.4f}x"
    )
    print(f"target <= {TARGET_RATIO}x (paired ratio, check=True): {'met' if verdict else 'MISSED'}")
    print(
        f"runner cost per call: {overhead_us[RUNNER]:.1f} us (check=True), {overhead_us[RUNNER_NOCHECK]:.1f} us"
        f" (check=False), A/A control {overhead_us[PLAIN_AA]:.1f} us"
    )
    result: dict[str, Any] = {
        "benchmark": NAME,
        "quick": args.quick,
        "machine": info,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "model": MODEL,
            "input": INPUT,
            "threads": args.threads,
            "session_options": {"intra_op_num_threads": args.threads, "log_severity_level": 3},
            "providers": ["CPUExecutionProvider"],
            "resnet18": big,
            "identity": tiny,
            "method": (
                "own session per variant; seeded random block order per round; first call per block unrecorded;"
                " paired = median over rounds of block-median ratios"
            ),
        },
        "unit": {"resnet18": "ms", "identity": "ms"},
        "resnet18": r18,
        "identity": small,
        "ratios_vs_plain": r18_ratios,
        "identity_ratios_vs_plain": ratios(small),
        "runner_overhead_us_per_call": overhead_us,
        "target_ratio": TARGET_RATIO,
        "target_statistic": "ratios_vs_plain[runner check=True].paired",
        "target_met": verdict,
    }
    print("wrote", write_result(NAME + (".quick" if args.quick else ""), result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
