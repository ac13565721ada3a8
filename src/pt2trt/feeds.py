"""Input data for a run: seeded random tensors from specs, or arrays from ``.npy`` / ``.npz`` files."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pt2trt.errors import Pt2trtError
from pt2trt.shapes import InputSpec

Feed = dict[str, np.ndarray]


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype of an ONNX element type name (``float32``, ``bfloat16``...); a user error when numpy has none."""
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    try:
        return np.dtype(name)
    except TypeError:
        raise Pt2trtError(
            f"input element type '{name}' has no numpy equivalent", "Feed this model with a runtime that supports it"
        ) from None


#: The largest input pt2trt will make up (random data) or allocate for a model: 4 GiB.
MAX_INPUT_BYTES = 4 << 30


def check_input_size(name: str, shape: Sequence[int], dtype: np.dtype | str) -> None:
    """Refuse a tensor shape that is negative or too large to allocate, before numpy tries (a user error)."""
    if any(not isinstance(d, int | np.integer) or d < 0 for d in shape):
        raise Pt2trtError(
            f"input '{name}' has an invalid shape {tuple(shape)}", "Give its shape with --input NAME:SHAPE"
        )
    nbytes = int(np.prod([int(d) for d in shape], dtype=object)) * np.dtype(dtype).itemsize
    if nbytes > MAX_INPUT_BYTES:
        raise Pt2trtError(
            f"input '{name}' of shape {'x'.join(map(str, shape))} would take {nbytes / 2**30:,.0f} GiB",
            "Give a smaller shape with --input NAME:SHAPE (the model's dims may be wrong or dynamic)",
        )


def random_feed(specs: Sequence[InputSpec], seed: int = 0) -> Feed:
    """Seeded random inputs: standard normal for floats, small non-negative integers, random booleans."""
    rng = np.random.default_rng(seed)
    feed: Feed = {}
    for spec in specs:
        dtype = numpy_dtype(spec.dtype)
        check_input_size(str(spec.name), spec.shape, dtype)
        if spec.dtype == "bool":
            arr = rng.integers(0, 2, size=spec.shape).astype(bool)
        elif np.issubdtype(dtype, np.integer):
            high = 256 if spec.dtype == "uint8" else 10
            arr = rng.integers(0, high, size=spec.shape).astype(dtype)
        else:
            arr = rng.standard_normal(size=spec.shape, dtype=np.float32).astype(dtype)
        feed[str(spec.name)] = arr
    return feed


def load_feed(paths: Sequence[str | Path], names: Sequence[str]) -> Feed:
    """Arrays from files: an ``.npz`` maps input names to arrays; ``.npy`` files are taken in input order."""
    feed: Feed = {}
    npy_index = 0
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise Pt2trtError(f"input data file not found: {path}", "Check the path of the --input file")
        if path.suffix == ".npz":
            try:
                with np.load(path, allow_pickle=False) as data:
                    for key in data.files:
                        if key not in names:
                            raise Pt2trtError(
                                f"{path} holds '{key}', which is not a model input",
                                f"Name the arrays after the inputs: {', '.join(names)}",
                            )
                        feed[key] = data[key]
            except (ValueError, OSError, zipfile.BadZipFile) as exc:
                raise Pt2trtError(
                    f"cannot read {path} as .npz: {exc}",
                    "Save the inputs with numpy.savez (one array per model input name)",
                ) from exc
        elif path.suffix == ".npy":
            if npy_index >= len(names):
                raise Pt2trtError(
                    f"more .npy files than model inputs ({len(names)})",
                    "Pass one .npy per model input, in the order `pt2trt inspect MODEL.onnx` lists them",
                )
            try:
                feed[names[npy_index]] = np.load(path, allow_pickle=False)
            except (ValueError, OSError) as exc:
                raise Pt2trtError(f"cannot read {path} as .npy: {exc}", "Save the input with numpy.save") from exc
            npy_index += 1
        else:
            raise Pt2trtError(f"unsupported input data file {path}", "Use .npy (one input) or .npz (named inputs)")
    missing = [n for n in names if n not in feed]
    if missing:
        raise Pt2trtError(f"no data for input(s) {', '.join(missing)}", "Add them to the .npz or pass more .npy files")
    return feed


def specs_from_feed(feed: Feed) -> list[InputSpec]:
    return [InputSpec(name, tuple(a.shape), str(a.dtype)) for name, a in feed.items()]
