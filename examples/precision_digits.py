"""Train a small CNN on real handwritten digits (scikit-learn's load_digits), export it, then make FP16 and INT8 Q/DQ
versions with `pt2trt.precision.quantize` — calibrated on training images, measured on held-apart ones.

Run: python examples/precision_digits.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

import pt2trt
from pt2trt.precision import quantize
from pt2trt.settings import ExportSettings


def train(x: np.ndarray, y: np.ndarray) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 16, 10),
    )
    optimiser = torch.optim.Adam(model.parameters(), 1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(8):
        for i in range(0, len(xt), 100):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[i : i + 100]), yt[i : i + 100]).backward()
            optimiser.step()
    return model.eval()


def accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    with pt2trt.OnnxRuntimeRunner(path) as runner:
        return float((runner.infer({"input": x})["output"].argmax(1) == y).mean())


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    order = np.random.default_rng(0).permutation(len(x))
    train_idx, test_idx = order[:1300], order[1300:]
    model = train(x[train_idx], digits.target[train_idx])
    np.save(out / "calib.npy", x[train_idx][:400])  # calibration: training images
    np.save(out / "eval.npy", x[test_idx])  # the accuracy cost is measured on images the model never saw

    spec = pt2trt.InputSpec("input", (1, 1, 8, 8), "float32", {0: "batch"})
    fp32 = pt2trt.export(model, [spec], out / "digits.onnx", ExportSettings(exporter="legacy"), force=True).path
    print(f"FP32 held-apart accuracy {accuracy(fp32, x[test_idx], digits.target[test_idx]):.4f}")
    for precision in ("fp16", "int8"):
        result = quantize(
            fp32, out / f"digits-{precision}.onnx", precision, calib=out / "calib.npy", eval_data=out / "eval.npy",
            force=True, progress=False,
        )  # fmt: skip
        measured = accuracy(result.output, x[test_idx], digits.target[test_idx])
        print(f"{precision}: top-1 agreement with FP32 {result.accuracy.agreement:.4f}, accuracy {measured:.4f}")
        if not result.passed:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/precision")))
