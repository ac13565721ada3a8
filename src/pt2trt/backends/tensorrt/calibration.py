"""INT8 calibration data for TensorRT 8.6/10: a folder of images (preprocessed like the model's input) or arrays.

Batches have the calibration profile's shapes (the last profile's opt shapes, as TensorRT calibrates there):

* images (``.jpg``, ``.png``...): one image input of rank 4 (NCHW or NHWC, 3 channels); each image is resized to the
  input's height and width (stretched), then ``(pixel * scale - mean) / std`` with the scale/mean/std recorded in the
  ONNX metadata (``pt2trt.preprocessing``) or ImageNet's;
* ``.npy``: one file per batch of the model's single input; ``.npz``: one file per batch, arrays named by input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.backends.tensorrt.plan import BuildPlan
from pt2trt.backends.tensorrt.precision import ARRAY_SUFFIXES, IMAGE_SUFFIXES
from pt2trt.errors import Pt2trtError
from pt2trt.imaging.preprocess import IMAGENET_MEAN, IMAGENET_STD

if TYPE_CHECKING:
    from pt2trt.backends.tensorrt.profiles import InputInfo

PREPROCESSING_KEY = "pt2trt.preprocessing"
IMAGENET = {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "scale": 1 / 255}


class CalibrationData:
    """A re-iterable source of calibration batches (``{input name: float32 array}``)."""

    def __init__(self, plan: BuildPlan) -> None:
        if plan.calibration_data is None:
            raise ValueError("the plan has no calibration data")
        source = plan.calibration_data
        self.files = [source] if source.is_file() else sorted(p for p in source.iterdir() if p.is_file())
        self.inputs = plan.inputs
        self.shapes = calibration_shapes(plan)
        self.images = [p for p in self.files if p.suffix.lower() in IMAGE_SUFFIXES]
        self.arrays = [p for p in self.files if p.suffix.lower() in ARRAY_SUFFIXES]
        if self.images and self.arrays:
            raise Pt2trtError(f"{source} mixes images and arrays", "Keep one kind of calibration data per folder")
        self.preprocessing = _preprocessing(plan.onnx_metadata)
        if self.images:
            self._image_input()  # fail early on a model images cannot feed

    def __len__(self) -> int:
        if self.images:
            batch = self.shapes[self._image_input().name][0]
            return len(self.images) // batch
        return len(self.arrays)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        if self.images:
            yield from self._image_batches()
        else:
            for path in self.arrays:
                yield self._array_batch(path)

    # -- images ------------------------------------------------------------------------------------------------------
    def _image_input(self) -> InputInfo:
        if len(self.inputs) != 1 or len(self.inputs[0].dims) != 4:
            raise Pt2trtError(
                "image calibration data needs a model with one image input of rank 4 (NCHW or NHWC)",
                "Pass .npz batches named by input instead",
            )
        return self.inputs[0]

    def _image_batches(self) -> Iterator[dict[str, np.ndarray]]:
        info = self._image_input()
        shape = self.shapes[info.name]
        if len(self.images) < shape[0]:
            raise Pt2trtError(
                f"{len(self.images)} calibration image(s) cannot fill one batch of {shape[0]}",
                "Add images, or calibrate with a smaller opt batch size",
            )
        for start in range(0, len(self.images) - shape[0] + 1, shape[0]):
            batch = [load_image(p, shape, self.preprocessing) for p in self.images[start : start + shape[0]]]
            yield {info.name: np.stack(batch)}

    # -- arrays ------------------------------------------------------------------------------------------------------
    def _array_batch(self, path: Path) -> dict[str, np.ndarray]:
        try:
            if path.suffix.lower() == ".npy":
                if len(self.inputs) != 1:
                    raise Pt2trtError(
                        f"{path.name}: .npy calibration batches fit one-input models; this one has "
                        f"{len(self.inputs)} inputs",
                        "Use .npz files with one array per input name",
                    )
                feed = {self.inputs[0].name: np.load(path, allow_pickle=False)}
            else:
                with np.load(path, allow_pickle=False) as data:
                    feed = {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise Pt2trtError(
                f"cannot read calibration batch {path}: {exc}",
                "Save calibration batches with numpy.save/savez, or pass a folder of images",
            ) from exc
        for name, expected in self.shapes.items():
            if name not in feed:
                raise Pt2trtError(
                    f"calibration batch {path.name} has no array for input '{name}'",
                    f"Save each .npz with one array per input name, e.g. numpy.savez(path, {name}=batch)",
                )
            if tuple(feed[name].shape) != expected:
                raise Pt2trtError(
                    f"calibration batch {path.name}: '{name}' has shape {_dims(feed[name].shape)}, the calibration "
                    f"profile needs {_dims(expected)}",
                    "Save batches of the last profile's opt shape",
                )
        return {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in feed.items()}


def calibration_shapes(plan: BuildPlan) -> dict[str, tuple[int, ...]]:
    """Input shapes of the calibration batches: the last profile's opt shapes (static shapes without profiles)."""
    if plan.profiles:
        return {name: opt for name, (_, opt, _) in plan.profiles[-1].shapes.items()}
    return {i.name: tuple(int(d) for d in i.dims) for i in plan.inputs}  # type: ignore[arg-type]


