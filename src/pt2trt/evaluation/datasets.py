"""Labelled data for ``eval``: the pictures, their labels, and the dataset's own class names.

One loader per format (``imagefolder``, ``coco``, ``yolo``, ``masks``); :func:`load_dataset` picks it from the
task and what ``DATA`` is. Every loader checks its data before any model runs: a missing label, an unknown class, an
empty picture, a box outside its image or a mask of the wrong size is one :class:`~pt2trt.errors.Pt2trtError` naming
the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    import numpy as np

    from pt2trt.tasks import Labels


@dataclass(frozen=True)
class Sample:
    """One labelled picture: its file and its name in records (the path under the data folder)."""

    path: Path
    name: str


@dataclass(kw_only=True)
class LabelledData:
    """Pictures with labels for one task; ``class_names`` is the dataset's label space (id -> name)."""

    task: ClassVar[str] = ""
    root: Path
    samples: list[Sample]
    class_names: dict[int, str]
    format: str
    #: what was decided for the user while reading the data (said aloud by the CLI)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.samples)

    def describe(self) -> str:
        return f"{len(self)} images, {len(self.class_names)} classes ({self.format}, {self.root})"

    def first(self, count: int) -> LabelledData:
        """The first ``count`` samples only (``--limit``)."""
        return replace(self, samples=self.samples[:count], **self._first_extra(count))

    def _first_extra(self, count: int) -> dict[str, Any]:
        return {}


@dataclass(kw_only=True)
class ClassificationData(LabelledData):
    task: ClassVar[str] = "classify"
    #: the class index of each sample (the model's output index)
    targets: list[int]

    def _first_extra(self, count: int) -> dict[str, Any]:
        return {"targets": self.targets[:count]}


@dataclass(kw_only=True)
class DetectionData(LabelledData):
    """Boxes in COCO form: ``coco`` holds ``images``, ``annotations`` (ids from 1) and ``categories``."""

    task: ClassVar[str] = "detect"
    coco: dict[str, Any]
    #: the COCO image id of each sample
    image_ids: list[int]

    def _first_extra(self, count: int) -> dict[str, Any]:
        keep = set(self.image_ids[:count])
        coco = {
            **self.coco,
            "images": [i for i in self.coco["images"] if i["id"] in keep],
            "annotations": [a for a in self.coco["annotations"] if a["image_id"] in keep],
        }
        return {"coco": coco, "image_ids": self.image_ids[:count]}

    def boxes_of(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Sample ``index``'s ground truth: xyxy boxes ``[K, 4]`` and category ids ``[K]`` (crowds left out)."""
        import numpy as np

        image_id = self.image_ids[index]
        anns = [a for a in self._by_image().get(image_id, []) if not a.get("iscrowd")]
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)], float).reshape(-1, 4)
        return boxes, np.array([a["category_id"] for a in anns], dtype=np.int64)

    def _by_image(self) -> dict[int, list[dict[str, Any]]]:
        cached = self.__dict__.get("_index")
        if cached is None:
            cached = {}
            for ann in self.coco["annotations"]:
                cached.setdefault(ann["image_id"], []).append(ann)
            self.__dict__["_index"] = cached
        return cached


@dataclass(kw_only=True)
class SegmentationData(LabelledData):
    """Index-PNG masks (one class index per pixel, ``ignore_index`` not scored), one per picture."""

    task: ClassVar[str] = "segment"
    masks: list[Path]
    ignore_index: int = 255

    def _first_extra(self, count: int) -> dict[str, Any]:
        return {"masks": self.masks[:count]}

    def load_mask(self, index: int) -> np.ndarray:
        from pt2trt.evaluation.masks import read_mask

        return read_mask(self.masks[index])


# -- loading -------------------------------------------------------------------------------------------------------
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
        raise Pt2trtError(f"--data {path} not found", _DATA_HINTS.get(task, "Check the path"))
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


_DATA_HINTS = {
    "classify": "Give an ImageFolder: one folder per class (DATA/cat/1.jpg, DATA/dog/2.jpg, ...)",
    "detect": "Give a COCO JSON file (with --images DIR), a YOLO data .yaml, or a folder with images/ and labels/",
    "segment": "Give a folder with images/ and masks/ (index PNGs), or a VOC folder (JPEGImages/, SegmentationClass/)",
}


def _need_dir(path: Path, task: str) -> None:
    if not path.is_dir():
        raise Pt2trtError(f"--data {path} is not a folder", _DATA_HINTS[task])


# -- picture checks shared by the loaders ------------------------------------------------------------------------
def image_files(folder: Path, *, recursive: bool = True) -> list[Path]:
    """The picture files under ``folder`` (sorted; hidden files and folders left out)."""
    from pt2trt.prediction.images import IMAGE_SUFFIXES

    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if p.suffix.lower() in IMAGE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def picture_size(path: Path) -> tuple[int, int]:
    """(width, height) of a picture as pt2trt decodes it (EXIF orientation applied), from its header only.

    An empty or unreadable file is a user error naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        if path.stat().st_size == 0:
            raise Pt2trtError(f"image {path} is empty (0 bytes)", "Remove it from the data, or replace it")
        with Image.open(path) as img:
            width, height = img.size
            try:
                orientation = int(img.getexif().get(0x0112, 1))
            except Exception:  # a broken EXIF block: predict ignores it too
                orientation = 1
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Pt2trtError(f"cannot read image {path}: {exc}", "Check that the file is a readable image") from exc
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def sample_of(path: Path, root: Path) -> Sample:
    try:
        name = str(path.relative_to(root))
    except ValueError:
        name = path.name
    return Sample(path, name)
