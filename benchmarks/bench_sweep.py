"""Wall time of ``pt2trt sweep`` over 6 small models against today's way: a serial shell loop of ``pt2trt convert``.

Variants, each a fresh process tree on the same manifest and convert options: the serial loop (one ``pt2trt convert``
after the other), ``sweep --workers 1`` (the sweep's own cost), ``sweep --workers 2`` and ``sweep --ray local
--workers 2`` (Ray's start-up and shutdown included). Every repetition runs all of them in a seeded random order.
Target: ``sweep --workers 2`` <= 0.65x the serial loop.

Ray's own overhead is measured apart, in this process: start-up of a local cluster (``ray.init`` to the first task
done) and shutdown, the round trip of a no-op task, and of a task returning 1 MB (a small model's output folder).

    .venv/bin/python benchmarks/bench_sweep.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import interleaved_rounds, machine_info, print_table, pt2trt_command, summarize, write_result
from bench_pipeline import run

NAME = "bench_sweep"
TARGET_RATIO = 0.65
OPTIONS = {"backend": "onnxruntime,openvino", "bench_duration": 0.2}
MODELS = {
    "seednet": {"model": "pt2trt.models:SeedNet", "input": "input:1x3x28x28"},
    "twoinput": {"model": "pt2trt.models:TwoInputNet", "input": ["x:1x3x28x28", "y:1x1x28x28"]},
    "squeezenet": {"model": "torchvision:squeezenet1_1", "input": "input:1x3x96x96"},
    "mobilenet": {"model": "torchvision:mobilenet_v3_small", "input": "input:1x3x96x96"},
    "shufflenet": {"model": "torchvision:shufflenet_v2_x0_5", "input": "input:1x3x96x96"},
    "mnasnet": {"model": "torchvision:mnasnet0_5", "input": "input:1x3x96x96"},
}
LOOP = "serial loop of pt2trt convert"
VARIANTS = {
    LOOP: None,
    "sweep --workers 1": ["--workers", "1"],
    "sweep --workers 2": ["--workers", "2"],
    "sweep --ray local --workers 2": ["--ray", "local", "--workers", "2"],
}


def write_manifest(folder: Path) -> Path:
    lines = ["defaults:", *(f"  {k}: {json.dumps(v)}" for k, v in OPTIONS.items()), "models:"]
    for name, values in MODELS.items():
        lines += [f"  - name: {name}", *(f"    {k}: {json.dumps(v)}" for k, v in values.items())]
    path = folder / "zoo.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def loop_run(workdir: Path) -> dict[str, Any]:
    """The serial shell loop: one ``pt2trt convert --config ENTRY.yaml -o NAME`` per model, each manifest entry as
    its config file (what the sweep's children run)."""
    from pt2trt.cli.sweep import ConvertCommand
    from pt2trt.sweeping.convert_config import CONFIG, convert_argv
    from pt2trt.sweeping.manifest import load_manifest

    out = workdir / "loop"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    wall = cpu = 0.0
    for entry in load_manifest(workdir / "zoo.yaml", ConvertCommand()).entries:
        (out / CONFIG).write_text(entry.config)
        seconds, used, _ = run([*pt2trt_command(), *convert_argv(entry.name)], out)
        wall, cpu = wall + seconds, cpu + used
    return {"wall": wall, "cpu": cpu}


def sweep_run(workdir: Path, args: list[str], tag: str) -> dict[str, Any]:
    out = workdir / tag
    shutil.rmtree(out, ignore_errors=True)
    wall, cpu, _ = run([*pt2trt_command(), "sweep", str(workdir / "zoo.yaml"), "-o", str(out), "-q", *args], workdir)
    data = json.loads((out / "results.json").read_text())
    assert data["summary"]["passed"] == len(MODELS), data["summary"]
    return {"wall": wall, "cpu": cpu, "model_seconds": {m["name"]: m["seconds"] for m in data["models"]}}


def ray_overhead(repeats: int = 3, calls: int = 100) -> dict[str, Any]:
    """Start-up (init to the first task done) and shutdown of a local 2-CPU cluster; per-task round trips."""
    import logging

    import ray

    from pt2trt.sweeping.ray_executor import _loopback_only

    def noop(data: bytes | None = None) -> bytes | None:
        return data

    startup, shutdown, empty, megabyte = [], [], [], []
    payload = os.urandom(1 << 20)
    for _ in range(repeats):
        temp = tempfile.mkdtemp(prefix="pt2trt-ray-")
        try:
            start = time.perf_counter()
            with _loopback_only():
                ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=temp,
                         logging_level=logging.ERROR, log_to_driver=False)  # fmt: skip
            task = ray.remote(noop)
            ray.get(task.remote())
            startup.append(time.perf_counter() - start)
            for _ in range(calls):
                t0 = time.perf_counter()
                ray.get(task.remote())
                empty.append((time.perf_counter() - t0) * 1000)
            for _ in range(calls // 4):
                t0 = time.perf_counter()
                ray.get(task.remote(payload))
                megabyte.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            ray.shutdown()
            shutdown.append(time.perf_counter() - t0)
        finally:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)
    return {
        "startup_s": summarize(startup),
        "shutdown_s": summarize(shutdown),
        "noop_task_ms": summarize(empty),
        "task_with_1MB_in_and_out_ms": summarize(megabyte),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition, written to results/bench_sweep.quick.json")
    parser.add_argument("--repeats", type=int, help="repetitions [default: 3, --quick 1]")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    info = machine_info()
    print("Ray overhead ...", flush=True)
    overhead = ray_overhead()
    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
        workdir = Path(tmp)
        write_manifest(workdir)
        print("warm-up (one convert) ...", flush=True)
        run([*pt2trt_command(), "convert", "pt2trt.models:SeedNet", "-i", "1x3x28x28", "-o", "warm", "-q"], workdir)
        jobs = {
            name: (lambda: loop_run(workdir))
            if extra is None
            else (lambda e=extra, t=i: sweep_run(workdir, e, f"s{t}"))
            for i, (name, extra) in enumerate(VARIANTS.items())
        }
        runs = interleaved_rounds(jobs, repeats, width=34)
    medians = {n: statistics.median(r["wall"] for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(r["cpu"] for r in rs) for n, rs in runs.items()}
    ratios = {n: medians[n] / medians[LOOP] for n in runs}
    paired = {n: statistics.median(r["wall"] / s["wall"] for r, s in zip(rs, runs[LOOP])) for n, rs in runs.items()}
    met = ratios["sweep --workers 2"] <= TARGET_RATIO
    rows = [[n, f"{medians[n]:.1f}", f"{cpu[n]:.1f}", f"{ratios[n]:.2f}x", f"{paired[n]:.2f}x"] for n in runs]
    print()
    print_table(["variant", "median wall s", "median CPU s", "wall/loop", "paired"], rows,
                title=f"{len(MODELS)} models, {repeats} rep(s)")  # fmt: skip
    o = overhead
    print(
        f"Ray: start-up {o['startup_s']['median']:.2f} s, shutdown {o['shutdown_s']['median']:.2f} s, no-op task "
        f"{o['noop_task_ms']['median']:.2f} ms, 1 MB in and out {o['task_with_1MB_in_and_out_ms']['median']:.2f} ms"
    )
    print(f"sweep --workers 2 / serial loop {ratios['sweep --workers 2']:.2f}x; target <= {TARGET_RATIO}x: "
          f"{'met' if met else 'MISSED'}")  # fmt: skip
    result = {
        "benchmark": NAME,
        "quick": args.quick,
        "machine": info,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "config": {"models": MODELS, "options": OPTIONS, "repeats": repeats,
                   "method": "fresh process trees; one warm-up convert; seeded random order per repetition"},
        "unit": "s",
        "median_wall": medians,
        "median_cpu": cpu,
        "ratio_vs_loop": ratios,
        "paired_ratio_vs_loop": paired,
        "target_ratio": TARGET_RATIO,
        "target_met": met,
        "ray_overhead": overhead,
        "runs": runs,
    }  # fmt: skip
    print("wrote", write_result(NAME + (".quick" if args.quick else ""), result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
