"""Export a torchvision model with a dynamic batch, check it, and verify it at two batch sizes — from Python.

Run: python examples/export_verify_api.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pt2trt
from pt2trt.settings import RunInputs
from pt2trt.shapes import apply_dynamic


def main(out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = apply_dynamic([pt2trt.parse_input("input:1x3x224x224")], dynamic_batch=True)
    result = pt2trt.export("torchvision:mobilenet_v3_small", inputs, out_dir / "mobilenet_v3_small.onnx", force=True)
    print(result.closing_line())

    report = pt2trt.check(result.path)
    print(f"check: {'passed' if report.passed else report.errors}")

    info = pt2trt.inspect_model(result.path)
    print(f"IR {info.ir_version}, opsets {info.opsets}, {info.parameter_count:,} parameters")
    print(f"runs on: {info.onnxruntime.summary}")

    ok = True
    for batch in (1, 4):
        verdict = pt2trt.verify("torchvision:mobilenet_v3_small", result.path, RunInputs(batch=batch))
        worst = max(t.max_abs_error or 0.0 for t in verdict.comparison.tensors)
        print(f"batch {batch}: {'verified' if verdict.passed else 'MISMATCH'} (max abs error {worst:.2e})")
        ok &= verdict.passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/examples")))
