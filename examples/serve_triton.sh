#!/usr/bin/env bash
# From a PyTorch model to a checked Triton Inference Server model repository (and an OpenVINO IR beside it).
# Run: bash examples/serve_triton.sh [OUTPUT_DIR]     (pt2trt on PATH; no server needed: the repository is checked
# against Triton's own config schema and against the model)
set -euo pipefail
out="${1:-out/serve}"
mkdir -p "$out"
pt2trt export pt2trt.models:SeedNet --input input:1x3x28x28 --dynamic-batch -o "$out/seednet.onnx" --force
pt2trt triton "$out/seednet.onnx" -o "$out/repository" --name seednet --max-batch 8 --dynamic-batching --force
pt2trt triton --check "$out/repository"
cat "$out/repository/seednet/config.pbtxt"
pt2trt export-openvino "$out/seednet.onnx" -o "$out/ir" --force
