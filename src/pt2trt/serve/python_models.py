"""The code of the Python-backend models pt2trt generates; each generated ``model.py`` imports one class from here.

* :class:`PreprocessModel` – encoded image bytes (``IMAGE``, uint8) -> the model's input tensor (pt2trt's
  preprocessing recipe, the same decoding as ``pt2trt predict``) and each image's placement (``TRANSFORM``:
  original w, h, input w, h, scale x, y, offset x, y) so results map back to the image's own pixels;
* :class:`PostprocessModel` – the model's raw outputs + ``TRANSFORM`` -> one JSON result per image (the task
  decoder of ``pt2trt predict``: top-k labels, boxes or masks) as UTF-8 bytes (``RESULT``, uint8, space-padded);
* :class:`OnnxRuntimeModel` – ``--core python``: the ONNX model run by pt2trt's ONNX Runtime runner, for servers
  without the onnxruntime backend (CPU-only servers, the ``nvidia-pytriton`` wheel).

Settings come from the ``parameters`` of the model's ``config.pbtxt``. ``triton_python_backend_utils`` exists only
inside Triton's Python stub, so it is imported when a model starts.

Tensors cross the stub boundary through DLPack (``np.from_dlpack`` / ``Tensor.from_dlpack``), and images and
results travel as uint8 tensors, not Triton BYTES: the Python stub in the ``nvidia-pytriton`` wheel was built with a
numpy-1 pybind11, and under numpy 2 its ``as_numpy()`` / ``Tensor(name, array)`` return garbled or empty arrays
(seen here); DLPack and uint8 work on every server.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

PREPROCESSING = "pt2trt.preprocessing"
INPUT = "pt2trt.input"
TASK = "pt2trt.task"
TASK_OPTIONS = "pt2trt.task_options"
LABELS = "pt2trt.labels"
OUTPUTS = "pt2trt.outputs"
IMAGE, TRANSFORM, RESULT = "IMAGE", "TRANSFORM", "RESULT"


def _parameters(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    config = json.loads(args["model_config"])
    values = {k: v.get("string_value", "") for k, v in config.get("parameters", {}).items()}
    return config, values


def _utils() -> Any:
    import triton_python_backend_utils as pb_utils  # provided by Triton's Python backend stub

    return pb_utils


def _respond(requests: list[Any], handle: Any) -> list[Any]:
    """One response per request; an exception becomes that request's error, not the server's."""
    pb_utils = _utils()
    responses = []
    for request in requests:
        try:
            outputs = handle(pb_utils, request).items()
            tensors = [pb_utils.Tensor.from_dlpack(n, np.ascontiguousarray(v)) for n, v in outputs]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        except Exception as exc:
            responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"{type(exc).__name__}: {exc}")))
    return responses


def get_input(pb_utils: Any, request: Any, name: str) -> np.ndarray:
    """The request's input ``name`` as a numpy array (a copy: the request's buffer goes away after it)."""
    return np.array(np.from_dlpack(pb_utils.get_input_tensor_by_name(request, name)), copy=True)


def encode_transforms(transforms: list[Any]) -> np.ndarray:
    """:class:`pt2trt.imaging.preprocess.Transform` objects -> ``[N, 8]`` float64."""
    return np.array([[*t.original_size, *t.input_size, *t.scale, *t.offset] for t in transforms], np.float64)


def decode_transforms(values: np.ndarray) -> list[Any]:
    from pt2trt.imaging.preprocess import Transform

    rows = np.asarray(values, np.float64).reshape(-1, 8)
    return [Transform((int(r[0]), int(r[1])), (int(r[2]), int(r[3])), (r[4], r[5]), (r[6], r[7])) for r in rows]


def encode_texts(texts: list[str]) -> np.ndarray:
    """Strings -> ``[N, L]`` uint8 rows of UTF-8, padded with spaces (JSON ignores them)."""
    blobs = [t.encode() for t in texts]
    width = max((len(b) for b in blobs), default=0)
    return np.array([list(b.ljust(width)) for b in blobs], np.uint8).reshape(len(blobs), width)


def decode_texts(rows: np.ndarray) -> list[str]:
    """``[N, L]`` uint8 rows (or one ``[L]`` row) -> strings."""
    array = np.asarray(rows, np.uint8)
    return [bytes(r).decode().rstrip() for r in array.reshape(-1, array.shape[-1])]


class PreprocessModel:
    """Encoded images (``IMAGE``, uint8, one per batch row) -> the model input and ``TRANSFORM``."""

    def initialize(self, args: dict[str, Any]) -> None:
        from pt2trt.imaging.preprocess import Preprocess

        _, params = _parameters(args)
        self.preprocess = Preprocess.from_json(params[PREPROCESSING])
        self.input_name = params[INPUT]

    def prepare(self, blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        from pt2trt.imaging.sources import load_image

        samples, transforms = [], []
        for blob in blobs:
            # a full decode, as `pt2trt predict` does by default (its --fast-decode changes the pixels)
            sample, transform = self.preprocess.apply(load_image(io.BytesIO(blob)))  # type: ignore[arg-type]
            samples.append(sample)
            transforms.append(transform)
        return np.stack(samples), encode_transforms(transforms)

    def execute(self, requests: list[Any]) -> list[Any]:
        def handle(pb_utils: Any, request: Any) -> dict[str, np.ndarray]:
            blobs = get_input(pb_utils, request, IMAGE)
            batch, transforms = self.prepare([r.tobytes() for r in blobs.reshape(-1, blobs.shape[-1])])
            return {self.input_name: batch, TRANSFORM: transforms}

        return _respond(requests, handle)


class PostprocessModel:
    """Raw outputs + ``TRANSFORM`` -> ``RESULT``: one JSON document per image (uint8 UTF-8), as ``pt2trt predict``
    prints it."""

    def initialize(self, args: dict[str, Any]) -> None:
        from pt2trt.tasks import make_task
        from pt2trt.tasks.base import Labels

        _, params = _parameters(args)
        from pt2trt.settings import TaskSettings

        self.task = make_task(TaskSettings(task=params[TASK], **json.loads(params.get(TASK_OPTIONS) or "{}")))
        self.labels = Labels({int(k): v for k, v in json.loads(params.get(LABELS) or "{}").items()})
        self.outputs = json.loads(params[OUTPUTS])

    def results(self, outputs: dict[str, np.ndarray], transforms: np.ndarray) -> list[str]:
        decoded = self.task.decode(outputs, decode_transforms(transforms))
        return [json.dumps(r.to_dict(self.labels)) for r in decoded]

    def execute(self, requests: list[Any]) -> list[Any]:
        def handle(pb_utils: Any, request: Any) -> dict[str, np.ndarray]:
            outputs = {n: get_input(pb_utils, request, n) for n in self.outputs}
            transforms = get_input(pb_utils, request, TRANSFORM)
            return {RESULT: encode_texts(self.results(outputs, transforms))}

        return _respond(requests, handle)


class OnnxRuntimeModel:
    """``--core python``: ``model.onnx`` beside ``model.py``, run with pt2trt's ONNX Runtime runner."""

    def initialize(self, args: dict[str, Any]) -> None:
        from pt2trt.backends.onnxruntime import OnnxRuntimeRunner

        path = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        self.runner = OnnxRuntimeRunner(path).activate()
        self.inputs = [m.name for m in self.runner.input_metadata()]

    def execute(self, requests: list[Any]) -> list[Any]:
        def handle(pb_utils: Any, request: Any) -> dict[str, np.ndarray]:
            feed = {n: get_input(pb_utils, request, n) for n in self.inputs}
            return self.runner.infer(feed, check=False)

        return _respond(requests, handle)

    def finalize(self) -> None:
        self.runner.deactivate()
