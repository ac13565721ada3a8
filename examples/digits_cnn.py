"""A small CNN for scikit-learn's 8x8 handwritten digits, upscaled to 32x32 grey pictures (the architecture only:
``convert_trained_weights.py`` trains it and converts it with its weights)."""

from __future__ import annotations

import torch


class DigitsCNN(torch.nn.Sequential):
    def __init__(self) -> None:
        super().__init__(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(16 * 8 * 8, 10),
        )  # fmt: skip
