"""Models for the ``convert`` tests: a deliberately broken one whose exported graph differs from its eager forward."""

from __future__ import annotations

import torch
from torch import nn


class ExportDrift(nn.Module):
    """Scales by 1.0 when run eagerly but by 1.5 while being exported: the ONNX graph no longer matches PyTorch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = 1.5 if torch.onnx.is_in_onnx_export() else 1.0
        return x * scale


class DriftNet(nn.Module):
    """Conv-ReLU stem, then ``drift`` (an :class:`ExportDrift`), then a Conv head: verify must name ``drift``."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.drift = ExportDrift()
        self.head = nn.Sequential(nn.Conv2d(8, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drift(self.stem(x)))
