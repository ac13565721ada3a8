"""The main job from trained weights: an architecture (examples/digits_cnn.py:DigitsCNN) plus a state_dict, converted
with its preprocessing recorded, verified against the weighted model, and scored on labelled pictures at FP32, FP16
and INT8 (the task metric beside the agreement).

Run: python examples/convert_trained_weights.py [OUTPUT_DIR]    (trains on scikit-learn's digits for a few seconds)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from digits_cnn import DigitsCNN  # noqa: E402


def pictures(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """An ImageFolder of 32x32 grey pictures: folder/<digit>/<n>.png."""
    for n, (pixels, label) in enumerate(zip(images, labels)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels, "L").save(folder / str(label) / f"{n:04d}.png")
    return folder


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/trained-digits")
    out.mkdir(parents=True, exist_ok=True)
    data = load_digits()
    big = (data.images * 15).clip(0, 255).astype(np.uint8).repeat(4, axis=1).repeat(4, axis=2)  # 8x8 -> 32x32
    order = np.random.default_rng(0).permutation(len(big))
    train, test = order[:1300], order[1300:]

    torch.manual_seed(0)
    model = DigitsCNN()
    optimiser = torch.optim.Adam(model.parameters(), 3e-3)
    x = torch.from_numpy(big[train].astype(np.float32)[:, None] / 255)
    y = torch.from_numpy(data.target[train].astype(np.int64))
    for _ in range(6):
        for i in range(0, len(x), 64):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64]).backward()
            optimiser.step()
    torch.save(model.state_dict(), out / "digits.pt")

    val = pictures(out / "val", big[test], data.target[test])
    (out / "digits-preprocess.yaml").write_text("resize: stretch\nsize: 32x32\nchannels: L\nscale: 1/255\n")
    command = [
        "pt2trt", "convert", f"{HERE / 'digits_cnn.py'}:DigitsCNN", "--weights", str(out / "digits.pt"),
        "--input", "input:1x1x32x32", "--dynamic-batch", "--preprocess", str(out / "digits-preprocess.yaml"),
        "--task", "classify", "--precision", "fp16,int8", "--calib", str(val / "3"), "--eval", str(val),
        "--max-drop", "2", "-o", str(out / "convert"), "--bench-duration", "0.1", "--force", "-q",
    ]  # fmt: skip
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
