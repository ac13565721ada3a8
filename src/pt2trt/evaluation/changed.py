"""The images whose answer changed against the reference, drawn: truth | reference | this model, side by side.

``--save DIR`` writes one folder per model (``DIR/01-<model>-<backend>/``) with a picture per changed image; every
file is written atomically, and existing pictures are only replaced with ``--force``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError

if TYPE_CHECKING:
    from PIL import Image

    from pt2trt.evaluation.datasets import LabelledData
    from pt2trt.evaluation.scoring import Scorer
    from pt2trt.tasks import Labels, Result, Task


@dataclass
class Side:
    """One model's answers to draw: its label, scorer (holding the kept answers), task and class names."""

    label: str
    scorer: Scorer
    task: Task
    labels: Labels


def folder_name(position: int, model: Any, backend: str) -> str:
    stem = Path(str(model)).name if isinstance(model, str | Path) else type(model).__name__
    return f"{position:02d}-{re.sub(r'[^A-Za-z0-9._-]+', '_', stem)}-{backend}"


def save_folders(root: Path, models: Sequence[tuple[Any, str]], *, force: bool) -> list[Path]:
    """One folder per model under ``root`` (the reference's is never written); refused before any work when one
    already holds pictures and ``force`` is not given."""
    if root.exists() and not root.is_dir():
        raise Pt2trtError(f"--save {root} is a file, not a folder", "Pass a folder path to --save")
    folders = [root / folder_name(i, model, backend) for i, (model, backend) in enumerate(models)]
    for folder in folders[1:]:
        if folder.is_dir() and any(folder.iterdir()) and not force:
            raise Pt2trtError(f"{folder} already holds pictures", "Pass --force to overwrite them, or another --save")
    return folders


def save_changed(
    folder: Path, data: LabelledData, reference: Side, other: Side, indices: Sequence[int], force: bool
) -> list[Path]:
    """Draw each of ``indices`` (truth, reference, other) into ``folder``; the paths written."""
    from pt2trt.files import publish, staging_dir
    from pt2trt.imaging.sources import load_image
    from pt2trt.tasks import Labels

    truth_labels = Labels(data.class_names) if data.class_names else reference.labels
    written = []
    if indices:
        folder.mkdir(parents=True, exist_ok=True)
    for index in indices:
        sample = data.samples[index]
        image = load_image(sample.path)
        panels = [
            _panel(image, reference.scorer.truth(index), reference.task, truth_labels, "truth"),
            _panel(image, reference.scorer.kept[index], reference.task, reference.labels, reference.label),
            _panel(image, other.scorer.kept[index], other.task, other.labels, other.label),
        ]
        target = folder / (re.sub(r"[^A-Za-z0-9._-]+", "_", str(Path(sample.name).with_suffix(""))) + ".jpg")
        with staging_dir(target) as tmp:
            staged = tmp / target.name
            _side_by_side(panels).save(staged, quality=90)
            publish(staged, target, replace=force)
        written.append(target)
    return written


def _panel(image: Image.Image, result: Result, task: Task, labels: Labels, caption: str) -> Image.Image:
    from PIL import Image, ImageDraw

    from pt2trt.prediction.draw import annotate
    from pt2trt.tasks.draw import font

    drawn = annotate(image, result, labels, task)
    face = font(drawn)
    band = int(face.getbbox("Ag")[3]) + 8 if hasattr(face, "getbbox") else 20
    panel = Image.new("RGB", (drawn.width, drawn.height + band), (255, 255, 255))
    panel.paste(drawn, (0, band))
    ImageDraw.Draw(panel).text((4, 4), caption, fill=(0, 0, 0), font=face)
    return panel


def _side_by_side(panels: list[Image.Image]) -> Image.Image:
    from PIL import Image

    gap = 6
    width = sum(p.width for p in panels) + gap * (len(panels) - 1)
    out = Image.new("RGB", (width, max(p.height for p in panels)), (255, 255, 255))
    x = 0
    for panel in panels:
        out.paste(panel, (x, 0))
        x += panel.width + gap
    return out
