"""Wall time of pt2trt export + check + verify on resnet18 against the same steps hand-written.

Three ways to get a verified ONNX file, each in fresh interpreters so that import costs count everywhere:

* ``pt2trt API``   - pipeline_pt2trt_api.py: ``pt2trt.export`` + ``pt2trt.check`` + ``pt2trt.verify``;
* ``pt2trt CLI``   - ``pt2trt export ... && pt2trt check ... && pt2trt verify ...`` (three processes);
* ``plain script`` - pipeline_plain.py: torchvision + ``torch.onnx.export`` (the exporter and opset pt2trt used)
  + ``onnx.checker.check_model`` + an ONNX Runtime session checked with ``np.testing.assert_allclose``.

One unrecorded warm-up run of each comes first (it also tells which exporter and opset pt2trt picks); then every
repetition runs the three in a seeded random order. Reported: median wall time and the ratio pt2trt / plain, the
paired ratio (median over repetitions of the ratio within one repetition), and the children's CPU time, which
other processes on the machine disturb much less than wall time.

    .venv/bin/python benchmarks/bench_pipeline.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, interleaved_rounds, machine_info, print_table, pt2trt_command, write_result

NAME = "bench_pipeline"
MODEL = "torchvision:resnet18"
INPUT = "input:1x3x224x224"
TARGET_RATIO = 2.0

API = "pt2trt API"
CLI = "pt2trt CLI (3 processes)"
PLAIN = "plain script"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run ``cmd`` to completion: wall seconds, CPU seconds (user + system, all threads) and stdout.

    CPU time is much less sensitive than wall time to other processes competing for the cores.
    A failure aborts the benchmark.
    """
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cpu = _children_cpu()
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    cpu = _children_cpu() - cpu
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return seconds, cpu, proc.stdout


def bench_report(stdout: str) -> dict[str, Any]:
    """The child's ``BENCH {json}`` line."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise SystemExit("child printed no BENCH line:\n" + stdout[-2000:])


def phases(launched: float, wall: float, cpu: float, marks: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Wall and CPU seconds per phase from the child's ``(monotonic, process_time)`` stamps.

    Each stamp names the phase it ends; ``startup`` is interpreter start plus top-level imports, ``exit`` the
    interpreter's shutdown.
    """
    names = list(marks)
    first, last = marks[names[0]], marks[names[-1]]
    walls = {"startup": first[0] - launched}
    cpus = {"startup": first[1]}
    for prev, cur in itertools.pairwise(names):
        walls[cur] = marks[cur][0] - marks[prev][0]
        cpus[cur] = marks[cur][1] - marks[prev][1]
    walls["exit"] = launched + wall - last[0]
    cpus["exit"] = cpu - last[1]
    return {"wall": walls, "cpu": cpus}


def python_step(script: str, args: list[str], workdir: Path) -> dict[str, Any]:
    """Run a benchmark child script; wall and CPU time, both per phase, and what it reported."""
    launched = time.monotonic()
    wall, cpu, stdout = run([sys.executable, str(BENCH_DIR / script), *args], workdir)
    report = bench_report(stdout)
    split = phases(launched, wall, cpu, report.pop("marks"))
    return {"wall": wall, "cpu": cpu, "phases": split["wall"], "cpu_phases": split["cpu"], **report}


def api_run(workdir: Path) -> dict[str, Any]:
    return python_step("pipeline_pt2trt_api.py", ["--out", "api.onnx"], workdir)


def plain_run(workdir: Path, exporter: str, opset: int) -> dict[str, Any]:
    return python_step(
        "pipeline_plain.py", ["--out", "plain.onnx", "--exporter", exporter, "--opset", str(opset)], workdir
    )


