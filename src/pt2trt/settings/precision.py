"""What ``pt2trt quantize`` is asked: the precision, the samples, the per-precision choices and the checks.

:class:`QuantizeSettings` is made of the preprocessing of image samples (:class:`PreprocessSettings`), the FP16
choices (:class:`Fp16Settings`), the INT8 choices (:class:`Int8Settings`: ranges, layers left in float, the
agreement search) and the task-metric check on labelled data (:class:`LabelledEval`: ``--eval DATA --max-drop``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pt2trt.errors import UsageError
from pt2trt.settings.tasks import PreprocessSettings

#: the precisions ``quantize`` writes
QUANTIZE_PRECISIONS = ("fp16", "int8")
#: INT8 calibration methods (``pt2trt.precision.int8.METHODS`` holds the same; a test checks they match)
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
#: how many layers ``--auto-exclude`` and the ``--max-drop`` search may leave in float
MAX_EXCLUSIONS = 10
#: the agreement ``--auto-exclude`` aims at without ``--target-agreement``
AUTO_EXCLUDE_TARGET = 0.99


@dataclass(frozen=True)
class Fp16Settings:
    """FP16 choices: ``keep_fp32`` (node or PyTorch module names kept in FP32 beside what the analysis keeps) and
    ``fp16_io`` (float16 graph inputs and outputs; default keeps float32)."""

    keep_fp32: tuple[str, ...] = ()
    fp16_io: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep_fp32", tuple(self.keep_fp32))


@dataclass(frozen=True)
class Int8Settings:
    """INT8 choices: the calibration ``method`` (ranges), the layers left in float, and how many the searches may
    leave there.

    ``exclude``: node or PyTorch module names left in float. ``auto_exclude``: keep the layers adding most error in
    float until the agreement with FP32 reaches the target. ``max_exclusions``: the most layers ``auto_exclude`` and
    the ``--max-drop`` search (:class:`LabelledEval`) leave in float.
    """

    method: str = "minmax"
    exclude: tuple[str, ...] = ()
    auto_exclude: bool = False
    max_exclusions: int = MAX_EXCLUSIONS

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude", tuple(self.exclude))
        if self.method not in CALIBRATION_METHODS:
            methods = ", ".join(CALIBRATION_METHODS)
            raise UsageError(f"unknown calibration method '{self.method}'", f"Use one of: {methods}")
        if self.max_exclusions < 0:
            count = self.max_exclusions
            raise UsageError(f"--max-exclusions must be 0 or more, got {count}", "e.g. --max-exclusions 3")


@dataclass(frozen=True)
class LabelledEval:
    """The task metric on labelled ``data`` (as ``pt2trt eval`` reads it: an ImageFolder, COCO, YOLO, masks): FP32
    and the result scored on the task's primary metric (top1, map, miou). With ``max_drop`` (percentage points), an
    INT8 result keeps the fewest layers in float that bring the drop within it, and fails when none does; an FP16
    result fails past it. ``labels``: the model's class names (a file or a built-in set)."""

    data: str | Path
    max_drop: float | None = None
    labels: str | Path | None = None

    def __post_init__(self) -> None:
        if self.max_drop is not None and self.max_drop < 0:
            raise UsageError(f"--max-drop must be 0 or more points, got {self.max_drop}", "e.g. --max-drop 1")


@dataclass(frozen=True)
class QuantizeSettings:
    """One ``quantize`` job: ``precision`` (fp16 or int8) and everything around it.

    ``calib``: calibration samples (images, a folder, a glob, a video, ``.npy``/``.npz``; None: seeded random
    values, said loudly). ``holdout``: unlabelled samples the result is measured against FP32 on (default: 1 in 5
    of ``calib``). ``limit``: at most this many samples of each source. ``preprocess``: how image samples become
    inputs (default: recorded in the model, else the task's preset; ``size`` for a dynamic input size). ``task``:
    the task the agreement is judged by (``none``: each output on its own; None: classify for an image model with
    one ``[N, C]`` output, said). ``target_agreement``: fail below this task agreement with FP32. ``evaluation``:
    the task metric on labelled data (``--eval``, ``--max-drop``). ``force``: replace an existing output.
    """

    precision: str
    calib: str | Path | None = None
    holdout: str | Path | None = None
    limit: int | None = None
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    task: str | None = None
    target_agreement: float | None = None
    fp16: Fp16Settings = field(default_factory=Fp16Settings)
    int8: Int8Settings = field(default_factory=Int8Settings)
    evaluation: LabelledEval | None = None
    force: bool = False

    def __post_init__(self) -> None:
        if self.precision not in QUANTIZE_PRECISIONS:
            raise UsageError(f"unknown precision '{self.precision}'", f"Use one of: {', '.join(QUANTIZE_PRECISIONS)}")
        target = self.target_agreement
        if target is not None and not 0 < target <= 1:
            raise UsageError(f"--target-agreement {target} is not a fraction in (0, 1]", "e.g. 0.99")
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit must be at least 1, got {self.limit}", "Pass --limit 1 or more")
        if self.precision == "fp16" and (self.int8.exclude or self.int8.auto_exclude):
            raise UsageError("--exclude/--auto-exclude choose INT8 layers", "For FP16 use --keep-fp32 NODE|MODULE")
        if self.precision == "int8" and self.fp16.keep_fp32:
            raise UsageError("--keep-fp32 is for FP16", "For INT8 use --exclude NODE|MODULE")

    @property
    def target(self) -> float | None:
        """The agreement to reach: ``target_agreement``, else :data:`AUTO_EXCLUDE_TARGET` with ``auto_exclude``."""
        if self.target_agreement is None and self.precision == "int8" and self.int8.auto_exclude:
            return AUTO_EXCLUDE_TARGET
        return self.target_agreement

    @property
    def layer_names(self) -> tuple[str, ...]:
        """The node or module names the user chose (``--keep-fp32`` for FP16, ``--exclude`` for INT8)."""
        return self.fp16.keep_fp32 if self.precision == "fp16" else self.int8.exclude

    @property
    def layer_flag(self) -> str:
        return "--keep-fp32" if self.precision == "fp16" else "--exclude"
