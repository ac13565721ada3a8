"""Cost of ``debug layers`` on resnet50 against one ``verify`` run: the target is at most 3x.

Both run in the same process, through the Python API, on the same exported ONNX file and the same inputs (the
seeded random inputs recorded at export); each repetition runs them in a seeded random order after one unrecorded
warm-up of each. Both load the PyTorch model and create an ONNX Runtime session, as their CLI commands do.
Reported: the median wall time of each, their ratio, and where ``debug layers`` spends its time; with ``--cli``
also both commands as fresh processes (imports and model construction included, as a user runs them).

    .venv/bin/python benchmarks/bench_debug_layers.py [--quick] [--repeats N] [--cli] [--numpy-blas-threads 1]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import machine_info, print_table, summarize, write_result

NAME = "bench_debug_layers"
TARGET_RATIO = 3.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions instead of 5")
    parser.add_argument("--repeats", type=int, help="repetitions after the warm-up [default: 5, --quick 2]")
    parser.add_argument("--model", default="torchvision:resnet50")
    parser.add_argument("--input", default="input:1x3x224x224")
    parser.add_argument("--cli", action="store_true", help="also time both commands as fresh CLI processes")
    parser.add_argument(
        "--numpy-blas-threads",
        type=int,
        help="set OPENBLAS_NUM_THREADS before numpy loads (numpy's BLAS threads crawl on a machine busy with other "
        "jobs; torch's own threads are left alone) [default: unset]",
    )
    args = parser.parse_args(argv)
    if args.numpy_blas_threads:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.numpy_blas_threads)
    repeats = args.repeats or (2 if args.quick else 5)
    info = machine_info()

    import pt2trt

    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-debug-") as tmp:
        path = Path(tmp) / "model.onnx"
        exported = pt2trt.export(args.model, [pt2trt.parse_input(args.input)], path)
        print(f"exported {args.model} with the {exported.exporter} exporter ({exported.seconds:.1f} s)", flush=True)

        def verify() -> dict[str, Any]:
            result = pt2trt.verify(args.model, path)
            assert result.passed, result.comparison.to_dict()
            return {"seconds": result.seconds}

        def debug() -> dict[str, Any]:
            report = pt2trt.debug_layers(args.model, path)
            assert report.origin is None and report.strategy == "all-at-once", report.origin_note
            return {"seconds": report.seconds, "layers": len(report.layers), "unmatched": len(report.unmatched)}

        def cli(*command: str, expect: int = 0) -> Callable[[], dict[str, Any]]:
            def step() -> dict[str, Any]:
                env = {**os.environ, "PYTHONWARNINGS": "ignore"}
                proc = subprocess.run([sys.executable, "-m", "pt2trt.cli.main", *command], capture_output=True, env=env)
                if proc.returncode != expect:
                    raise SystemExit(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
                return {}

            return step

        steps = {"verify": verify, "debug layers": debug}
        if args.cli:  # fresh processes, as a user runs them: imports and model construction count too
            steps["pt2trt verify (CLI)"] = cli("verify", args.model, str(path))
            steps["pt2trt debug layers (CLI)"] = cli("debug", "layers", args.model, str(path))
        for fn in steps.values():  # warm-up: caches, lazy imports
            fn()
        walls: dict[str, list[float]] = {name: [] for name in steps}
        details: dict[str, list[dict[str, Any]]] = {name: [] for name in steps}
        rng = random.Random(0)
        for i in range(repeats):
            order = list(steps)
            rng.shuffle(order)
            for name in order:
                start = time.perf_counter()
                details[name].append(steps[name]())
                walls[name].append(time.perf_counter() - start)
            print(f"repetition {i + 1}/{repeats}: " + ", ".join(f"{n} {walls[n][-1]:.2f} s" for n in steps), flush=True)

    ratio = statistics.median(walls["debug layers"]) / statistics.median(walls["verify"])
    cli_ratio = (
        statistics.median(walls["pt2trt debug layers (CLI)"]) / statistics.median(walls["pt2trt verify (CLI)"])
        if args.cli
        else None
    )
    phases = {k: statistics.median(d["seconds"].get(k, 0.0) for d in details["debug layers"]) for k in
              details["debug layers"][0]["seconds"]}  # fmt: skip
    print()
    print_table(
        ["step", "median s", "min s", "max s"],
        [[n, f"{statistics.median(w):.2f}", f"{min(w):.2f}", f"{max(w):.2f}"] for n, w in walls.items()],
        title=f"{args.model}, {args.input}, {repeats} repetitions",
    )
    print("debug layers phases (median s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"debug layers / verify = {ratio:.2f}x in one process ({verdict} the target of <= {TARGET_RATIO:g}x)")
    if cli_ratio is not None:
        print(f"pt2trt debug layers / pt2trt verify = {cli_ratio:.2f}x as fresh CLI processes")
    path = write_result(
        NAME,
        {
            "machine": info,
            "model": args.model,
            "input": args.input,
            "exporter": exported.exporter,
            "repeats": repeats,
            "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            "layers_compared": details["debug layers"][0]["layers"],
            "module_calls_without_counterpart": details["debug layers"][0]["unmatched"],
            "wall_seconds": {name: summarize(w) for name, w in walls.items()},
            "debug_layers_phases_median_seconds": phases,
            "ratio_debug_over_verify": ratio,
            "ratio_cli_processes": cli_ratio,
            "target_ratio": TARGET_RATIO,
            "meets_target": ratio <= TARGET_RATIO,
        },
    )
    print(f"results in {path}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
