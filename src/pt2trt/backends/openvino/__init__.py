"""OpenVINO: the runner (CPU, float32) and the IR writer (ONNX -> .xml + .bin, verified)."""
