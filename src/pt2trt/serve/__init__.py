"""Serving past one machine: a checked Triton Inference Server model repository, ensembles, OpenVINO IR.

Heavy packages (tritonclient, onnxruntime, openvino) are imported by the functions that need them.
"""

from __future__ import annotations

from pt2trt.serve.checks import check_repository
from pt2trt.serve.repository import RepositoryResult, write_repository
from pt2trt.settings import EnsembleSettings, ServeSettings

__all__ = ["EnsembleSettings", "RepositoryResult", "ServeSettings", "check_repository", "write_repository"]
