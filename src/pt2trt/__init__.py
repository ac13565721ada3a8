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

from pt2trt import environment as _environment
from pt2trt._version import __version__ as __version__
from pt2trt.errors import Pt2trtError as Pt2trtError
from pt2trt.errors import UsageError as UsageError

# Before onnxruntime or torch is imported: their telemetry off, torch's compiler cache in a temporary folder
# (pt2trt.environment; the user's own settings of those variables are kept).
_environment.prepare()

_LAZY = {
    "export": "pt2trt.pytorch.export:export",
    "ExportResult": "pt2trt.pytorch.export:ExportResult",
    "verify": "pt2trt.verification.pytorch:verify",
    "debug_layers": "pt2trt.debug.layers:debug_layers",
    "LayersReport": "pt2trt.debug.report:LayersReport",
    "VerifyResult": "pt2trt.verification.pytorch:VerifyResult",
    "predict": "pt2trt.prediction.predict:predict",
    "Predictor": "pt2trt.prediction.predict:Predictor",
    "Prediction": "pt2trt.prediction.predict:Prediction",
    "Preprocess": "pt2trt.imaging.preprocess:Preprocess",
    "compare_models": "pt2trt.prediction.agreement:compare_models",
    "evaluate": "pt2trt.evaluation.runner:evaluate",
    "EvalSettings": "pt2trt.evaluation.settings:EvalSettings",
    "EvalReport": "pt2trt.evaluation.results:EvalReport",
    "check": "pt2trt.onnx.check:check",
    "CheckReport": "pt2trt.onnx.check:CheckReport",
    "inspect_model": "pt2trt.onnx.inspect:inspect_model",
    "ModelInfo": "pt2trt.onnx.inspect:ModelInfo",
    "load_model": "pt2trt.pytorch.sources:load_model",
    "InputSpec": "pt2trt.shapes:InputSpec",
    "parse_input": "pt2trt.shapes:parse_input",
    "compare_outputs": "pt2trt.comparators.tensors:compare_outputs",
    "runner_class": "pt2trt.backends:runner_class",
    "TorchRunner": "pt2trt.backends.torch:TorchRunner",
    "OnnxRuntimeRunner": "pt2trt.backends.onnxruntime:OnnxRuntimeRunner",
    "simplify": "pt2trt.editing.simplify:simplify",
    "SimplifyResult": "pt2trt.editing.simplify:SimplifyResult",
    "edit": "pt2trt.editing.edit:edit",
    "edit_model": "pt2trt.editing.edit:edit_model",
    "apply_edit": "pt2trt.editing.edit:apply_edit",
    "EditResult": "pt2trt.editing.edit:EditResult",
    "check_equivalence": "pt2trt.verification.equivalence:check_equivalence",
    "EquivalenceReport": "pt2trt.verification.equivalence:EquivalenceReport",
    "serve_netron": "pt2trt.view.netron:serve",
    "write_svg": "pt2trt.view.svg:write_svg",
    "Tolerance": "pt2trt.settings:Tolerance",
    "RunInputs": "pt2trt.settings:RunInputs",
    # every command's function (docs/api.md); `pt2trt bench` is pt2trt.bench.bench: the subpackage holds the name
    "convert": "pt2trt.conversion.convert:convert",
    "ConvertResult": "pt2trt.conversion:ConvertResult",
    "quantize": "pt2trt.precision:quantize",
    "QuantizeResult": "pt2trt.precision:QuantizeResult",
    "build": "pt2trt.precision.build:build",
    "BuildResult": "pt2trt.backends.tensorrt.build:BuildResult",
    "triton": "pt2trt.serve:write_repository",
    "RepositoryResult": "pt2trt.serve:RepositoryResult",
    "export_openvino": "pt2trt.verification.openvino:export_openvino",
    "OpenVinoExport": "pt2trt.verification.openvino:OpenVinoExport",
    "inspect": "pt2trt.view.inspect:inspect",
    "EngineInspection": "pt2trt.view.inspect:EngineInspection",
    "sweep": "pt2trt.cli.sweep:sweep",  # the sweeping package's, given convert's own options (see that module)
    "SweepReport": "pt2trt.sweeping.outputs:SweepReport",
}

