"""Wall time of ``pt2trt convert --precision fp16,int8`` on ssdlite against the same steps run by hand.

The hand-written baseline is convert_precision_plain.py (export, onnxslim, onnxconverter-common FP16, ONNX Runtime's
quantize_static, an ONNX Runtime session per model on every photo). ``convert`` (legacy exporter, as the baseline;
``--backend onnxruntime``) also checks, verifies against PyTorch, lints for TensorRT, measures each precision against
FP32 on held-apart photos, writes the build plan, benches every model briefly, draws the graph and writes the report.
Each run is a fresh process; one unrecorded warm-up of each comes first, then every repetition runs both in a seeded
random order. Target: convert's median wall time <= 1.5x the hand-written steps'.

    .venv/bin/python benchmarks/bench_convert_precision.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, ROOT, interleaved_rounds, machine_info, print_table, pt2trt_command, write_result
from bench_pipeline import bench_report, run

NAME = "bench_convert_precision"
TARGET_RATIO = 1.5
CONVERT = "pt2trt convert --precision fp16,int8"
PLAIN = "by hand (export, onnxslim, FP16, quantize_static, ORT)"


def convert_run(workdir: Path, photos: Path) -> dict[str, Any]:
    out = workdir / "convert-out"
    cmd = [*pt2trt_command(), "convert", "tests.matrix_models:ssdlite", "--input", "images:1x3x320x320", "--task",
           "detect", "--precision", "fp16,int8", "--calib", str(photos), "--exporter", "legacy", "--backend",
           "onnxruntime", "--bench-duration", "0.05", "-o", str(out), "--force", "-q"]  # fmt: skip
    wall, cpu, _ = run(cmd, ROOT)
    report = json.loads((out / "report.json").read_text())
    return {"wall": wall, "cpu": cpu, "steps": {s["name"]: s["seconds"] for s in report["steps"]}}


def plain_run(workdir: Path, photos: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(BENCH_DIR / "convert_precision_plain.py"), "--photos", str(photos), "--out",
           str(workdir / "plain")]  # fmt: skip
    wall, cpu, stdout = run(cmd, ROOT)
    report = bench_report(stdout)
    return {"wall": wall, "cpu": cpu, "phases": report["phases"], "sessions": report["sessions"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="repetitions after the warm-up [default: 2]")
    args = parser.parse_args(argv)
    from tests.images import photos as write_photos

    # both sides build the model with the tests' own builder (tests.matrix_models)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
        workdir = Path(tmp)
        photos = workdir / "photos"
        write_photos(photos)
        print("warm-up ...", flush=True)
        convert_run(workdir, photos)
        plain_run(workdir, photos)
        jobs = {CONVERT: lambda: convert_run(workdir, photos), PLAIN: lambda: plain_run(workdir, photos)}
        runs = interleaved_rounds(jobs, args.repeats, width=56)
    medians = {n: statistics.median(r["wall"] for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(r["cpu"] for r in rs) for n, rs in runs.items()}
    ratio = medians[CONVERT] / medians[PLAIN]
    steps = {k: statistics.median(r["steps"][k] for r in runs[CONVERT]) for k in runs[CONVERT][0]["steps"]}
    phases = {k: statistics.median(r["phases"][k] for r in runs[PLAIN]) for k in runs[PLAIN][0]["phases"]}
    met = ratio <= TARGET_RATIO
    rows = [[n, f"{medians[n]:.1f}", f"{cpu[n]:.1f}", f"{medians[n] / medians[PLAIN]:.2f}x"] for n in runs]
    print_table(["variant", "median wall s", "median CPU s", "wall/by hand"], rows, title="ssdlite, fp16 + int8")
    print("convert's steps (median s): " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
    print("by hand (median s): " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()))
    print(f"by hand, sessions: {runs[PLAIN][0]['sessions']}")
    print(f"\nconvert/by hand {ratio:.2f}x; target <= {TARGET_RATIO}x: {'met' if met else 'MISSED'}")
    result = {
        "benchmark": NAME,
        "machine": info,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "config": {"model": "ssdlite320_mobilenet_v3_large (He-initialised)", "photos": 3, "repeats": args.repeats},
        "unit": "s",
        "median_wall": medians,
        "median_cpu": cpu,
        "convert_median_step_seconds": steps,
        "plain_median_phase_seconds": phases,
        "plain_sessions": runs[PLAIN][0]["sessions"],
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "target_met": met,
        "runs": runs,
    }
    print("wrote", write_result(NAME, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
