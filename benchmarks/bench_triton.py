"""Per-request cost of serving through Triton: the Triton runner over HTTP and gRPC against the local ONNX Runtime
runner on the same model, in one run.

The model (torchvision resnet18, random weights, batch 1; and a one-Identity-node model on float32[1, 1000] that
shows the fixed cost per request) is written into a repository with ``pt2trt triton --core python --kind cpu`` and
served by the ``tritonserver`` of the nvidia-pytriton wheel on 127.0.0.1 (Python backend running ONNX Runtime:
the backend a CPU-only server has). The runners are the ones ``predict``/``compare``/``bench --backend triton``
get through the backend registry. After a warm-up, blocks of calls are interleaved in a seeded random order each
round; the overhead per request is the median over the paired rounds of (Triton block median - local block median).

    .venv/bin/python benchmarks/bench_triton.py [--quick] [--onnx resnet18.onnx]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_info, print_table, pt2trt_command, summarize, write_result

from pt2trt.backends import runner_class
from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
from pt2trt.serve.server import LocalTritonServer

NAME = "bench_triton"


def export_resnet18(path: Path) -> None:
    cmd = [*pt2trt_command(), "export", "torchvision:resnet18", "--input", "input:1x3x224x224", "--dynamic-batch"]
    subprocess.run([*cmd, "-o", str(path), "--force"], check=True)


def identity_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"])],
        "identity",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1000])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 1000])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))


def serve(model: Path, repo: Path) -> None:
    cmd = [*pt2trt_command(), "triton", str(model), "-o", str(repo), "--kind", "cpu", "--core", "python"]
    subprocess.run(cmd, check=True)


def measure(runners: dict[str, Any], feed: dict[str, np.ndarray], rounds: int, block: int) -> dict[str, list[float]]:
    """Block medians (ms) per runner, blocks interleaved in a seeded random order each round."""
    rng = random.Random(0)
    medians: dict[str, list[float]] = {name: [] for name in runners}
    for runner in runners.values():
        for _ in range(10):
            runner.infer(feed, check=False)
    for _ in range(rounds):
        order = list(runners)
        rng.shuffle(order)
        for name in order:
            runner = runners[name]
            runner.infer(feed, check=False)  # not recorded: lets the previous runner's threads go idle
            times = []
            for _ in range(block):
                start = time.perf_counter()
                runner.infer(feed, check=False)
                times.append((time.perf_counter() - start) * 1e3)
            medians[name].append(statistics.median(times))
    return medians


def run_model(label: str, model: Path, server: LocalTritonServer, feed: dict[str, np.ndarray], rounds: int) -> dict:
    triton = runner_class("triton")
    runners = {
        "local ONNX Runtime runner": OnnxRuntimeRunner(model).activate(),
        "triton runner, HTTP": triton(model, url=server.http_url).activate(),
        "triton runner, gRPC": triton(model, url=server.grpc_url).activate(),
    }
    try:
        reference = runners["local ONNX Runtime runner"].infer(feed)["output"]
        for name, runner in runners.items():  # the same answers before timing anything
            np.testing.assert_allclose(runner.infer(feed)["output"], reference, rtol=1e-5, atol=1e-5, err_msg=name)
        medians = measure(runners, feed, rounds, block=20)
    finally:
        for runner in runners.values():
            runner.deactivate()
    local = medians["local ONNX Runtime runner"]
    result: dict[str, Any] = {"model": label, "variants": {}}
    for name, values in medians.items():
        entry = summarize(values)
        if name != "local ONNX Runtime runner":
            entry["overhead_ms_per_request"] = statistics.median(v - lo for v, lo in zip(values, local))
        result["variants"][name] = entry
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer rounds (a smoke run, not a measurement).")
    parser.add_argument("--onnx", type=Path, help="A resnet18 ONNX file to reuse (else exported here).")
    args = parser.parse_args()
    rounds = 3 if args.quick else 15
    with tempfile.TemporaryDirectory(prefix="bench-triton-") as tmp:
        work = Path(tmp)
        resnet = args.onnx or work / "resnet18.onnx"
        if args.onnx is None:
            export_resnet18(resnet)
        identity = work / "identity.onnx"
        identity_model(identity)
        repo = work / "repo"
        serve(resnet, repo)
        serve(identity, repo)
        rng = np.random.default_rng(0)
        cases = [
            ("resnet18 1x3x224x224", resnet, {"input": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}),
            ("Identity 1x1000", identity, {"input": rng.standard_normal((1, 1000)).astype(np.float32)}),
        ]
        with LocalTritonServer(repo, timeout=180) as server:
            results = [run_model(label, path, server, feed, rounds) for label, path, feed in cases]
    rows = []
    for result in results:
        for name, entry in result["variants"].items():
            overhead = entry.get("overhead_ms_per_request")
            rows.append([result["model"], name, f"{entry['median']:.2f}", f"{entry['p90']:.2f}",
                         "" if overhead is None else f"{overhead:+.2f}"])  # fmt: skip
    print_table(["model", "variant", "median ms", "p90 ms", "overhead ms/request"], rows, left=(0, 1))
    data = {"name": NAME, "machine": machine_info(), "rounds": rounds, "block": 20, "results": results}
    print("wrote", write_result(NAME, data))


if __name__ == "__main__":
    main()
