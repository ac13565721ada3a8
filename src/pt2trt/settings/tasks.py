"""What a model's outputs mean (the task and its decoding) and how pictures become its input (preprocessing)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pt2trt.settings.runner import RunnerSettings


@dataclass(frozen=True)
class TaskSettings:
    """The task (``classify``, ``detect``, ``segment`` or a registered one) and its decoding options.

    ``layout`` ``auto`` is chosen from the output names and shapes (and said aloud); ``output_name`` picks the output
    to decode when several could be. Each task reads the options that apply to it: ``top_k`` (classify), ``conf``,
    ``iou``, ``max_det`` (detect, segment), ``mask_threshold`` (segment).
    """

    task: str | None = None
    layout: str = "auto"
    output_name: str | None = None
    conf: float = 0.25
    iou: float = 0.45
    max_det: int = 300
    top_k: int = 5
    mask_threshold: float = 0.5

    def with_task(self, task: str | None) -> TaskSettings:
        from dataclasses import replace

        return replace(self, task=task)


@dataclass(frozen=True)
class PreprocessSettings:
    """How pictures become input tensors: ``preprocess`` (a preset name, a YAML file or a
    :class:`~pt2trt.imaging.preprocess.Preprocess`; default: recorded in the model, else the task's preset) and the
    single settings put over it (``None``: not overridden)."""

    preprocess: str | Path | Any | None = None
    resize: str | None = None
    size: tuple[int, int] | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    scale: float | None = None
    pad_value: int | None = None
    channels: str | None = None
    layout: str | None = None

    def overrides(self) -> dict[str, Any]:
        """The settings given, by :class:`~pt2trt.imaging.preprocess.Preprocess` field name."""
        return {f.name: v for f in fields(self) if f.name != "preprocess" and (v := getattr(self, f.name)) is not None}


@dataclass(frozen=True)
class ReadSettings:
    """How pictures are read and fed: ``batch`` images per inference, ``workers`` threads decoding ahead of the
    model, ``fast_decode`` (JPEGs decoded at reduced size when the input is much smaller: faster, pixels differ) and
    ``allow_large_images`` (lift PIL's ~179-megapixel decompression-bomb limit)."""

    batch: int = 1
    workers: int = 2
    fast_decode: bool = False
    allow_large_images: bool = False


@dataclass(frozen=True)
class PredictSettings:
    """Everything between pictures and answers: the task and its decoding, the preprocessing, the runner, how
    pictures are read and batched, and the class names (``labels``: a file, a built-in name or a
    :class:`~pt2trt.tasks.base.Labels`)."""

    task: TaskSettings = field(default_factory=TaskSettings)
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    read: ReadSettings = field(default_factory=ReadSettings)
    labels: str | Path | Any | None = None

    @classmethod
    def of(cls, settings: PredictSettings | TaskSettings | str | None) -> PredictSettings:
        """``settings`` as a :class:`PredictSettings`: a task name or :class:`TaskSettings` with the defaults."""
        if isinstance(settings, PredictSettings):
            return settings
        if isinstance(settings, TaskSettings):
            return cls(task=settings)
        return cls(task=TaskSettings(task=settings or "classify"))
