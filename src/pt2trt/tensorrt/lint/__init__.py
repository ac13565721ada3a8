"""TensorRT compatibility lint of an ONNX model."""
