"""Predict on images: decode + preprocess in worker threads, run batches, decode outputs per task, save drawings.

    import pt2trt
    for p in pt2trt.predict("r18.onnx", ["photos/"], task="classify", batch=8):
        print(p.name, p.result.top[0])

Every :class:`Prediction` is in the original image's pixels. ``save`` writes one annotated picture per image
(atomically; an existing file is only replaced with ``force``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError
from pt2trt.imaging.preprocess import Preprocess, Transform
from pt2trt.imaging.sources import Frame, collect_sources, iter_frames
from pt2trt.prediction.image_model import ImageModel, output_ops
from pt2trt.prediction.prefetch import ordered_map
from pt2trt.settings import PredictSettings, TaskSettings
from pt2trt.tasks import Labels, Result, Task, make_task

if TYPE_CHECKING:
    from PIL import Image


@dataclass
class Prediction:
    """One image's result, in its own pixels."""

    name: str
    path: Path | None
    frame: int | None
    size: tuple[int, int]  # (width, height)
    result: Result
    saved: Path | None = None

    def to_dict(self, labels: Labels | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {"image": self.name}
        if self.path is not None:
            record["path"] = str(self.path)
        if self.frame is not None:
            record["frame"] = self.frame
        record["width"], record["height"] = self.size
        record.update(self.result.to_dict(labels or Labels()))
        if self.saved is not None:
            record["saved"] = str(self.saved)
        return record


@dataclass
class _Prepared:
    frame: Frame
    sample: np.ndarray
    transform: Transform
    image: Image.Image | None  # kept only to draw on


@dataclass
class RunStats:
    images: int = 0
    seconds: float = 0.0
    inference_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0


class Predictor:
    """A model, a task and the preprocessing between them; ``with Predictor(...) as p: p.run(images)``."""

    def __init__(self, model: Any, settings: PredictSettings | TaskSettings | str = "classify") -> None:
        """``model``: a path, an :class:`~pt2trt.onnx.model.OnnxModel`, a PyTorch spec or module; ``settings``:
        the task (a name is the task with its defaults), preprocessing, runner, reading and labels."""
        require_pillow()
        s = PredictSettings.of(settings)
        self.settings = s
        self.task = make_task(s.task)
        self.labels = s.labels if isinstance(s.labels, Labels) else Labels.load(s.labels)
        self.model = ImageModel(
            model, runner=s.runner, preprocess=s.preprocess, default_preset=self.task.default_preset,
            batch=s.read.batch,
        )  # fmt: skip
        if self.task.uses_output_ops and self.model.handle is not None:
            self.task.output_ops = output_ops(self.model.handle)
        self.batch = s.read.batch
        self.workers = s.read.workers
        self.fast_decode = s.read.fast_decode
        self.allow_large_images = s.read.allow_large_images
        self.stats = RunStats()

    @property
    def warnings(self) -> list[str]:
        """Doubts about the results so far (misread layout, labels that do not fit), each once, in order."""
        return self.task.warnings

    def __enter__(self) -> Predictor:
        self.model.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.model.close()

    @property
    def preprocess(self) -> Preprocess:
        return self.model.preprocess

    # -- in-memory images --------------------------------------------------------------------------------------
    def predict_images(self, images: Sequence[Image.Image]) -> list[Result]:
        """Results for PIL images already in memory (one batch per ``batch`` images)."""
        results: list[Result] = []
        for start in range(0, len(images), self.batch):
            prepared = [self.preprocess.apply(img) for img in images[start : start + self.batch]]
            results.extend(self._infer([s for s, _ in prepared], [t for _, t in prepared]))
        return results

    # -- files -------------------------------------------------------------------------------------------------
    def run(
        self, sources: Sequence[str | Path], *, save: str | Path | None = None, force: bool = False
    ) -> Iterator[Prediction]:
        """Predictions for image files, folders, globs and videos, in order, one per image or frame."""
        paths = collect_sources(sources)
        save_dir = _save_dir(save) if save is not None else None
        names = _SaveNames(save_dir, force) if save_dir is not None else None
        if names is not None:
            names.check_files(paths)
        self.model.open()
        self.stats = RunStats()
        draft = self._draft_size if self.fast_decode and save_dir is None else None
        frames = iter_frames(paths, draft=draft, allow_large=self.allow_large_images)
        prepared = ordered_map(
            lambda f: self._prepare(f, keep=save_dir is not None),
            frames,
            workers=self.workers,
            ahead=2 * self.batch + 2,
        )
        start = time.perf_counter()
        for chunk in _chunks(prepared, self.batch):
            results = self._infer([p.sample for p in chunk], [p.transform for p in chunk])
            for item, result in zip(chunk, results):
                prediction = Prediction(
                    item.frame.name, item.frame.path, item.frame.index, item.transform.original_size, result
                )
                if names is not None and item.image is not None:
                    prediction.saved = names.write(item.frame, item.image, result, self.labels, self.task)
                self.stats.images += 1
                yield prediction
            self.stats.seconds = time.perf_counter() - start

    def _draft_size(self, size: tuple[int, int]) -> tuple[int, int]:
        new, _, _ = self.preprocess.geometry(*size)
        return new

    def _prepare(self, frame: Frame, *, keep: bool) -> _Prepared:
        image = frame.load()
        sample, transform = self.preprocess.apply(image)
        return _Prepared(frame, sample, transform, image if keep else None)

    def _infer(self, samples: list[np.ndarray], transforms: list[Transform]) -> list[Result]:
        start = time.perf_counter()
        outputs = self.model.run(np.stack(samples))
        self.stats.inference_seconds += time.perf_counter() - start
        results = self.task.decode(outputs, transforms)
        self.labels = self.labels.resolve(self.task.label_set())  # "--labels coco": 80 or 91 ids by the layout
        self.task.check_labels(self.labels, results)
        return results


def predict(
    model: Any,
    images: Sequence[str | Path],
    settings: PredictSettings | TaskSettings | str = "classify",
    *,
    save: str | Path | None = None,
    force: bool = False,
) -> list[Prediction]:
    """Predict on ``images`` (files, folders, globs, videos) and return every :class:`Prediction`.

    ``settings`` (:class:`~pt2trt.settings.PredictSettings`, or a task name) are :class:`Predictor`'s. Doubts about
    the results (:attr:`Predictor.warnings`) are issued as Python warnings.
    """
    import warnings

    with Predictor(model, settings) as predictor:
        predictions = list(predictor.run(images, save=save, force=force))
    for message in predictor.warnings:
        warnings.warn(message, UserWarning, stacklevel=2)
    return predictions


# -- helpers ---------------------------------------------------------------------------------------------------------
def require_pillow() -> None:
    try:
        import PIL  # noqa: F401
    except ImportError as exc:
        raise Pt2trtError("reading and drawing images needs Pillow", "Install it with: pip install pillow") from exc


def _chunks(items: Iterable[_Prepared], size: int) -> Iterator[list[_Prepared]]:
    chunk: list[_Prepared] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _save_dir(save: str | Path) -> Path:
    path = Path(save)
    if path.exists() and not path.is_dir():
        raise Pt2trtError(f"--save {path} is a file, not a folder", "Pass a folder path to --save")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Pt2trtError(
            f"cannot create folder {path}: {exc.strerror or exc}", "Pass a --save folder you can write to"
        ) from exc
    return path


class _SaveNames:
    """Output file names for annotated pictures: unique in a run, never overwriting without ``force``."""

    def __init__(self, folder: Path, force: bool) -> None:
        self.folder, self.force = folder, force
        self.used: set[str] = set()

    def name_for(self, frame: Frame) -> Path:
        suffix = ".png" if frame.index is None and frame.path.suffix.lower() == ".png" else ".jpg"
        stem = frame.path.stem if frame.index is None else f"{frame.path.stem}_{frame.index:06d}"
        name, n = f"{stem}{suffix}", 1
        while name in self.used:
            name, n = f"{stem}-{n}{suffix}", n + 1
        return self.folder / name

    def check_files(self, paths: Sequence[Path]) -> None:
        """Refuse before any work when an image's annotated picture already exists (videos are checked per frame)."""
        if self.force:
            return
        from pt2trt.imaging.sources import is_video

        probe = _SaveNames(self.folder, True)
        for path in paths:
            if is_video(path):
                continue
            target = probe.name_for(Frame(path.name, path, None, lambda: None))  # type: ignore[arg-type,return-value]
            probe.used.add(target.name)
            if target.exists():
                raise Pt2trtError(f"{target} already exists", "Pass --force (force=True) to overwrite it")

    def write(self, frame: Frame, image: Image.Image, result: Result, labels: Labels, task: Task) -> Path:
        from pt2trt.files import check_writable, publish, staging_dir
        from pt2trt.prediction.draw import annotate

        target = self.name_for(frame)
        check_writable(target, force=self.force)
        self.used.add(target.name)
        picture = annotate(image, result, labels, task)
        with staging_dir(target) as tmp:
            staged = tmp / target.name
            picture.save(staged, quality=90) if target.suffix == ".jpg" else picture.save(staged)
            publish(staged, target, replace=self.force)
        return target
