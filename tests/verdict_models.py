"""Small models for the precision-verdict tests: raw detector heads (no task metric), a non-image encoder, a
detector whose outputs hold one image whatever the batch, and a classifier with a dynamic input size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


class RawHeads(nn.Module):
    """A backbone and two raw heads, as a detector exported without its decoding: scores (sigmoid) and box deltas."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU())
        self.scores = nn.Conv2d(16, 4, 1)
        self.deltas = nn.Conv2d(16, 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.backbone(x)
        return torch.sigmoid(self.scores(features)), self.deltas(features)


class Encoder(nn.Module):
    """A non-image model: 16 features in, a 32-dimensional embedding out ([N, 32] looks like class scores)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class OneImageDetector(nn.Module):
    """torchvision-style outputs (boxes [K, 4], scores [K], labels [K]) for the first image of the batch only, K
    depending on the data: run at batch > 1, the outputs still hold one image."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, 4, 1), nn.ReLU(), nn.Conv2d(8, 3, 3, 2, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        maps = torch.sigmoid(self.features(x)[0])  # [3, h, w]: one score map per class, image 0 only
        h, w = maps.shape[1], maps.shape[2]
        scores, flat = maps.reshape(-1).topk(12)
        labels = flat // (h * w)
        cell = flat % (h * w)
        cy, cx = (cell // w).float() * 8 + 4, (cell % w).float() * 8 + 4
        boxes = torch.stack([cx - 6, cy - 6, cx + 6, cy + 6], dim=1)
        return boxes, scores, labels + 1


class NamedOneImageDetector(OneImageDetector):
    """The same, returning a dict as torchvision's detectors do: outputs named boxes, scores, labels."""

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:  # type: ignore[override]
        boxes, scores, labels = super().forward(x)
        return {"boxes": boxes, "scores": scores, "labels": labels}


def export_dynamic(
    model: nn.Module, shape: tuple[int, ...], path: Path, axes: dict[int, str], names: list[str] | None = None
) -> Path:
    """Legacy export with the given dynamic axes of the one input (and output ``names``), pt2trt's records kept."""
    from pt2trt.pytorch.export import export
    from pt2trt.settings import ExportSettings
    from pt2trt.shapes import InputSpec

    spec = InputSpec("input", shape, "float32", axes)
    settings = ExportSettings(exporter="legacy", output_names=tuple(names or ()))
    export(model.eval(), [spec], path, settings, force=True)
    return path


class TinyClassifier(nn.Module):
    """Conv -> ReLU -> global pooling -> 10 classes: an image classifier of any input size."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU())
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def photo_arrays(count_per_photo: int = 6, size: int = 64, seed: int = 0) -> np.ndarray:
    """Crops of scikit-image's colour photos, resized to ``size``: [N, 3, size, size] in [0, 1]."""
    from PIL import Image

    from tests.precision_models import PHOTOS, skimage_file

    rng = np.random.default_rng(seed)
    crops = []
    for name in PHOTOS:
        with Image.open(skimage_file(name)) as image:
            rgb = image.convert("RGB")
        w, h = rgb.size
        for _ in range(count_per_photo):
            side = int(min(w, h) * rng.uniform(0.4, 1.0))
            left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            crop = rgb.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
            crops.append(np.asarray(crop, np.float32).transpose(2, 0, 1) / 255.0)
    return np.stack(crops)
