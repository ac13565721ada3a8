"""Helpers shared by the benchmark scripts: machine description, statistics, tables and result files."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
if str(ROOT) not in sys.path:  # the benchmarks build their models and data with the tests' own builders
    sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent


def pt2trt_command() -> list[str]:
    """The command that runs the pt2trt CLI of this environment (its console script, else ``python -m``)."""
    exe = VENV_BIN / "pt2trt"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pt2trt.cli.main"]


def cpu_model() -> str:
    """The CPU's ``model name`` from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def source_state() -> dict[str, Any]:
    """The project's git commit and whether the work tree had uncommitted changes when measured."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "src_modified": None}
    return {"commit": commit, "src_modified": bool(dirty)}


def machine_info() -> dict[str, Any]:
    """What the figures were measured on; versions come from package metadata (nothing heavy is imported)."""
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    return {
        "cpu_model": cpu_model(),
        "cpu_count": cores,
        "usable_cores": usable,
        "gpu": "none used (CPU only)",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "onnx": _version("onnx"),
        "onnxruntime": _version("onnxruntime"),
        "numpy": _version("numpy"),
        "pt2trt": _version("pt2trt"),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source_state(),
        "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()],
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), ``q`` in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """n, median, p90, p99, mean, min, max and stdev of ``values`` (same unit as the input)."""
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
    }


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None, left: Sequence[int] = (0,)
) -> None:
    """A plain-text table: the columns in ``left`` left-aligned, the others right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        padded = (str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(padded).rstrip()

    if title:
        print(title)
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``results/NAME.json`` atomically and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    return path


def interleaved_rounds(jobs: dict[str, Any], repeats: int, width: int = 40) -> dict[str, list[dict[str, Any]]]:
    """Run every job once per round, in a seeded random order per round (so that drift in the machine's load falls
    on all of them alike); each job returns a dict with at least ``wall`` seconds. Results by job name."""
    import random

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
    order = random.Random(0)
    for rep in range(repeats):
        names = list(jobs)
        order.shuffle(names)
        for name in names:
            result = jobs[name]()
            runs[name].append(result)
            print(f"  rep {rep + 1}/{repeats}  {name:{width}s} {result['wall']:6.2f} s", flush=True)
    return runs
