"""Labelled data for ``eval``: the pictures, their labels, and the dataset's own class names.

One loader per format (``imagefolder``, ``coco``, ``yolo``, ``masks``); :func:`pt2trt.evaluation.loading.load_dataset`
picks it from the task and what ``DATA`` is. Every loader checks its data before any model runs: a missing label, an
unknown class, an empty picture, a box outside its image or a mask of the wrong size is one
:class:`~pt2trt.errors.Pt2trtError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np


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
        classes = f", {len(self.class_names)} classes" if self.class_names else ""
        return f"{len(self)} images{classes} ({self.format}, {self.root})"

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
        from pt2trt.evaluation.pictures import read_mask

        return read_mask(self.masks[index])


def sample_of(path: Path, root: Path) -> Sample:
    try:
        name = str(path.relative_to(root))
    except ValueError:
        name = path.name
    return Sample(path, name)
