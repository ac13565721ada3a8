"""Which loader reads ``DATA`` for a task: :func:`load_dataset`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    from pt2trt.evaluation.datasets import LabelledData
    from pt2trt.tasks import Labels


def load_dataset(
    task: str,
    data: str | Path,
    *,
    images: str | Path | None = None,
    labels: Labels | None = None,
    split: str | None = None,
) -> LabelledData:
    """The labelled data at ``data`` for ``task``: an ImageFolder (classify); a COCO JSON file, a YOLO data
    ``.yaml`` or a folder with ``images/`` and ``labels/`` (detect); a folder of index-PNG masks (segment).
    ``images`` is the folder of the pictures when it is not found from ``data``."""
    path = Path(data)
    if not path.exists():
        raise Pt2trtError(f"--data {path} not found", _data_hint(task))
    if task == "classify":
        from pt2trt.evaluation.imagefolder import load_imagefolder

        _need_dir(path, task)
        return load_imagefolder(path, labels)
    if task == "detect":
        if path.suffix.lower() == ".json":
            from pt2trt.evaluation.coco import load_coco

            return load_coco(path, Path(images) if images else None)
        from pt2trt.evaluation.yolo import load_yolo

        return load_yolo(path, labels, split=split, images=Path(images) if images else None)
    if task == "segment":
        from pt2trt.evaluation.masks import load_masks

        _need_dir(path, task)
        return load_masks(path, images=Path(images) if images else None, split=split)
    raise UsageError(f"eval has no metrics for task '{task}'", "Use --task classify, detect or segment")


def _data_hint(task: str) -> str:
    if task == "classify":
        return "Give an ImageFolder: one folder per class (DATA/cat/1.jpg, DATA/dog/2.jpg, ...)"
    if task == "detect":
        return "Give a COCO JSON file (with --images DIR), a YOLO data .yaml, or a folder with images/ and labels/"
    return "Give a folder with images/ and masks/ (index PNGs), or a VOC folder (JPEGImages/, SegmentationClass/)"


def _need_dir(path: Path, task: str) -> None:
    if not path.is_dir():
        raise Pt2trtError(f"--data {path} is not a folder", _data_hint(task))
