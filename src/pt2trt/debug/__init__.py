"""Layer-wise debugging: find the layer where two runs of a model part ways (``pt2trt debug layers``)."""

from __future__ import annotations

from pt2trt.debug.layers import debug_layers
from pt2trt.debug.report import LayerResult, LayersReport, UnmatchedLayer

__all__ = ["LayerResult", "LayersReport", "UnmatchedLayer", "debug_layers"]
