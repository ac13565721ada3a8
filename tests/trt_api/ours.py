"""The pt2trt names the conformance harness calls: the one place that knows where pt2trt's TensorRT code lives.

(The source reading itself needs no such list: it finds the TensorRT code by AST wherever it is.)
"""

from __future__ import annotations

from pt2trt.backends.tensorrt.build import engine_loader
from pt2trt.backends.tensorrt.calibration import make_calibrator
from pt2trt.backends.tensorrt.inspect import inspector_json
from pt2trt.backends.tensorrt.outputs import make_output_allocator
from pt2trt.backends.tensorrt.plan import HARDWARE_LEVELS
from pt2trt.backends.tensorrt.progress import BuildPhases, make_progress_monitor
from pt2trt.backends.tensorrt.versions import Target, at_least, import_tensorrt, installed_version, target_of
from pt2trt.errors import Pt2trtError
from tests.tensorrt_models import plan_from_flags as make_plan  # make_plan with trtexec's shape flags

__all__ = [
    "HARDWARE_LEVELS", "BuildPhases", "Pt2trtError", "Target", "at_least", "engine_loader", "import_tensorrt",
    "inspector_json", "installed_version", "make_calibrator", "make_output_allocator", "make_plan",
    "make_progress_monitor", "target_of",
]  # fmt: skip
