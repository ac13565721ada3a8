"""``sweep``: a zoo of models through ``convert``, on local worker processes or a Ray cluster, with a regression
verdict against an earlier sweep.

The package only runs ``pt2trt convert`` (as a child process, each model's entry its ``--config`` file, through
:mod:`pt2trt.sweeping.convert_config`) and reads the ``report.json`` it writes (:mod:`pt2trt.sweeping.convert_report`);
Ray is imported only by ``--ray``. Its settings are :class:`pt2trt.settings.SweepSettings`; ``pt2trt.sweep`` is
:func:`pt2trt.cli.sweep.sweep`, which passes convert's own options to :func:`pt2trt.sweeping.run.sweep`.
"""

from __future__ import annotations

from pt2trt.settings.sweep import SweepSettings, Thresholds
from pt2trt.sweeping.baseline import Verdict
from pt2trt.sweeping.convert_config import ConvertOptions
from pt2trt.sweeping.outputs import SweepReport
from pt2trt.sweeping.records import Latency, Metric, ModelResult
from pt2trt.sweeping.run import sweep

__all__ = [
    "ConvertOptions",
    "Latency",
    "Metric",
    "ModelResult",
    "SweepReport",
    "SweepSettings",
    "Thresholds",
    "Verdict",
    "sweep",
]
