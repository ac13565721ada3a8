"""Precision before the GPU: mixed FP16 and INT8 Q/DQ ONNX, calibrated on real data, with the accuracy cost measured.

``quantize(model, output, QuantizeSettings("int8", calib=...))`` returns a :class:`QuantizeResult`; ``model`` is an
:class:`~pt2trt.onnx.model.OnnxModel` handle or a path. Modules: ``data`` (samples through the model's
preprocessing), ``statistics`` (one pass of activation statistics), ``fp16`` (which nodes stay FP32), ``fp16_casts``
(the mixed model written, Casts at the boundaries), ``int8`` (ONNX Runtime's Q/DQ quantizer, placed as TensorRT
places Q/DQ, bias-corrected), ``autoexclude`` (layers ranked by added error, ``--auto-exclude``'s rounds),
``metric_search`` (the task metric on labelled data, ``--max-drop``'s search), ``accuracy`` (FP32 vs converted on
held-apart samples, at the batch the model takes), ``verdict`` (counts, intervals, a verdict per output), ``api``.
"""

from __future__ import annotations

from pt2trt.precision.api import PRECISIONS, QuantizeResult, quantize
from pt2trt.precision.build import for_build
from pt2trt.precision.int8 import METHODS

__all__ = ["METHODS", "PRECISIONS", "QuantizeResult", "for_build", "quantize"]
