"""What ``pt2trt convert`` is asked to do: one settings object, the same keys as its flags and as a config file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.settings.comparison import Tolerance
from pt2trt.settings.export import ExportSettings
from pt2trt.settings.model import WeightsSettings
from pt2trt.settings.runner import RunnerSettings
from pt2trt.settings.tasks import PreprocessSettings, TaskSettings
from pt2trt.settings.tensorrt import Profile
from pt2trt.shapes import InputSpec

#: the reduced precisions convert writes beside FP32 (``--precision fp16,int8``)
REDUCED_PRECISIONS = ("fp16", "int8")
#: ``--precision`` choices
PRECISIONS = ("fp32", *REDUCED_PRECISIONS)
#: the simplifiers ``--simplify-engine`` chooses from
SIMPLIFY_ENGINES = ("onnxslim", "onnxsim", "both")


@dataclass(frozen=True)
class ConvertSettings:
    """Everything ``convert`` is asked, grouped as the other commands' settings are.

    A PyTorch MODEL is exported with ``inputs`` and ``export``, its ``weights`` loaded first; an ONNX MODEL brings
    its own inputs (``inputs`` then only gives example sizes for its dynamic axes) and is compared with PyTorch only
    when ``pytorch`` names the model it came from (``weights`` are then that model's). ``preprocess`` feeds the
    predictions, the evaluation and image calibration, and is recorded in the ONNX when given. ``precisions`` are
    the reduced precisions written beside FP32 (calibrated on ``calib``, else on ``images``); each must keep
    ``min_agreement`` of FP32's task answers (top-1, boxes agreeing, pixels) where there is a task to read.
    ``trt_version`` is the TensorRT the lint and the engine plan target; ``profiles`` the engine's optimization
    profiles (none: 1..``max_batch`` on batch axes, half to twice the example size on other dynamic axes).
    ``eval_data`` scores PyTorch, FP32 and every precision on labelled data; a precision that loses more than
    ``max_drop`` points fails.
    """

    inputs: tuple[InputSpec, ...] = ()
    export: ExportSettings = field(default_factory=ExportSettings)
    weights: WeightsSettings = field(default_factory=WeightsSettings)
    pytorch: str | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    task: TaskSettings = field(default_factory=TaskSettings)
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    labels: str | Path | None = None
    precisions: tuple[str, ...] = ()
    calib: Path | None = None
    min_agreement: float = 0.99
    trt_version: str = "10"
    profiles: tuple[Profile, ...] = ()
    max_batch: int = 8
    simplify_engine: str = "onnxslim"
    backends: tuple[str, ...] = ("torch", "onnxruntime", "openvino")
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    bench_duration: float = 0.3
    images: Path | None = None
    max_images: int = 6
    eval_data: Path | None = None
    max_drop: float | None = None
    force: bool = False
    #: the configuration as its keys and values (``--config``'s shape), recorded in the output folder and report
    config: dict[str, Any] = field(default_factory=dict, compare=False)
