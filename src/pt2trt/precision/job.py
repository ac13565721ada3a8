"""One run of ``quantize``: its settings, samples (calibration and held apart) and the batch they run at, the FP32
model's statistics and outputs (kept for the next run on the same file and samples), the progress display and notes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError
from pt2trt.onnx.model import OnnxModel
from pt2trt.precision.accuracy import Accuracy, Batches, measure, run_outputs, settle_batch
from pt2trt.precision.autoexclude import RANK_SAMPLES
from pt2trt.precision.data import Samples, load_samples
from pt2trt.settings.precision import QuantizeSettings

if TYPE_CHECKING:
    from pt2trt.precision.statistics import Statistics


@dataclass
class Job:
    """One run: the model, its settings, the samples and the batch they run at, the progress display, the notes."""

    handle: OnnxModel
    settings: QuantizeSettings
    calib: Samples
    holdout: Samples
    batch: int
    static: bool
    bar: Progress
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, handle: OnnxModel, settings: QuantizeSettings, bar: Progress) -> Job:
        from pt2trt.precision.data import measurement_batch

        calib, holdout = samples(handle, settings)
        for note in calib.notes:
            warn(note, bar.notes)
        batch, static = measurement_batch(handle.proto, 8)
        batch = settle_batch(handle, calib, batch, static)
        return cls(handle, settings, calib, holdout, batch, static, bar, list(calib.notes))

    def measure(self, reference: Batches, candidate: OnnxModel) -> Accuracy:
        """``candidate`` against the FP32 ``reference`` outputs on the held-apart samples."""
        s = self.settings
        return measure(
            reference, candidate, self.holdout, batch=self.batch, static=self.static, task=s.task, target=s.target,
            emulate_fp16=s.precision == "fp16",
        )  # fmt: skip

    def rank_feed(self) -> dict[str, Any]:
        """A few calibration samples, at the batch the model takes (one at a time for per-image outputs)."""
        size = self.batch if self.static else min(RANK_SAMPLES, self.batch, len(self.calib))
        return next(self.calib.batches(size, pad=self.static))[0]

    def run_key(self) -> tuple | None:
        """What the FP32 runs depend on (None for a model in memory: nothing is reused)."""
        if self.handle.path is None:
            return None
        s = self.settings
        preprocess = repr(s.preprocess)
        return (_file_key(self.handle.path), _data_key(s.calib), _data_key(s.holdout), s.limit, preprocess, s.task,
                self.batch)  # fmt: skip


def samples(handle: OnnxModel, settings: QuantizeSettings) -> tuple[Samples, Samples]:
    s = settings
    options: dict[str, Any] = {"limit": s.limit, "preprocess": s.preprocess, "task": s.task}
    try:
        samples = load_samples(handle, s.calib, **options)
        if s.holdout is not None:
            return samples, load_samples(handle, s.holdout, **options)
    except Pt2trtError as exc:
        raise own_hint(exc) from None
    if s.calib is None:  # random calibration: measure on other random samples
        return samples, load_samples(handle, None, **options, seed=10_000, count=8)
    return samples.split()


def fp32_runs(job: Job) -> tuple[Statistics, Batches]:
    """The FP32 model's activation statistics over the calibration samples, and its outputs on the held-apart ones
    (convert --precision fp16,int8 quantizes one model twice on the same samples: one pass of each)."""
    from pt2trt.precision.statistics import collect_statistics

    s = job.settings
    histograms = s.precision == "int8" and s.int8.method != "minmax"
    task_id = job.bar.add(f"statistics over {len(job.calib)} samples", len(job.calib))
    proto = job.handle.with_weights()
    raw = job.handle.session_source()
    source = raw if isinstance(raw, bytes) else None  # the bytes read once: the file is not read again
    key = job.run_key()
    try:
        stats = _reused(("statistics", histograms, *key) if key else None, lambda: collect_statistics(
            proto, source, job.calib, batch=job.batch, histograms=histograms,
            progress=lambda n: job.bar.advance(task_id, n),
        ))  # fmt: skip
        reference = _reused(
            ("reference", *key) if key else None, lambda: run_outputs(job.handle, job.holdout, job.batch, job.static)
        )
    except Pt2trtError as exc:  # the FP32 model itself: say so, it is not the conversion that failed
        raise Pt2trtError(
            f"the FP32 model {job.handle.name} itself fails on the samples ({job.calib.source}): {exc.message}",
            "Run it on these inputs first (pt2trt predict MODEL DATA, or verify with --data): an export can fix "
            "a size that only random inputs leave unexercised",
        ) from None
    return stats, reference


#: the options of ``pt2trt quantize``: a hint from a shared module naming another command's option is rewritten
QUANTIZE_OPTIONS = {
    "--output", "--precision", "--calib", "--holdout", "--limit", "--preprocess", "--resize", "--size", "--mean",
    "--std", "--scale", "--pad-value", "--bgr", "--channels", "--nhwc", "--task", "--target-agreement", "--keep-fp32",
    "--fp16-io", "--method", "--exclude", "--auto-exclude", "--max-exclusions", "--eval", "--max-drop", "--labels",
    "--force", "--json",
}  # fmt: skip


def own_hint(exc: Pt2trtError) -> Pt2trtError:
    """``exc`` with a hint that names only quantize's options (image loading is shared with predict and compare)."""
    import re

    named = set(re.findall(r"--[a-z][a-z0-9-]*", f"{exc.message} {exc.hint or ''}"))
    if named <= QUANTIZE_OPTIONS:
        return exc
    hint = (
        "Pass --preprocess FILE.yaml (size, layout, channels), --size HxW for a dynamic input size, or the samples "
        "as .npy/.npz arrays with --calib (fed to the inputs as they are)"
    )
    message = re.sub(r";?\s*(pass|pick|use)\b[^.;]*--[a-z][^.;]*", "", exc.message, flags=re.IGNORECASE)
    return type(exc)(message.replace("predict needs", "image samples need"), hint)


