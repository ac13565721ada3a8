"""pt2trt: PyTorch image models to ONNX and TensorRT, checked at every step.

The Python API mirrors the CLI::

    import pt2trt
    result = pt2trt.export("torchvision:resnet18", [pt2trt.parse_input("input:1x3x224x224")], "r18.onnx")
    print(pt2trt.check("r18.onnx").passed)
    report = pt2trt.verify("torchvision:resnet18", "r18.onnx")
    print(report.passed, report.comparison.tensors[0].max_abs_error)

Heavy libraries (torch, onnxruntime) are imported on first use, so ``import pt2trt`` is instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pt2trt._version import __version__
from pt2trt.errors import Pt2trtError, UsageError

_LAZY = {
    "export": "pt2trt.torch2onnx:export",
    "ExportResult": "pt2trt.torch2onnx:ExportResult",
    "verify": "pt2trt.verification:verify",
    "VerifyResult": "pt2trt.verification:VerifyResult",
    "check": "pt2trt.onnx.check:check",
    "CheckReport": "pt2trt.onnx.check:CheckReport",
    "inspect_model": "pt2trt.onnx.inspect:inspect_model",
    "ModelInfo": "pt2trt.onnx.inspect:ModelInfo",
    "load_model": "pt2trt.sources:load_model",
    "InputSpec": "pt2trt.shapes:InputSpec",
    "parse_input": "pt2trt.shapes:parse_input",
    "compare_outputs": "pt2trt.compare.tensors:compare_outputs",
    "runner_class": "pt2trt.backends:runner_class",
    "TorchRunner": "pt2trt.backends.torch:TorchRunner",
    "OnnxRuntimeRunner": "pt2trt.backends.onnxruntime:OnnxRuntimeRunner",
}

__all__ = [
    "CheckReport",
    "ExportResult",
    "InputSpec",
    "ModelInfo",
    "OnnxRuntimeRunner",
    "Pt2trtError",
    "TorchRunner",
    "UsageError",
    "VerifyResult",
    "__version__",
    "check",
    "compare_outputs",
    "export",
    "inspect_model",
    "load_model",
    "parse_input",
    "runner_class",
    "verify",
]

if TYPE_CHECKING:
    from pt2trt.backends import runner_class
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
    from pt2trt.backends.torch import TorchRunner
    from pt2trt.compare.tensors import compare_outputs
    from pt2trt.onnx.check import CheckReport, check
    from pt2trt.onnx.inspect import ModelInfo, inspect_model
    from pt2trt.shapes import InputSpec, parse_input
    from pt2trt.sources import load_model
    from pt2trt.torch2onnx import ExportResult, export
    from pt2trt.verification import VerifyResult, verify


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'pt2trt' has no attribute '{name}'")
    module_name, _, attr = _LAZY[name].partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value
