"""Serving past one machine: a checked Triton Inference Server model repository, ensembles, OpenVINO IR.

Heavy packages (tritonclient, onnxruntime, openvino) are imported by the functions that need them.
"""

from __future__ import annotations

from pt2trt.serve.checks import check_repository
from pt2trt.serve.config import ServeOptions
from pt2trt.serve.ensemble import EnsembleOptions
from pt2trt.serve.repository import RepositoryResult, write_repository

__all__ = ["EnsembleOptions", "RepositoryResult", "ServeOptions", "check_repository", "write_repository"]