REUSED_RUNS: dict[tuple, Any] = {}


def _reused(key: tuple | None, compute: Callable[[], Any]) -> Any:
    """The last result computed for ``key`` (one per kind: statistics, reference outputs), else ``compute()``;
    ``None``: always computed."""
    if key is None:
        return compute()
    kind = key[0]
    if key not in REUSED_RUNS:
        for old in [k for k in REUSED_RUNS if k[0] == kind]:
            del REUSED_RUNS[old]
        REUSED_RUNS[key] = compute()
    return REUSED_RUNS[key]


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


def _data_key(source: str | Path | None) -> tuple:
    """What a data source holds, as far as its files' names, sizes and times tell (a folder: each of its files)."""
    if source is None:
        return ()
    path = Path(source)
    if path.is_file():
        return _file_key(path)
    if path.is_dir():
        return tuple(_file_key(p) for p in sorted(path.iterdir()) if p.is_file())
    return (str(source),)


def warn(text: str, enabled: bool) -> None:
    """A note of pt2trt's own on stderr (the CLI); callers of the API read ``result.warnings`` instead."""
    if enabled:
        from rich.console import Console

        Console(stderr=True, soft_wrap=True).print(f"[bold yellow]warning:[/] {text}", highlight=False)


class Progress:
    """A rich progress bar on stderr (when it is a terminal), or nothing; ``notes``: pt2trt's own notes go to stderr."""

    def __init__(self, enabled: bool) -> None:
        self.notes = enabled
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None
        self._status: int | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def add(self, text: str, total: int) -> int:
        return self.bar.add_task(text, total=total) if self.bar is not None else 0

    def advance(self, task: int, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(task, n)

    def status(self, text: str) -> None:
        """One line saying what a long search is doing now (replaced by the next)."""
        if self.bar is None:
            return
        if self._status is None:
            self._status = self.bar.add_task(text, total=None)
        else:
            self.bar.update(self._status, description=text)
