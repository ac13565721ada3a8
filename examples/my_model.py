"""A model file to point the CLI at, as users do with their own code.

pt2trt export examples/my_model.py:TinyUNet --input image:1x3x64x64 --dynamic-batch -o tiny_unet.onnx
pt2trt verify examples/my_model.py:TinyUNet tiny_unet.onnx --batch 2
"""

from __future__ import annotations

import torch
from torch import nn


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyUNet(nn.Module):
    """A two-level U-Net producing per-pixel logits for 3 classes (a segmentation model in miniature)."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.down = block(3, 16)
        self.bottom = block(16, 32)
        self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.fuse = block(32, 16)
        self.head = nn.Conv2d(16, classes, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        skip = self.down(image)
        x = self.bottom(nn.functional.max_pool2d(skip, 2))
        x = self.fuse(torch.cat([self.up(x), skip], dim=1))
        return self.head(x)
