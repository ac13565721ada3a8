#!/usr/bin/env bash
# The CLI path on a user's own model file: export with a dynamic batch, check, inspect, verify at batch 2.
# Run: bash examples/cli_walkthrough.sh [OUTPUT_DIR]   (pt2trt must be on PATH, e.g. .venv/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-out/examples}
mkdir -p "$out"
pt2trt export "$here/my_model.py:TinyUNet" --input image:1x3x64x64 --dynamic-batch -o "$out/tiny_unet.onnx" --force
pt2trt check "$out/tiny_unet.onnx"
pt2trt inspect "$out/tiny_unet.onnx" --json > "$out/tiny_unet.json"
pt2trt verify "$here/my_model.py:TinyUNet" "$out/tiny_unet.onnx" --batch 2
