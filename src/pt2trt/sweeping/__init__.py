"""``sweep``: a zoo of models through ``convert``, on local worker processes or a Ray cluster, with a regression
verdict against an earlier sweep.

The package only runs ``pt2trt convert`` (as a child process, through :mod:`pt2trt.sweeping.convert_args`) and reads
the ``report.json`` it writes (:mod:`pt2trt.sweeping.convert_report`); Ray is imported only by ``--ray``.
"""

from __future__ import annotations

from pt2trt.sweeping.baseline import Thresholds, Verdict
from pt2trt.sweeping.outputs import SweepReport
from pt2trt.sweeping.records import Latency, Metric, ModelResult
from pt2trt.sweeping.run import SweepOptions, sweep

__all__ = ["Latency", "Metric", "ModelResult", "SweepOptions", "SweepReport", "Thresholds", "Verdict", "sweep"]
