"""Verification: PyTorch vs ONNX/engine, ONNX vs ONNX equivalence."""
