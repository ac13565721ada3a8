"""Models and data for the precision tests: a CNN trained on scikit-learn's digits, and a model that overflows FP16."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from pt2trt.settings import ExportSettings

#: colour photos shipped in scikit-image's wheel
PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg", "color.png")


class DigitsNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1),
            torch.nn.BatchNorm2d(16),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        )
        self.head = torch.nn.Linear(32 * 16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.features(x), 1))


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 1797 handwritten 8x8 digits scaled to [0, 1]: (train x, train y, test x, test y)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None]
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1300], order[1300:]
    return x[train], data.target[train], x[test], data.target[test]


def train_digits(x: np.ndarray, y: np.ndarray, epochs: int = 8) -> DigitsNet:
    torch.manual_seed(0)
    model = DigitsNet()
    optimiser = torch.optim.Adam(model.parameters(), 1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(epochs):
        for i in range(0, len(xt), 100):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[i : i + 100]), yt[i : i + 100]).backward()
            optimiser.step()
    return model.eval()


class EnergyNet(torch.nn.Module):
    """Features of raw 0-255 pixels, their energy summed over the image (~1e8: beyond FP16), then a log and a head."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.head = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = torch.relu(self.conv(x))
        energy = (features * features).sum(dim=(2, 3))
        return self.head(torch.log(energy + 1.0))


def export(model: torch.nn.Module, shape: tuple[int, ...], path: Path) -> Path:
    """Legacy (TorchScript) export with a dynamic batch, pt2trt's records included."""
    from pt2trt.pytorch.export import export as pt2trt_export
    from pt2trt.shapes import InputSpec

    spec = InputSpec("input", shape, "float32", {0: "batch"})
    pt2trt_export(model, [spec], path, ExportSettings(exporter="legacy"), force=True)
    return path


def photos(folder: Path, crops: int = 3) -> Path:
    """scikit-image's colour photos, plus ``crops`` square crops of each: real pictures, more samples."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        source = Path(str(metadata.distribution("scikit-image").locate_file(f"skimage/data/{name}")))
        target = folder / name
        shutil.copy(source, target)
        with Image.open(source) as image:
            rgb = image.convert("RGB")
        w, h = rgb.size
        side = min(w, h) // 2
        rng = np.random.default_rng(len(name))
        for k in range(crops):
            left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            rgb.crop((left, top, left + side, top + side)).save(folder / f"{Path(name).stem}_crop{k}.png")
    return folder
