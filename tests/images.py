"""Pictures for the task tests: drawn here (deterministic), or the photos scikit-image ships in its wheel."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SKIMAGE_PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png")


def scene(width: int, height: int, seed: int = 0) -> Image.Image:
    """A colour gradient with a few filled rectangles and ellipses: structure for a CNN to respond to."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = rng.uniform(0, 255, 3) * x + rng.uniform(0, 255, 3) * (1 - y)
    image = Image.fromarray((base / 2).clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x1, x2 = sorted(rng.integers(0, width, 2))
        y1, y2 = sorted(rng.integers(0, height, 2))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)((x1, y1, x2 + 1, y2 + 1), fill=fill)
    return image


def write_scenes(folder: Path, sizes: list[tuple[int, int]], suffix: str = ".jpg") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (w, h) in enumerate(sizes):
        path = folder / f"scene{i}{suffix}"
        scene(w, h, seed=i).save(path)
        paths.append(path)
    return paths


def skimage_photo(name: str) -> Path | None:
    """A photo from the scikit-image wheel (read as a file: scikit-image itself is not imported), or None."""
    try:
        path = Path(str(metadata.distribution("scikit-image").locate_file(f"skimage/data/{name}")))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def photos(folder: Path) -> list[Path]:
    """astronaut, coffee and chelsea from scikit-image when installed, else three drawn scenes of their sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    found = [skimage_photo(n) for n in SKIMAGE_PHOTOS]
    if all(found):
        return [Path(shutil.copy(p, folder / p.name)) for p in found if p is not None]
    return write_scenes(folder, [(512, 512), (600, 400), (451, 300)], ".png")
