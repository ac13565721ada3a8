"""GPU only: latency of pt2trt's ``TensorRTRunner`` against ``trtexec --loadEngine`` on the same engine.

Builds (or takes) one engine — torchvision resnet18, random weights, a dynamic batch profile 1..BATCH — and times:

* ``runner.infer_torch``: CUDA tensors in and out, no host copies (the runner's own overhead + TensorRT);
* ``runner.infer``: numpy in and out (adds the host<->device copies);
* ``trtexec --loadEngine ENGINE --shapes input:BATCHx3x224x224 --noDataTransfers``: TensorRT's own measurement
  (GPU compute latency; its median is read from trtexec's summary).

Without a CUDA GPU, tensorrt or trtexec it says so and exits 0 without measuring (results are only ever written
from a real GPU run).

    .venv/bin/python benchmarks/bench_trt_runner.py [--engine r18.engine] [--batch 8] [--iterations 500]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, print_table, summarize, write_result


def skip_reason() -> str | None:
    from pt2trt.backends.tensorrt.versions import cuda_gpus

    try:
        import tensorrt  # noqa: F401
    except ImportError as exc:
        return f"tensorrt does not import ({exc})"
    if not cuda_gpus():
        return "no CUDA GPU (the NVIDIA driver reports none)"
    if shutil.which("trtexec") is None:
        return "trtexec is not on PATH (it ships with the TensorRT tar/deb packages, not the pip wheel)"
    return None


def build_engine(work: Path, batch: int) -> Path:
    import pt2trt
    from pt2trt.backends.tensorrt.build import build
    from pt2trt.shapes import apply_dynamic, parse_input

    specs = apply_dynamic([parse_input("input:1x3x224x224")], dynamic_batch=True)
    onnx_path = pt2trt.export("torchvision:resnet18", specs, work / "r18.onnx").path
    shape = f"input:{batch}x3x224x224"
    result = build(onnx_path, work / "r18.engine", min_shapes=["input:1x3x224x224"], opt_shapes=[shape],
                   max_shapes=[shape])  # fmt: skip
    return result.engine


def time_runner(engine: Path, batch: int, iterations: int, warmup: int) -> dict[str, dict[str, float]]:
    import torch

    from pt2trt.backends.tensorrt.runner import TensorRTRunner

    x_np = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    x_cuda = torch.from_numpy(x_np).cuda()
    out: dict[str, dict[str, float]] = {}
    with TensorRTRunner(engine) as runner:
        for name, call in (
            ("runner.infer_torch (CUDA tensors)", lambda: runner.infer_torch({"input": x_cuda}, check=False)),
            ("runner.infer (numpy, with copies)", lambda: runner.infer({"input": x_np}, check=False)),
        ):
            for _ in range(warmup):
                call()
            samples = []
            for _ in range(iterations):
                start = time.perf_counter()
                call()
                samples.append((time.perf_counter() - start) * 1000)
            out[name] = summarize(samples)
    return out


def time_trtexec(engine: Path, batch: int, iterations: int) -> dict[str, float]:
    cmd = ["trtexec", f"--loadEngine={engine}", f"--shapes=input:{batch}x3x224x224", "--noDataTransfers",
           f"--iterations={iterations}", "--warmUp=500"]  # fmt: skip
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    match = re.search(
        r"GPU Compute Time: min = ([\d.]+) ms, max = ([\d.]+) ms, mean = ([\d.]+) ms, median = ([\d.]+)", text
    )
    if not match:
        raise SystemExit("could not read trtexec's 'GPU Compute Time' summary line:\n" + text[-2000:])
    low, high, mean, median = map(float, match.groups())
    return {"median": median, "mean": mean, "min": low, "max": high, "command": " ".join(cmd)}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", type=Path, help="Engine to time [default: build resnet18 here].")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    reason = skip_reason()
    if reason:
        print(f"skipped: this benchmark needs a CUDA GPU, tensorrt and trtexec: {reason}. Nothing was measured.")
        return
    with tempfile.TemporaryDirectory() as tmp:
        engine = args.engine or build_engine(Path(tmp), args.batch)
        runner = time_runner(engine, args.batch, args.iterations, args.warmup)
        trtexec = time_trtexec(engine, args.batch, args.iterations)
    rows = [[name, f"{s['median']:.3f}", f"{s['p90']:.3f}", f"{s['p99']:.3f}"] for name, s in runner.items()]
    rows.append(["trtexec GPU compute", f"{trtexec['median']:.3f}", "-", "-"])
    print_table(["variant", "median ms", "p90 ms", "p99 ms"], rows, title=f"resnet18, batch {args.batch}")
    path = write_result("bench_trt_runner", {"machine": machine_info(), "batch": args.batch, "runner": runner,
                                             "trtexec": trtexec})  # fmt: skip
    print(f"written {path}")


if __name__ == "__main__":
    main()
