"""The pt2trt side of bench_pipeline.py: export, check and verify resnet18 with the Python API.

The last stdout line is ``BENCH {json}`` with wall-clock and CPU time stamps and what pt2trt reported (the exporter
and opset it used, its own export and verify timings), so that the parent can split the wall time into phases
and run the hand-written baseline with the same exporter and opset.

    .venv/bin/python benchmarks/pipeline_pt2trt_api.py --out r18.onnx
"""

from __future__ import annotations

import argparse
import json
import time

import pt2trt
from pt2trt.settings import ExportSettings


def mark(marks: dict[str, tuple[float, float]], name: str) -> None:
    """Record the end of phase ``name``: wall clock (``time.monotonic``) and this process's CPU time."""
    marks[name] = (time.monotonic(), time.process_time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    marks: dict[str, tuple[float, float]] = {}
    mark(marks, "start")

    exported = pt2trt.export(
        "torchvision:resnet18",
        [pt2trt.parse_input("input:1x3x224x224")],
        args.out,
        ExportSettings(exporter="auto"),
        force=True,
    )
    mark(marks, "export")

    report = pt2trt.check(args.out)
    if not report.passed:
        raise SystemExit(f"check failed: {report.errors}")
    mark(marks, "check")

    verified = pt2trt.verify("torchvision:resnet18", args.out)
    if not verified.passed:
        raise SystemExit("verify failed")
    mark(marks, "verify")

    print(
        "BENCH "
        + json.dumps(
            {
                "marks": marks,
                "exporter": exported.exporter,
                "opset": exported.opset,
                "fallback_reason": exported.fallback_reason,
                "export_seconds": exported.seconds,
                "verify_seconds": verified.seconds,
                "max_abs_error": verified.comparison.tensors[0].max_abs_error,
            }
        )
    )


if __name__ == "__main__":
    main()
