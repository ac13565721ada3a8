"""The pt2trt names the conformance harness calls: the one place that knows where pt2trt's TensorRT code lives.

(The source reading itself needs no such list: it finds the TensorRT code by AST wherever it is.)
"""

from __future__ import annotations

from pt2trt.backends.tensorrt_outputs import make_output_allocator
from pt2trt.errors import Pt2trtError
from pt2trt.tensorrt.build import engine_loader
from pt2trt.tensorrt.calibration import make_calibrator
from pt2trt.tensorrt.inspect import inspector_json
from pt2trt.tensorrt.plan import HARDWARE_LEVELS, make_plan
from pt2trt.tensorrt.progress import BuildPhases, make_progress_monitor
from pt2trt.tensorrt.versions import Target, at_least, import_tensorrt, installed_version, target_of

__all__ = [
    "HARDWARE_LEVELS", "BuildPhases", "Pt2trtError", "Target", "at_least", "engine_loader", "import_tensorrt",
    "inspector_json", "installed_version", "make_calibrator", "make_output_allocator", "make_plan",
    "make_progress_monitor", "target_of",
]  # fmt: skip
