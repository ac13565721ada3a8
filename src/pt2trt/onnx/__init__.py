"""ONNX-side steps: loading, checking, inspecting, metadata. None of these import torch."""
