"""Use the runners directly: the same feed through PyTorch and ONNX Runtime, compared output by output.

This is what ``pt2trt verify`` does, spelled out, for a model defined right here (two inputs, two outputs).
Run: python examples/runners_and_compare.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

import pt2trt
from pt2trt.feeds import random_feed


class ScoreAndEmbed(nn.Module):
    """An image and a mask in; class scores and a pooled embedding out (a dict, flattened in order)."""

    def __init__(self) -> None:
        super().__init__()
        self.image = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.mask = nn.Conv2d(1, 8, 3, padding=1)
        self.head = nn.Linear(8, 5)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.image(image) * torch.sigmoid(self.mask(mask))
        embedding = features.mean(dim=(2, 3))
        return {"scores": self.head(embedding).softmax(-1), "embedding": embedding}


def main(out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    model = ScoreAndEmbed().eval()
    inputs = [pt2trt.parse_input("image:2x3x32x32"), pt2trt.parse_input("mask:2x1x32x32")]
    result = pt2trt.export(model, inputs, out_dir / "score_and_embed.onnx", force=True)
    print(result.closing_line(), "outputs:", result.outputs)

    feed = random_feed(result.inputs, seed=123)
    with pt2trt.TorchRunner(model, result.inputs, output_names=result.outputs) as reference_runner:
        reference = reference_runner.infer(feed)
    with pt2trt.OnnxRuntimeRunner(result.path) as ort_runner:
        candidate = ort_runner.infer(feed)

    comparison = pt2trt.compare_outputs(reference, candidate, rtol=1e-4, atol=1e-6)
    for t in comparison.tensors:
        print(f"{t.name:10s} shape={t.reference_shape} max_abs={t.max_abs_error:.2e} cos={t.cosine_similarity:.7f}")
    print("passed" if comparison.passed else "FAILED")
    return 0 if comparison.passed else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/examples")))