def load_image(path: Path, shape: tuple[int, ...], preprocessing: dict[str, Any]) -> np.ndarray:
    """One image as the model's input expects it: resized, [0, 1], normalized, CHW (or HWC)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise Pt2trtError("image calibration data needs Pillow", "pip install pillow, or pass .npy batches") from exc
    channels_first = shape[1] == 3
    height, width = (shape[2], shape[3]) if channels_first else (shape[1], shape[2])
    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    except OSError as exc:
        raise Pt2trtError(
            f"cannot read calibration image {path}: {exc}",
            "Remove or replace the broken image in the --calib-data folder",
        ) from exc
    scaled = np.asarray(rgb, dtype=np.float32) * np.float32(preprocessing["scale"])
    array = (scaled - np.asarray(preprocessing["mean"], np.float32)) / np.asarray(preprocessing["std"], np.float32)
    return np.ascontiguousarray(array.transpose(2, 0, 1) if channels_first else array)


def _preprocessing(metadata: dict[str, str]) -> dict[str, Any]:
    text = metadata.get(PREPROCESSING_KEY)
    if not text:
        return IMAGENET
    try:
        recorded = json.loads(text)
        return {"mean": list(recorded["mean"]), "std": list(recorded["std"]), "scale": recorded.get("scale", 1 / 255)}
    except (ValueError, KeyError, TypeError) as exc:
        raise Pt2trtError(
            f"the ONNX metadata {PREPROCESSING_KEY} is malformed: {text[:100]}",
            "Re-export the model, or pass --preprocess PRESET|FILE.yaml",
        ) from exc


def make_calibrator(plan: BuildPlan, trt: ModuleType) -> Any:
    """A Polygraphy calibrator (entropy calibration 2) over the plan's data, with its cache file if any.

    TensorRT 8.6 and 10 only: TensorRT 11 has no calibrator classes (its real module lacks
    ``IInt8EntropyCalibrator2``), and its plans quantize to Q/DQ instead.
    """
    from polygraphy.backend.trt import Calibrator

    if not plan.target.int8_calibration:
        raise Pt2trtError(
            f"TensorRT {plan.target.name} has no INT8 calibrators: it builds strongly typed networks only",
            "Write Q/DQ nodes into the ONNX first (pt2trt quantize), or build for TensorRT 10 (--trt-version 10)",
        )
    cache = str(plan.calibration_cache) if plan.calibration_cache else None
    data: Any = CalibrationData(plan) if plan.calibration_data else []
    return Calibrator(data, cache=cache, BaseClass=trt.IInt8EntropyCalibrator2)


def _dims(shape: Any) -> str:
    return "x".join(str(int(d)) for d in shape) or "scalar"
