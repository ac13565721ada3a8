"""Settings all the way down: every option a command takes lives in one of these frozen dataclasses.

The CLI's option groups (``pt2trt.cli.options``) build them; the Python API takes them; nothing below re-reads a
flag. Ground floor: no heavy imports, so ``--help`` can show the defaults.

* :class:`Tolerance`, :class:`RunInputs`: how close is equal, and what a comparison run is fed;
* :class:`ModelSource`: which PyTorch model (spec, weights, whether unpickling is allowed);
* :class:`ExportSettings`: how it becomes ONNX;
* :class:`TaskSettings`, :class:`PreprocessSettings`, :class:`ReadSettings`: what the outputs mean, how pictures
  become inputs, and how they are read;
* :class:`RunnerSettings`: how a backend runs a model (providers, threads, server, engine options);
* :class:`Loop`: how long a timing runs;
* :class:`Profile`, :class:`BuildSettings`: the TensorRT target, its optimization profiles and precision.
"""

from pt2trt.settings.comparison import EQUIVALENCE, LayerSearch, RunInputs, Tolerance
from pt2trt.settings.export import EXPORTERS, ExportSettings
from pt2trt.settings.model import ModelSource, WeightsSettings
from pt2trt.settings.runner import Loop, RunnerSettings
from pt2trt.settings.tasks import PredictSettings, PreprocessSettings, ReadSettings, TaskSettings
from pt2trt.settings.tensorrt import BuildSettings, Profile

__all__ = [
    "EQUIVALENCE",
    "EXPORTERS",
    "BuildSettings",
    "ExportSettings",
    "LayerSearch",
    "Loop",
    "ModelSource",
    "PredictSettings",
    "PreprocessSettings",
    "Profile",
    "ReadSettings",
    "RunInputs",
    "RunnerSettings",
    "TaskSettings",
    "Tolerance",
    "WeightsSettings",
]
