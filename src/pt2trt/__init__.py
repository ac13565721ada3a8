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
    "debug_layers": "pt2trt.debug.layers:debug_layers",
    "LayersReport": "pt2trt.debug.report:LayersReport",
    "VerifyResult": "pt2trt.verification:VerifyResult",
    "predict": "pt2trt.predict:predict",
    "Predictor": "pt2trt.predict:Predictor",
    "Prediction": "pt2trt.predict:Prediction",
    "Preprocess": "pt2trt.preprocess:Preprocess",
    "compare_models": "pt2trt.compare.models:compare_models",
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
    "simplify": "pt2trt.onnx.simplify:simplify",
    "SimplifyResult": "pt2trt.onnx.simplify:SimplifyResult",
    "edit": "pt2trt.onnx.edit:edit",
    "edit_model": "pt2trt.onnx.edit:edit_model",
    "apply_edit": "pt2trt.onnx.edit:apply_edit",
    "EditResult": "pt2trt.onnx.edit:EditResult",
    "check_equivalence": "pt2trt.onnx.equivalence:check_equivalence",
    "EquivalenceReport": "pt2trt.onnx.equivalence:EquivalenceReport",
    "serve_netron": "pt2trt.onnx.view:serve",
    "write_svg": "pt2trt.onnx.svg:write_svg",
}

__all__ = [
    "CheckReport",
    "EditResult",
    "EquivalenceReport",
    "ExportResult",
    "InputSpec",
    "LayersReport",
    "ModelInfo",
    "OnnxRuntimeRunner",
    "Prediction",
    "Predictor",
    "Preprocess",
    "Pt2trtError",
    "SimplifyResult",
    "TorchRunner",
    "UsageError",
    "VerifyResult",
    "__version__",
    "apply_edit",
    "check",
    "check_equivalence",
    "compare_models",
    "compare_outputs",
    "debug_layers",
    "edit",
    "edit_model",
    "export",
    "inspect_model",
    "load_model",
    "parse_input",
    "predict",
    "runner_class",
    "serve_netron",
    "simplify",
    "verify",
    "write_svg",
]

if TYPE_CHECKING:
    from pt2trt.backends import runner_class
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
    from pt2trt.backends.torch import TorchRunner
    from pt2trt.compare.models import compare_models
    from pt2trt.compare.tensors import compare_outputs
    from pt2trt.debug.layers import debug_layers
    from pt2trt.debug.report import LayersReport
    from pt2trt.onnx.check import CheckReport, check
    from pt2trt.onnx.edit import EditResult, apply_edit, edit, edit_model
    from pt2trt.onnx.equivalence import EquivalenceReport, check_equivalence
    from pt2trt.onnx.inspect import ModelInfo, inspect_model
    from pt2trt.onnx.simplify import SimplifyResult, simplify
    from pt2trt.onnx.svg import write_svg
    from pt2trt.onnx.view import serve as serve_netron
    from pt2trt.predict import Prediction, Predictor, predict
    from pt2trt.preprocess import Preprocess
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
