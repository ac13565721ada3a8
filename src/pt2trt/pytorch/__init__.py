"""PyTorch side: model sources, export to ONNX, output structure."""
