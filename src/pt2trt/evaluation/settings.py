"""``eval``'s settings as one object: what the CLI's options fill, and what ``convert``/``quantize`` can pass on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import UsageError
from pt2trt.settings import PreprocessSettings, ReadSettings, RunnerSettings, TaskSettings

if TYPE_CHECKING:
    from pt2trt.tasks import Labels

#: detection is scored as mAP is everywhere (ultralytics' val, COCO's evaluation): every box down to a low score,
#: NMS at 0.7, unless the caller gives its own decoding.
DETECT_CONF, DETECT_IOU, DETECT_MAX_DET = 0.001, 0.7, 300
DETECT_DEFAULTS = {"conf": DETECT_CONF, "iou": DETECT_IOU, "max_det": DETECT_MAX_DET}

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EvalSettings:
    """How :func:`pt2trt.evaluate` runs (every field optional): the prediction settings every model runs with, the
    data's options, and the statistics."""

    #: each model runs on each of these backends ("auto": by file type)
    backends: tuple[str, ...] = ("auto",)
    #: preprocessing for every model; default: each model's recorded one, else the first recorded among the models
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    #: how each backend runs (threads, providers, Triton server, engine metadata check); its backend is ignored
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    #: batch, decoding workers, fast decode, large images
    read: ReadSettings = field(default_factory=ReadSettings)
    #: the task's decoding; None: the task's scoring convention (detect: every box down to conf 0.001, NMS at 0.7)
    decoding: TaskSettings | None = None
    #: the model's class names: a file or a built-in set (imagenet, coco, voc...)
    labels: Labels | str | Path | None = None
    #: the folder of the pictures, when DATA (a COCO JSON file, a masks folder) does not hold them
    images: str | Path | None = None
    split: str | None = None
    class_map: str | Path | None = None
    limit: int | None = None
    bootstrap: int = 1000
    seed: int = 0
    #: points (percentage points) the primary metric may lose against the reference
    max_drop: float | None = None
    save: str | Path | None = None
    force: bool = False
    #: True: a progress bar on stderr; a function (label, done, total); False: nothing
    progress: bool | ProgressFn = False

    def __post_init__(self) -> None:
        if isinstance(self.backends, str):
            object.__setattr__(self, "backends", (self.backends,))
        if self.bootstrap < 0:
            raise UsageError(f"--bootstrap must be 0 or more, got {self.bootstrap}", "Pass --bootstrap 1000 (0: none)")
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit must be at least 1, got {self.limit}", "Pass --limit N with N >= 1")
        if self.max_drop is not None and self.max_drop < 0:
            raise UsageError(f"--max-drop must be 0 or more points, got {self.max_drop}", "e.g. --max-drop 1")

    def decoding_for(self, task: str) -> TaskSettings:
        """The task's decoding: the one given, else the scoring convention (detect: :data:`DETECT_DEFAULTS`)."""
        if self.decoding is not None:
            return replace(self.decoding, task=task)
        if task == "detect":
            return TaskSettings(task=task, conf=DETECT_CONF, iou=DETECT_IOU, max_det=DETECT_MAX_DET)
        return TaskSettings(task=task)