__all__ = sorted(["Pt2trtError", "UsageError", "__version__", *_LAZY])

# For type checkers and IDEs only: they cannot follow _LAZY, and a .pyi stub would repeat the names all the same.
# ``X as X`` marks each as re-exported (py.typed; type checkers cannot read the computed __all__);
# tests/test_settings.py checks that this block names exactly the keys of _LAZY.
if TYPE_CHECKING:
    from pt2trt.backends import runner_class as runner_class
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner as OnnxRuntimeRunner
    from pt2trt.backends.tensorrt.build import BuildResult as BuildResult
    from pt2trt.backends.torch import TorchRunner as TorchRunner
    from pt2trt.cli.sweep import sweep as sweep
    from pt2trt.comparators.tensors import compare_outputs as compare_outputs
    from pt2trt.conversion import ConvertResult as ConvertResult
    from pt2trt.conversion.convert import convert as convert
    from pt2trt.debug.layers import debug_layers as debug_layers
    from pt2trt.debug.report import LayersReport as LayersReport
    from pt2trt.editing.edit import EditResult as EditResult
    from pt2trt.editing.edit import apply_edit as apply_edit
    from pt2trt.editing.edit import edit as edit
    from pt2trt.editing.edit import edit_model as edit_model
    from pt2trt.editing.simplify import SimplifyResult as SimplifyResult
    from pt2trt.editing.simplify import simplify as simplify
    from pt2trt.evaluation.results import EvalReport as EvalReport
    from pt2trt.evaluation.runner import evaluate as evaluate
    from pt2trt.evaluation.settings import EvalSettings as EvalSettings
    from pt2trt.imaging.preprocess import Preprocess as Preprocess
    from pt2trt.onnx.check import CheckReport as CheckReport
    from pt2trt.onnx.check import check as check
    from pt2trt.onnx.inspect import ModelInfo as ModelInfo
    from pt2trt.onnx.inspect import inspect_model as inspect_model
    from pt2trt.precision import QuantizeResult as QuantizeResult
    from pt2trt.precision import quantize as quantize
    from pt2trt.precision.build import build as build
    from pt2trt.prediction.agreement import compare_models as compare_models
    from pt2trt.prediction.predict import Prediction as Prediction
    from pt2trt.prediction.predict import Predictor as Predictor
    from pt2trt.prediction.predict import predict as predict
    from pt2trt.pytorch.export import ExportResult as ExportResult
    from pt2trt.pytorch.export import export as export
    from pt2trt.pytorch.sources import load_model as load_model
    from pt2trt.serve import RepositoryResult as RepositoryResult
    from pt2trt.serve import write_repository as triton  # noqa: F401
    from pt2trt.settings import RunInputs as RunInputs
    from pt2trt.settings import Tolerance as Tolerance
    from pt2trt.shapes import InputSpec as InputSpec
    from pt2trt.shapes import parse_input as parse_input
    from pt2trt.sweeping.outputs import SweepReport as SweepReport
    from pt2trt.verification.equivalence import EquivalenceReport as EquivalenceReport
    from pt2trt.verification.equivalence import check_equivalence as check_equivalence
    from pt2trt.verification.openvino import OpenVinoExport as OpenVinoExport
    from pt2trt.verification.openvino import export_openvino as export_openvino
    from pt2trt.verification.pytorch import VerifyResult as VerifyResult
    from pt2trt.verification.pytorch import verify as verify
    from pt2trt.view.inspect import EngineInspection as EngineInspection
    from pt2trt.view.inspect import inspect as inspect
    from pt2trt.view.netron import serve as serve_netron  # noqa: F401
    from pt2trt.view.svg import write_svg as write_svg


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'pt2trt' has no attribute '{name}'")
    module_name, _, attr = _LAZY[name].partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value
