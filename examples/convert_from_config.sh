#!/usr/bin/env bash
# The main job from a file: examples/convert.yaml holds convert's options; a flag given here overrides one of them.
# Run: bash examples/convert_from_config.sh [OUTPUT_DIR]     (pt2trt on PATH)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-out/config-run}"
pt2trt convert --config "$here/convert.yaml" -o "$out/first" --force -q
# the effective configuration written by the first run repeats it exactly
pt2trt convert --config "$out/first/config.yaml" -o "$out/again" --trt-version 10 --force -q
grep -E "^(model|trt_version|max_batch):" "$out/again/config.yaml"
