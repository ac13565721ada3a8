"""``eval``'s settings as one object: what the CLI's options fill, and what ``convert``/``quantize`` can pass on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError

if TYPE_CHECKING:
    from pt2trt.preprocess import Preprocess
    from pt2trt.tasks import Labels

#: detection is scored as mAP is everywhere (ultralytics' val, COCO's evaluation): every box down to a low score,
#: NMS at 0.7. Values given in ``task_options`` win.
DETECT_DEFAULTS = {"conf": 0.001, "iou": 0.7, "max_det": 300}

ProgressFn = Callable[[str, int, int], None]


@dataclass
class EvalSettings:
    """How :func:`pt2trt.evaluate` runs (every field optional)."""

    #: each model runs on each of these backends ("auto": by file type)
    backends: tuple[str, ...] = ("auto",)
    #: preprocessing for every model; default: each model's recorded one, else the first recorded among the models
    preprocess: Preprocess | str | Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # single preprocessing settings (--size, --mean, ...)
    batch: int = 1
    workers: int = 2
    threads: int | None = None
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
    #: the task's decoding options (top_k, conf, iou, max_det, layout, output, mask_threshold)
    task_options: dict[str, Any] = field(default_factory=dict)
    runner_options: dict[str, Any] = field(default_factory=dict)
    weights: str | Path | None = None
    allow_pickle: bool = False
    providers: list[str] | None = None
    fast_decode: bool = False
    allow_large_images: bool = False
    #: True: a progress bar on stderr; a function (label, done, total); False: nothing
    progress: bool | ProgressFn = False

    def __post_init__(self) -> None:
        if isinstance(self.backends, str):
            self.backends = (self.backends,)
        if self.bootstrap < 0:
            raise UsageError(f"--bootstrap must be 0 or more, got {self.bootstrap}", "Pass --bootstrap 1000 (0: none)")
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit must be at least 1, got {self.limit}", "Pass --limit N with N >= 1")
        if self.max_drop is not None and self.max_drop < 0:
            raise UsageError(f"--max-drop must be 0 or more points, got {self.max_drop}", "e.g. --max-drop 1")

    @classmethod
    def of(cls, settings: EvalSettings | None, **options: Any) -> EvalSettings:
        """``settings`` (or the defaults) with ``options`` on top; an unknown option is a usage error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown eval setting(s): {', '.join(unknown)}", f"Known: {', '.join(sorted(known))}")
        return replace(settings or cls(), **options)

    def decoding(self, task: str) -> dict[str, Any]:
        """The task options, with detection's mAP defaults where none was given."""
        options = {k: v for k, v in self.task_options.items() if v is not None}
        if task == "detect":
            options = {**DETECT_DEFAULTS, **options}
        return options
