"""What every task shares: decoding raw outputs into per-image results, and naming classes."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.preprocess import Transform

if TYPE_CHECKING:
    from PIL import Image

Outputs = Mapping[str, np.ndarray]


class Labels:
    """Class names by id; ids without a name are shown as numbers."""

    def __init__(self, names: Mapping[int, str] | Sequence[str] | None = None) -> None:
        if names is None:
            self.names: dict[int, str] = {}
        elif isinstance(names, Mapping):
            self.names = {int(k): str(v) for k, v in names.items()}
        else:
            self.names = dict(enumerate(str(n) for n in names))

    def __call__(self, class_id: int) -> str:
        return self.names.get(int(class_id), str(int(class_id)))

    def __bool__(self) -> bool:
        return bool(self.names)

    @classmethod
    def load(cls, path: str | Path | None) -> Labels:
        """One name per line (``.txt``), or a list / ``{id: name}`` mapping in ``.json`` / ``.yaml``
        (a YOLO data file's ``names:`` entry works too)."""
        if path is None:
            return cls()
        p = Path(path)
        if not p.is_file():
            raise Pt2trtError(f"labels file not found: {p}")
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() in (".json", ".yaml", ".yml"):
            try:
                if p.suffix.lower() == ".json":
                    data = json.loads(text)
                else:
                    import yaml

                    data = yaml.safe_load(text)
            except Exception as exc:
                raise Pt2trtError(f"cannot parse labels file {p}: {str(exc).splitlines()[0]}") from exc
            if isinstance(data, dict) and "names" in data:
                data = data["names"]
            if not isinstance(data, list | dict):
                raise Pt2trtError(f"labels file {p} holds no list or mapping of class names")
            try:
                return cls(data)
            except ValueError as exc:
                raise Pt2trtError(f"labels file {p}: class ids must be integers ({exc})") from exc
        return cls([line.strip() for line in text.splitlines() if line.strip()])


class Result(ABC):
    """One image's decoded output."""

    @abstractmethod
    def to_dict(self, labels: Labels) -> dict[str, Any]:
        """The JSON record (without the image name and size, which the caller adds)."""


class Task(ABC):
    """Turns a batch of raw model outputs into one :class:`Result` per image, in original-image coordinates.

    A task also draws its results (:meth:`draw`) and compares two runs' results (:meth:`compare`, through the
    comparator it names); ``name`` is its CLI name and ``default_preset`` its preprocessing preset.
    """

    name: ClassVar[str]
    #: the type of the results :meth:`decode` returns
    result_type: ClassVar[type[Result]]
    #: "module:function" comparing two lists of results: ``(a, b, min_agreement, iou_threshold) -> TaskComparison``
    comparator: ClassVar[str]
    #: preprocessing preset used when neither the model nor the user gives one
    default_preset: ClassVar[str]
    #: output layouts this task decodes; "auto" picks one from the output names and shapes
    layouts: ClassVar[tuple[str, ...]]

    def __init__(self, layout: str = "auto") -> None:
        if layout != "auto" and layout not in self.layouts:
            raise UsageError(
                f"task '{self.name}' has no output layout '{layout}'", f"Use one of: auto, {', '.join(self.layouts)}"
            )
        self.layout = layout

    @abstractmethod
    def decode(self, outputs: Outputs, transforms: Sequence[Transform]) -> list[Result]:
        """One result per transform (= per image of the batch)."""

    @abstractmethod
    def draw(self, image: Image.Image, result: Result, labels: Labels) -> Image.Image:
        """``image`` (an RGB copy of the original picture, drawn on in place) with ``result`` drawn on it."""

    def compare(self, a: Sequence[Result], b: Sequence[Result], *, min_agreement: float, iou_threshold: float) -> Any:
        """Two equally long lists of results compared with this task's comparator: a ``TaskComparison``."""
        import importlib

        module_name, _, function = self.comparator.partition(":")
        comparator = getattr(importlib.import_module(module_name), function)
        return comparator(a, b, min_agreement, iou_threshold)

    def options(self) -> dict[str, Any]:
        """The settings that shape the results (for records and reports)."""
        return {"layout": self.layout}


def batch_of(array: np.ndarray, count: int, what: str) -> np.ndarray:
    """``array`` with a leading batch axis of ``count``; a batch-less output is accepted for one image."""
    if array.ndim >= 1 and array.shape[0] == count:
        return array
    if count == 1:
        return array[None]
    raise Pt2trtError(f"output {what} has shape {list(array.shape)}, expected a batch of {count} first")


def describe_outputs(outputs: Outputs) -> str:
    return ", ".join(f"{k}{list(np.shape(v))}" for k, v in outputs.items())