def cli_run(workdir: Path) -> dict[str, Any]:
    """``pt2trt export && pt2trt check && pt2trt verify`` as separate processes, each step timed."""
    base = pt2trt_command()
    steps = {
        "export": ["export", MODEL, "--input", INPUT, "-o", "cli.onnx", "--force"],
        "check": ["check", "cli.onnx"],
        "verify": ["verify", MODEL, "cli.onnx"],
    }
    measured = {name: run([*base, *args], workdir) for name, args in steps.items()}
    return {
        "wall": sum(m[0] for m in measured.values()),
        "cpu": sum(m[1] for m in measured.values()),
        "phases": {name: m[0] for name, m in measured.items()},
        "cpu_phases": {name: m[1] for name, m in measured.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 repetitions: a smoke run, written to results/bench_pipeline.quick.json"
    )
    parser.add_argument("--repeats", type=int, help="repetitions after the warm-up [default: 5, --quick 2]")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    info = machine_info()

    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
        workdir = Path(tmp)
        print("warm-up ...", flush=True)
        warm = api_run(workdir)
        exporter, opset = warm["exporter"], warm["opset"]
        print(f"pt2trt used the {exporter} exporter, opset {opset}; the plain script uses the same", flush=True)
        cli_run(workdir)
        plain_run(workdir, exporter, opset)
        jobs = {
            API: lambda: api_run(workdir),
            CLI: lambda: cli_run(workdir),
            PLAIN: lambda: plain_run(workdir, exporter, opset),
        }
        runs = interleaved_rounds(jobs, repeats, width=26)

    medians = {name: statistics.median(r["wall"] for r in rs) for name, rs in runs.items()}
    cpu_medians = {name: statistics.median(r["cpu"] for r in rs) for name, rs in runs.items()}
    phase_medians = {
        name: {p: statistics.median(r["phases"][p] for r in rs) for p in rs[0]["phases"]} for name, rs in runs.items()
    }
    cpu_phase_medians = {
        name: {p: statistics.median(r["cpu_phases"][p] for r in rs) for p in rs[0]["cpu_phases"]}
        for name, rs in runs.items()
    }
    ratio = {name: medians[name] / medians[PLAIN] for name in (API, CLI)}
    paired = {
        name: statistics.median(r["wall"] / p["wall"] for r, p in zip(runs[name], runs[PLAIN])) for name in (API, CLI)
    }
    cpu_ratio = {name: cpu_medians[name] / cpu_medians[PLAIN] for name in (API, CLI)}
    met = {name: ratio[name] <= TARGET_RATIO for name in (API, CLI)}
    result = {
        "benchmark": NAME,
        "quick": args.quick,
        "machine": info,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "model": MODEL,
            "input": INPUT,
            "exporter": exporter,
            "opset": opset,
            "repeats": repeats,
            "method": "fresh subprocess per run; one warm-up of each; seeded random order per repetition",
        },
        "unit": "s",
        "median_wall": medians,
        "median_phases": phase_medians,
        "median_cpu_phases": cpu_phase_medians,
        "median_cpu": cpu_medians,
        "ratio_vs_plain": ratio,
        "paired_ratio_vs_plain": paired,
        "cpu_ratio_vs_plain": cpu_ratio,
        "target_ratio": TARGET_RATIO,
        "target_met": met,
        "runs": runs,
    }
    path = write_result(NAME + (".quick" if args.quick else ""), result)

    rows = [
        [
            name,
            f"{medians[name]:.2f}",
            f"{min(r['wall'] for r in runs[name]):.2f}",
            f"{max(r['wall'] for r in runs[name]):.2f}",
            f"{ratio[name]:.2f}x" if name in ratio else "1.00x",
            f"{paired[name]:.2f}x" if name in paired else "1.00x",
            f"{cpu_medians[name]:.2f}",
            f"{cpu_ratio[name]:.2f}x" if name in cpu_ratio else "1.00x",
            ", ".join(f"{p} {s:.2f}" for p, s in cpu_phase_medians[name].items()),
        ]
        for name in runs
    ]
    title = f"resnet18 export + check + verify, {repeats} repetitions ({exporter} exporter, opset {opset})"
    headers = ["variant", "median s", "min s", "max s", "median/plain", "paired/plain", "CPU s", "CPU/plain"]
    headers.append("median CPU s per phase")
    print()
    print_table(headers, rows, title=title, left=(0, 8))
    print(
        f"\npt2trt/plain (median wall): API {ratio[API]:.2f}x, CLI {ratio[CLI]:.2f}x; target <= {TARGET_RATIO}x: "
        + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in met.items())
    )
    print("wrote", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
