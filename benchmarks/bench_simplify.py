"""Node counts and time of ``pt2trt simplify`` against plain onnxsim and plain onnxslim.

Models: torchvision resnet18, mobilenet_v3_large, deeplabv3_mobilenet_v3_large and ssdlite320_mobilenet_v3_large
(random weights), each exported with the dynamo and the legacy exporter where that exporter works (dynamo fails on
ssdlite). For every ONNX file:

- plain onnxsim: ``onnxsim.simplify(model, check_n=0)``, as a user would call it;
- plain onnxslim: ``onnxslim.slim(model)``;
- pt2trt simplify: ``pt2trt.simplify(..., SimplifySettings(engine="both"))`` (all candidates, ONNX Runtime
  equivalence check, save).

Target: pt2trt's node count <= the smaller of the two plain ones, and its outputs equal to the original's (checked
again here, independently of pt2trt's own check, on fresh random inputs read from the written file).

    .venv/bin/python benchmarks/bench_simplify.py [--models resnet18,ssdlite320_mobilenet_v3_large] [--repeat N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import onnx
from _common import machine_info, print_table, pt2trt_command, write_result

NAME = "bench_simplify"
MODELS = {
    "resnet18": "input:1x3x224x224",
    "mobilenet_v3_large": "input:1x3x224x224",
    "deeplabv3_mobilenet_v3_large": "input:1x3x224x224",
    "ssdlite320_mobilenet_v3_large": "images:1x3x320x320",
}
EXPORTERS = ("dynamo", "legacy")


def export(model: str, spec: str, exporter: str, path: Path) -> bool:
    """Export with the pt2trt CLI in a child process (torch stays out of this one); False if the exporter fails."""
    cmd = pt2trt_command()
    cmd += ["export", f"torchvision:{model}", "--input", spec, "--exporter", exporter, "-o", str(path), "--force"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  {model} / {exporter}: export failed: {proc.stderr.strip()[:160]}", flush=True)
    return proc.returncode == 0


def timed(fn: Any, repeat: int) -> tuple[Any, float]:
    """The result of the last call and the best wall time of ``repeat`` calls (seconds)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def measure(path: Path, workdir: Path, repeat: int) -> dict[str, Any]:
    import onnxsim
    import onnxslim

    import pt2trt
    from pt2trt.capture import capture_output
    from pt2trt.settings import RunInputs, SimplifySettings
    from pt2trt.verification.equivalence import check_equivalence

    original = onnx.load(str(path))
    row: dict[str, Any] = {"nodes_original": len(original.graph.node)}

    def plain_onnxsim() -> onnx.ModelProto:
        with capture_output():
            return onnxsim.simplify(onnx.load(str(path)), check_n=0)[0]

    def plain_onnxslim() -> onnx.ModelProto:
        with capture_output():
            return onnxslim.slim(onnx.load(str(path)))

    for name, fn in (("onnxsim", plain_onnxsim), ("onnxslim", plain_onnxslim)):
        try:
            model, seconds = timed(fn, repeat)
            out = workdir / f"{name}.onnx"
            onnx.save(model, str(out))
            same = check_equivalence(original, out, inputs=RunInputs(seed=11))
            row[name] = {"nodes": len(model.graph.node), "seconds": seconds, "outputs_equal": same.passed}
        except Exception as exc:  # a plain tool failing is a figure too
            row[name] = {"nodes": None, "seconds": None, "outputs_equal": None, "error": f"{type(exc).__name__}: {exc}"}
    out = workdir / "pt2trt.onnx"
    settings = SimplifySettings(write_unchanged=True)  # always a file to check, as the plain tools' saves
    result, seconds = timed(lambda: pt2trt.simplify(path, out, settings, force=True), repeat)
    # independent of pt2trt's own check: other inputs, from disk
    same = check_equivalence(original, out, inputs=RunInputs(seed=11))
    row["pt2trt"] = {
        "nodes": result.nodes_after,
        "seconds": seconds,
        "engine": result.engine,
        "outputs_equal": same.passed,
        "max_abs_error": same.max_abs_error,
        "candidates": {c.engine: c.nodes for c in result.candidates},
    }
    plain = [row[n]["nodes"] for n in ("onnxsim", "onnxslim") if row[n]["nodes"] is not None]
    row["target_met"] = bool(plain) and result.nodes_after <= min(plain) and same.passed
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of the models")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best time is kept")
    args = parser.parse_args(argv)
    info = machine_info()
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-simplify-") as tmp:
        for model in args.models.split(","):
            for exporter in EXPORTERS:
                key = f"{model} / {exporter}"
                workdir = Path(tmp) / f"{model}-{exporter}"
                workdir.mkdir()
                path = workdir / "model.onnx"
                print(f"{key}: exporting", flush=True)
                if not export(model, MODELS[model], exporter, path):
                    rows[key] = {"export_failed": True}
                    continue
                print(f"{key}: simplifying", flush=True)
                rows[key] = measure(path, workdir, args.repeat)

    def cell(entry: dict[str, Any]) -> str:
        if entry.get("nodes") is None:
            return "failed"
        return f"{entry['nodes']} ({entry['seconds']:.1f} s){'' if entry['outputs_equal'] else ' NOT EQUAL'}"

    table = []
    for key, row in rows.items():
        if row.get("export_failed"):
            table.append([key, "export fails", "-", "-", "-", "-"])
            continue
        table.append(
            [key, str(row["nodes_original"]), cell(row["onnxsim"]), cell(row["onnxslim"]),
             f"{cell(row['pt2trt'])} {row['pt2trt']['engine']}", "met" if row["target_met"] else "MISSED"]
        )  # fmt: skip
    print()
    headers = ["model / exporter", "exported", "onnxsim", "onnxslim", "pt2trt simplify (kept)", "target"]
    print_table(headers, table, title="nodes after simplification (wall time)")
    measured = [r for r in rows.values() if not r.get("export_failed")]
    all_met = all(r["target_met"] for r in measured)
    print(f"\ntarget (nodes <= min(onnxsim, onnxslim), outputs equal): {'met' if all_met else 'MISSED'} on all")
    path = write_result(NAME, {"benchmark": NAME, "machine": info, "repeat": args.repeat, "rows": rows})
    print(f"wrote {path}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
