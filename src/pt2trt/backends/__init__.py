"""Backends as runners. One file per backend plus one line in ``RUNNERS``; classes are imported on demand."""

from __future__ import annotations

import importlib

from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.errors import UsageError

#: backend name -> "module:Class"; drives --backend choices and error messages.
RUNNERS: dict[str, str] = {
    "torch": "pt2trt.backends.torch:TorchRunner",
    "onnxruntime": "pt2trt.backends.onnxruntime:OnnxRuntimeRunner",
    "tensorrt": "pt2trt.backends.tensorrt:TensorRTRunner",
    "openvino": "pt2trt.backends.openvino:OpenVinoRunner",
    "triton": "pt2trt.backends.triton:TritonRunner",
}


def runner_class(backend: str) -> type[Runner]:
    """The runner class registered for ``backend``."""
    if backend not in RUNNERS:
        raise UsageError(f"unknown backend '{backend}'", f"Use one of: {', '.join(RUNNERS)}")
    module_name, _, cls = RUNNERS[backend].partition(":")
    return getattr(importlib.import_module(module_name), cls)


__all__ = ["RUNNERS", "Runner", "TensorMeta", "runner_class"]
