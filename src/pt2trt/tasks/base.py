"""What every task shares: decoding raw outputs into per-image results, and naming classes."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import Transform
from pt2trt.settings.tasks import TaskSettings

if TYPE_CHECKING:
    from PIL import Image

Outputs = Mapping[str, np.ndarray]

#: built-in label sets (``--labels NAME``), shipped in ``pt2trt/tasks/labels/``; "coco" picks 80 or 91 ids by layout
BUILTIN_LABELS = ("coco80", "coco91-torchvision", "imagenet", "voc")
LABEL_ALIASES = {"coco91": "coco91-torchvision", "pascal-voc": "voc"}
#: a family name resolved once the outputs are seen (:meth:`Labels.resolve`), by the task's :meth:`Task.label_set`
LABEL_FAMILIES = {"coco": ("coco80", "coco91-torchvision")}


class Labels:
    """Class names by id; ids without a name are shown as numbers."""

    def __init__(
        self, names: Mapping[int, str] | Sequence[str] | None = None, *, source: str | None = None, family: str = ""
    ) -> None:
        #: where the names came from (a file or a built-in name), for messages
        self.source = source
        #: a built-in family ("coco") still to be resolved by the task's layout; no names until then
        self.family = family
        if names is None:
            self.names: dict[int, str] = {}
        elif isinstance(names, Mapping):
            self.names = {int(k): str(v) for k, v in names.items()}
        else:
            self.names = dict(enumerate(str(n) for n in names))

    def __call__(self, class_id: int) -> str:
        return self.names.get(int(class_id), str(int(class_id)))

    def __bool__(self) -> bool:
        return bool(self.names) or bool(self.family)

    def __len__(self) -> int:
        return max(self.names, default=-1) + 1

    @classmethod
    def builtin(cls, name: str) -> Labels:
        """A label set shipped with pt2trt: ``coco80``, ``coco91-torchvision``, ``imagenet``, ``voc`` (or ``coco``,
        which becomes one of the COCO sets once the model's layout is known)."""
        from importlib import resources

        name = LABEL_ALIASES.get(name, name)
        if name in LABEL_FAMILIES:
            return cls(source=name, family=name)
        text = resources.files("pt2trt.tasks").joinpath("labels").joinpath(f"{name}.txt").read_text(encoding="utf-8")
        return cls([line.strip() for line in text.splitlines() if line.strip()], source=name)

    def resolve(self, choice: str | None) -> Labels:
        """A family ("coco") resolved to one of its sets: ``choice`` when it belongs to it, else the first."""
        if not self.family:
            return self
        sets = LABEL_FAMILIES[self.family]
        return Labels.builtin(choice if choice in sets else sets[0])

    @classmethod
    def load(cls, path: str | Path | None) -> Labels:
        """One name per line (``.txt``), or a list / ``{id: name}`` mapping in ``.json`` / ``.yaml``
        (a YOLO data file's ``names:`` entry works too), or a built-in name (:meth:`builtin`)."""
        if path is None:
            return cls()
        p = Path(path)
        builtin = LABEL_ALIASES.get(str(path), str(path))
        if not p.exists() and (builtin in BUILTIN_LABELS or builtin in LABEL_FAMILIES):
            return cls.builtin(builtin)
        if not p.is_file():
            names = ", ".join([*LABEL_FAMILIES, *BUILTIN_LABELS])
            raise Pt2trtError(f"labels file not found: {p}", f"Give a .txt/.json/.yaml file or a built-in set: {names}")
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() in (".json", ".yaml", ".yml"):
            try:
                if p.suffix.lower() == ".json":
                    data = json.loads(text)
                else:
                    import yaml

                    data = yaml.safe_load(text)
            except Exception as exc:
                raise Pt2trtError(
                    f"cannot parse labels file {p}: {str(exc).splitlines()[0]}",
                    "Give a text file with one class name per line, or a JSON/YAML list or {id: name} mapping",
                ) from exc
            if isinstance(data, dict) and "names" in data:
                data = data["names"]
            if not isinstance(data, list | dict):
                raise Pt2trtError(
                    f"labels file {p} holds no list or mapping of class names",
                    "Give a text file with one class name per line, or a JSON/YAML list or {id: name} mapping",
                )
            try:
                return cls(data, source=str(p))
            except ValueError as exc:
                raise Pt2trtError(
                    f"labels file {p}: class ids must be integers ({exc})",
                    "Use whole-number class ids as keys, e.g. {0: cat, 1: dog}",
                ) from exc
        return cls([line.strip() for line in text.splitlines() if line.strip()], source=str(p))


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
    #: whether :attr:`output_ops` helps this task decode (the predictor then reads the ONNX graph)
    uses_output_ops: ClassVar[bool] = False

    def __init__(self, layout: str = "auto") -> None:
        if layout != "auto" and layout not in self.layouts:
            raise UsageError(
                f"task '{self.name}' has no output layout '{layout}'", f"Use one of: auto, {', '.join(self.layouts)}"
            )
        self.layout = layout
        #: the layout the last decode used ("auto" resolved)
        self.resolved_layout: str | None = None if layout == "auto" else layout
        #: how many classes the model's outputs have, once decoded (None when the outputs do not say)
        self.class_count: int | None = None
        #: the op type that computes each output (through shape-only ops), when the model file is at hand
        self.output_ops: dict[str, str] = {}
        #: doubts about the decoded results (each once): see :meth:`warn`
        self.warnings: list[str] = []
        self._warned: set[str] = set()

    @classmethod
    def from_settings(cls, settings: TaskSettings) -> Task:
        """The task with the :class:`~pt2trt.settings.TaskSettings` it reads (the default: ``layout`` only);
        each task reads its own options explicitly, so none is dropped unseen."""
        return cls(settings.layout)

    def warn(self, key: str, message: str) -> None:
        """Record a doubt about the results once per ``key`` (the CLI prints each on stderr)."""
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(message)

    def label_set(self) -> str | None:
        """The built-in label set that fits the decoded layout (``coco80``...), to resolve ``--labels coco``."""
        return None

    def check_labels(self, labels: Labels, results: Sequence[Result]) -> None:
        """Warn (once) when the labels' count does not match the model's classes, or a class id has no name."""
        if not labels.names:
            return
        count = len(labels)
        source = f" ({labels.source})" if labels.source else ""
        if self.class_count is not None and count != self.class_count:
            self.warn(
                "labels-count",
                f"labels{source} name {count} classes but the model has {self.class_count}: "
                "names may be shifted or missing; check the labels file",
            )
        if self.class_count is not None:
            return
        top = max((c for r in results for c in self.result_classes(r)), default=-1)
        if top >= count:
            self.warn(
                "labels-missing",
                f"class id {top} has no name in the {count} labels{source}: names may be shifted; "
                "check the labels file",
            )

    def result_classes(self, result: Result) -> list[int]:
        """The class ids a result holds (for :meth:`check_labels`)."""
        return []

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
    raise Pt2trtError(
        f"output {what} has shape {list(array.shape)}, expected a batch of {count} first",
        "Pick the right output with --output-name NAME (see `pt2trt inspect MODEL.onnx`), or the right --layout",
    )


def describe_outputs(outputs: Outputs) -> str:
    return ", ".join(f"{k}{list(np.shape(v))}" for k, v in outputs.items())


def pick_output(outputs: Outputs, output: str | None, candidates: Sequence[str], what: str, layout_hint: str) -> str:
    """The one output to decode: ``output`` when given, else the only candidate; several candidates are refused."""
    if output is not None:
        if output not in outputs:
            raise UsageError(
                f"the model has no output '{output}'",
                f"Outputs: {describe_outputs(outputs)}; pass one to --output-name",
            )
        return output
    if len(candidates) > 1:
        names = ", ".join(f"{n}{list(np.shape(outputs[n]))}" for n in candidates)
        raise Pt2trtError(
            f"several outputs could be {what}: {names}; pt2trt will not guess",
            f"Pick one with --output-name NAME (API: output=NAME){layout_hint}",
        )
    return candidates[0]


def value_range(array: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite values (0, 0 when there are none)."""
    finite = np.asarray(array, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
