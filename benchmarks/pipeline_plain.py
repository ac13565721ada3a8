"""The hand-written baseline of bench_pipeline.py: export, check and verify resnet18 without pt2trt.

This is what a user writes with the libraries alone: build the model, ``torch.onnx.export`` (same exporter and
opset as pt2trt used), ``onnx.checker.check_model``, then an ONNX Runtime session whose output is compared with
PyTorch's by ``np.testing.assert_allclose`` (pt2trt verify's default tolerances). The last stdout line is
``BENCH {json}`` with wall-clock and CPU time stamps, so that the parent can split the wall time into phases.

    .venv/bin/python benchmarks/pipeline_plain.py --out r18.onnx [--exporter dynamo|legacy] [--opset N]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torchvision


def mark(marks: dict[str, tuple[float, float]], name: str) -> None:
    """Record the end of phase ``name``: wall clock (``time.monotonic``) and this process's CPU time."""
    marks[name] = (time.monotonic(), time.process_time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--exporter", choices=["dynamo", "legacy"], default="dynamo")
    parser.add_argument("--opset", type=int, default=None)
    args = parser.parse_args()
    marks: dict[str, tuple[float, float]] = {}
    mark(marks, "start")

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    mark(marks, "build")

    torch.onnx.export(
        model,
        (x,),
        args.out,
        dynamo=args.exporter == "dynamo",
        opset_version=args.opset,
        input_names=["input"],
        output_names=["output"],
    )
    mark(marks, "export")

    onnx.checker.check_model(onnx.load(args.out))
    mark(marks, "check")

    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    (actual,) = session.run(None, {"input": x.numpy()})
    np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-5)
    mark(marks, "verify")

    print("BENCH " + json.dumps({"marks": marks, "max_abs_error": float(np.abs(actual - expected).max())}))


if __name__ == "__main__":
    main()
