"""Samples for calibration and for measuring accuracy, in the model's own input format.

A source is a folder, a glob, an image or video file (preprocessed with the recipe recorded in the model's metadata,
or the one given), or ``.npy`` / ``.npz`` arrays (a file, or a folder of them). Arrays hold one or more samples along
their first axis; an ``.npy`` feeds the model's single input, an ``.npz`` names its arrays after the inputs. With no
source at all the samples are seeded random values, and the caller is told loudly that nothing was calibrated.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed, load_feed, random_feed

if TYPE_CHECKING:
    import onnx

    from pt2trt.imaging.preprocess import Preprocess

ARRAY_SUFFIXES = (".npy", ".npz")
RANDOM_WARNING = (
    "no calibration data given: using seeded random inputs. The result is NOT calibrated for real data and its "
    "measured accuracy says nothing about real inputs; pass --calib with images or .npy/.npz arrays"
)


@dataclass
class Samples:
    """Samples for one model input set: each feed holds arrays with a leading batch axis of 1."""

    feeds: list[Feed]
    source: str  # what the user gave, or "random"
    kind: str  # "images" | "arrays" | "random"
    preprocess: str | None = None
    files: int = 0
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.feeds)

    def batches(self, size: int, *, pad: bool = False) -> Iterator[tuple[Feed, int]]:
        """Consecutive samples stacked into batches of ``size``, each with its count of real samples.

        The last batch may be smaller, or with ``pad`` (a model with a static batch size) filled up with copies of
        its last sample.
        """
        for start in range(0, len(self.feeds), size):
            group = self.feeds[start : start + size]
            count = len(group)
            if pad and count < size:
                group = group + [group[-1]] * (size - count)
            yield {name: np.concatenate([f[name] for f in group]) for name in group[0]}, count

    def split(self, every: int = 5) -> tuple[Samples, Samples]:
        """Calibration and held-apart evaluation samples: every ``every``-th sample goes to evaluation."""
        if len(self.feeds) < 2:
            raise Pt2trtError(
                f"{self.source} gives {len(self.feeds)} sample: too few to hold some apart for measuring",
                "Add samples, or pass --eval DATA",
            )
        held = [f for i, f in enumerate(self.feeds) if i % every == every - 1] or self.feeds[-1:]
        ids = {id(f) for f in held}
        calib = [f for f in self.feeds if id(f) not in ids]
        return (
            Samples(calib, self.source, self.kind, self.preprocess, self.files, list(self.notes)),
            Samples(held, f"{self.source} (every {every}th sample held apart)", self.kind, self.preprocess),
        )

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "samples": len(self.feeds),
            **({"preprocessing": self.preprocess} if self.preprocess else {}),
            **({"files": self.files} if self.files else {}),
        }


def load_samples(
    model_path: Path,
    proto: onnx.ModelProto,
    source: str | Path | None,
    *,
    limit: int | None = None,
    preprocess: Preprocess | str | Path | None = None,
    task: str | None = None,
    seed: int = 0,
    count: int = 32,
) -> Samples:
    """Samples from ``source`` (at most ``limit``), or ``count`` seeded random ones when ``source`` is None."""
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}", "Pass --limit 1 or more")
    specs = _graph_specs(proto)
    if source is None:
        return _random_samples(specs, limit or count, seed)
    files, kind = _expand(source)
    if kind == "arrays":
        feeds = _array_samples(files, [str(s.name) for s in specs], limit)
        return Samples(feeds, str(source), "arrays", files=len(files))
    return _image_samples(model_path, files, str(source), limit, preprocess, task)


def _graph_specs(proto: onnx.ModelProto) -> list:
    from pt2trt.onnx.graph import onnx_input_specs

    specs = onnx_input_specs(proto)
    if not specs:
        raise Pt2trtError(
            "the model has no inputs to calibrate",
            "Check the model with `pt2trt inspect MODEL.onnx`: a model without inputs needs no calibration",
        )
    return specs


def _expand(source: str | Path) -> tuple[list[Path], str]:
    """The files of ``source`` and whether they are arrays or images/videos."""
    from pt2trt.imaging.sources import collect_sources

    path = Path(source)
    if path.is_file() and path.suffix.lower() in ARRAY_SUFFIXES:
        return [path], "arrays"
    if path.is_dir():
        arrays = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in ARRAY_SUFFIXES)
        media = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() not in ARRAY_SUFFIXES]
        if arrays and any(_is_media(p) for p in media):
            raise Pt2trtError(f"{path} mixes images and arrays", "Keep one kind of calibration data per folder")
        if arrays:
            return arrays, "arrays"
    elif glob.has_magic(str(source)):
        matches = sorted(Path(p) for p in glob.glob(str(source), recursive=True))
        arrays = [p for p in matches if p.is_file() and p.suffix.lower() in ARRAY_SUFFIXES]
        if arrays:
            return arrays, "arrays"
    return collect_sources([source]), "images"


def _is_media(path: Path) -> bool:
    from pt2trt.imaging.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES

    return path.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES


def _array_samples(files: Sequence[Path], names: list[str], limit: int | None) -> list[Feed]:
    feeds: list[Feed] = []
    for path in files:
        batch = load_feed([path], names)
        sizes = {a.shape[0] if a.ndim else 0 for a in batch.values()}
        if len(sizes) != 1 or 0 in sizes:
            raise Pt2trtError(
                f"the arrays of {path} do not share a leading sample axis",
                "Stack samples along axis 0 (shape [N, ...] for every input)",
            )
        for i in range(sizes.pop()):
            feeds.append({k: np.ascontiguousarray(v[i : i + 1]) for k, v in batch.items()})
            if limit is not None and len(feeds) >= limit:
                return feeds
    return feeds


def _image_samples(
    model_path: Path,
    files: list[Path],
    source: str,
    limit: int | None,
    preprocess: Preprocess | str | Path | None,
    task: str | None,
) -> Samples:
    from pt2trt.imaging.sources import iter_frames
    from pt2trt.prediction.image_model import ImageModel
    from pt2trt.settings import PreprocessSettings, RunnerSettings
    from pt2trt.tasks import task_class

    preset = task_class(task).default_preset if task else "imagenet-classification"
    model = ImageModel(
        model_path, runner=RunnerSettings(backend="onnxruntime"), preprocess=PreprocessSettings(preprocess),
        default_preset=preset,
    )  # fmt: skip
    with model:  # opening reads the model's one image input: its name, layout, dtype and static size
        model.probe()  # the size predict runs at; one the graph cannot take fails here, explained
        recipe, name, dtype = model.preprocess, model.input_name, model.input_dtype
    feeds: list[Feed] = []
    for frame in iter_frames(files):
        sample, _ = recipe.apply(frame.load())
        feeds.append({name: sample[None].astype(dtype, copy=False)})
        if limit is not None and len(feeds) >= limit:
            break
    return Samples(feeds, source, "images", recipe.describe(), files=len(files))


def _random_samples(specs: list, count: int, seed: int) -> Samples:
    from dataclasses import replace

    fixed = []
    for spec in specs:
        shape = tuple(1 if i == 0 else d for i, d in enumerate(spec.shape))
        if any(d <= 0 for d in shape):
            raise Pt2trtError(
                f"input '{spec.name}' has dynamic dimensions {list(spec.shape)}: random samples need a static shape",
                "Pass --calib with images or .npy/.npz arrays",
            )
        fixed.append(replace(spec, shape=shape))
    feeds = [random_feed(fixed, seed=seed + i) for i in range(count)]
    return Samples(feeds, "random", "random", notes=[RANDOM_WARNING])
