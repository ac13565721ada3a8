"""Settings all the way down: every option a command takes lives in one of these frozen dataclasses.

The CLI's option groups (``pt2trt.cli.options``) build them; the Python API takes them; nothing below re-reads a
flag. Ground floor: no heavy imports, so ``--help`` can show the defaults.

* :class:`Tolerance`, :class:`RunInputs`: how close is equal, and what a comparison run is fed;
* :class:`ModelSource`: which PyTorch model (spec, weights, whether unpickling is allowed);
* :class:`ExportSettings`: how it becomes ONNX;
* :class:`TaskSettings`, :class:`PreprocessSettings`, :class:`ReadSettings`: what the outputs mean, how pictures
  become inputs, and how they are read;
* :class:`PredictSettings`, :class:`CompareSettings`: all of the above for ``predict``; two sides and the agreement
  they must reach for ``compare``;
* :class:`RunnerSettings`: how a backend runs a model (providers, threads, server, engine options);
* :class:`Loop`, :class:`BenchTargets`: how long a timing runs, and what ``bench`` times;
* :class:`Profile`, :class:`BuildSettings`: the TensorRT target, its optimization profiles and precision;
* :class:`SimplifySettings`, :class:`EditSettings`: the graph tools and the equivalence check behind them;
* :class:`OpenVinoSettings`: the OpenVINO IR's weight format and its check against ONNX Runtime;
* :class:`ServeSettings`, :class:`EnsembleSettings`: how Triton serves a model, and the ensemble around it;
* :class:`OutputFile`: a file a command writes, and whether an existing one may be replaced;
* :class:`QuantizeSettings`: ``quantize``'s job, with :class:`Fp16Settings`, :class:`Int8Settings` and
  :class:`LabelledEval` (``--eval DATA --max-drop``);
* :class:`ConvertSettings`: the whole job (``pt2trt convert``), made of the above;
* :class:`SweepSettings`, :class:`Thresholds`: where ``pt2trt sweep`` runs a zoo, and what counts as a change.
"""

from pt2trt.settings.comparison import EQUIVALENCE, LayerSearch, RunInputs, Tolerance
from pt2trt.settings.convert import ConvertSettings
from pt2trt.settings.export import EXPORTERS, ExportSettings
from pt2trt.settings.graph import EditSettings, SimplifySettings
from pt2trt.settings.model import ModelSource, WeightsSettings
from pt2trt.settings.openvino import OpenVinoSettings
from pt2trt.settings.output import OutputFile
from pt2trt.settings.precision import Fp16Settings, Int8Settings, LabelledEval, QuantizeSettings
from pt2trt.settings.runner import BenchTargets, Loop, RunnerSettings
from pt2trt.settings.serving import EnsembleSettings, ServeSettings
from pt2trt.settings.sweep import SweepSettings, Thresholds
from pt2trt.settings.tasks import CompareSettings, PredictSettings, PreprocessSettings, ReadSettings, TaskSettings
from pt2trt.settings.tensorrt import BuildSettings, Profile

__all__ = [
    "EQUIVALENCE",
    "EXPORTERS",
    "BenchTargets",
    "BuildSettings",
    "CompareSettings",
    "ConvertSettings",
    "EditSettings",
    "EnsembleSettings",
    "ExportSettings",
    "Fp16Settings",
    "Int8Settings",
    "LabelledEval",
    "LayerSearch",
    "Loop",
    "ModelSource",
    "OpenVinoSettings",
    "OutputFile",
    "PredictSettings",
    "PreprocessSettings",
    "Profile",
    "QuantizeSettings",
    "ReadSettings",
    "RunInputs",
    "RunnerSettings",
    "ServeSettings",
    "SimplifySettings",
    "SweepSettings",
    "TaskSettings",
    "Thresholds",
    "Tolerance",
    "WeightsSettings",
]
