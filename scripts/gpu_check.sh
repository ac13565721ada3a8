#!/usr/bin/env bash
# One-shot GPU check of pt2trt's TensorRT paths (issue 14): `make gpu-check` or `scripts/gpu_check.sh [OUT_DIR]`.
#
# Needs a CUDA GPU and `tensorrt` importable in $PYTHON (default .venv/bin/python). It FAILS (exit 2), it does not
# skip, where either is missing, so that a run can never look green by skipping. Steps, each timed and logged:
#   GPU tests (pytest -m gpu; any skipped test fails the step), export resnet18 with a dynamic batch, build it FP32
#   and FP16 with a dynamic profile, verify each engine against ONNX Runtime, build a torchvision detector
#   (ssdlite, random weights) and run `predict --task detect` on it, `inspect ENGINE`, and
#   `bench --backend tensorrt,onnxruntime` when `pt2trt bench --help` works (else the summary says it was not run).
# Writes OUT_DIR/summary.json and OUT_DIR/summary.txt (a table of what passed); exit 0 only when every step passed.
# Uses only the packages the project installs, plus tensorrt. Target: under 10 minutes.
set -u -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
OUT="${1:-${GPU_CHECK_OUT:-$ROOT/out/gpu-check}}"
PT2TRT=("$PY" -m pt2trt.cli.main)
export PYTHONPATH="$ROOT/src:$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's pt2trt, and tests/ for the models
STEPS="$OUT/steps.tsv"

fail_loudly() {
  echo "gpu-check: FAILED before starting: $1" >&2
  echo "gpu-check: this check must run on a machine with an NVIDIA GPU and TensorRT; it never skips." >&2
  exit 2
}

[ -x "$PY" ] || command -v "$PY" >/dev/null 2>&1 || fail_loudly "no Python at $PY (make venv, or set PYTHON=...)"
TRT_VERSION="$("$PY" -c 'import tensorrt; print(tensorrt.__version__)' 2>/dev/null)" \
  || fail_loudly "tensorrt does not import in $PY (pip install \"pt2trt[tensorrt]\" or NVIDIA's tensorrt wheel)"
GPU="$("$PY" -c 'from pt2trt.backends.tensorrt.versions import cuda_gpus; g = cuda_gpus(); print(g[0].name if g else "")')"
[ -n "$GPU" ] || fail_loudly "no CUDA GPU: the NVIDIA driver reports none"
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
  || fail_loudly "torch here has no CUDA (the TensorRT runner moves data with torch): install a CUDA build"

mkdir -p "$OUT"
: >"$STEPS"
cd "$ROOT" || exit 2
START=$(date +%s)

# step NAME COMMAND...: run it, log to OUT/NAME.log, record status and seconds
step() {
  local name="$1"
  shift
  local t0 ms status
  t0=$(date +%s%N)
  echo "gpu-check: $name ..." >&2
  if "$@" >"$OUT/$name.log" 2>&1; then status=passed; else status=failed; fi
  ms=$((($(date +%s%N) - t0) / 1000000))
  printf '%s\t%s\t%d.%03d\t%s\n' "$name" "$status" $((ms / 1000)) $((ms % 1000)) "$OUT/$name.log" >>"$STEPS"
  echo "gpu-check: $name $status" >&2
}

not_run() {  # NAME REASON
  printf '%s\t%s\t0\t%s\n' "$1" "not run" "$2" >>"$STEPS"
  echo "gpu-check: $1 not run: $2" >&2
}

no_skips() {  # JUNIT_XML WHAT: a skipped test fails the step
  "$PY" - "$1" "$2" <<'EOF'
import sys
import xml.etree.ElementTree as ET

suites = ET.parse(sys.argv[1]).getroot().iter("testsuite")
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"skipped {sys.argv[2]} tests: {skipped}")
sys.exit(1 if skipped else 0)
EOF
}

trt_api_tests() {
  "$PY" -m pytest -p no:cacheprovider -m trt_api -rs --junitxml="$OUT/trt-api-tests.xml" tests/test_trt_api.py \
    || return 1
  no_skips "$OUT/trt-api-tests.xml" trt_api
}

gpu_tests() {
  "$PY" -m pytest -p no:cacheprovider -m gpu -rs --junitxml="$OUT/gpu-tests.xml" \
    tests/test_tensorrt_gpu.py tests/test_tensorrt_gpu_features.py || return 1
  no_skips "$OUT/gpu-tests.xml" GPU  # a skipped GPU test on a GPU machine is a failure here
}

verify_against_onnxruntime() {  # ONNX ENGINE
  "$PY" - "$1" "$2" <<'EOF'
import sys

import numpy as np

from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
from pt2trt.backends.tensorrt.runner import TensorRTRunner
from pt2trt.comparators.tensors import compare_outputs

onnx_path, engine = sys.argv[1], sys.argv[2]
fp16 = "fp16" in engine
ok = True
for batch in (1, 3, 8):
    x = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    with OnnxRuntimeRunner(onnx_path) as ort_runner:
        reference = ort_runner.infer({"input": x})
    with TensorRTRunner(engine) as runner:
        got = runner.infer({"input": x})
    tol = 5e-2 if fp16 else 1e-3
    result = compare_outputs(reference, got, rtol=tol, atol=tol)
    print(f"batch {batch}: {'passed' if result.passed else 'FAILED'} {result.to_dict()}")
    ok &= result.passed
sys.exit(0 if ok else 1)
EOF
}

PROFILE=(--min-shapes input:1x3x224x224 --opt-shapes input:4x3x224x224 --max-shapes input:8x3x224x224)
step trt-api-conformance trt_api_tests
step gpu-tests gpu_tests
step export-resnet18 "${PT2TRT[@]}" export torchvision:resnet18 --input input:1x3x224x224 --dynamic-batch \
  -o "$OUT/r18.onnx" --force
step build-fp32 "${PT2TRT[@]}" build "$OUT/r18.onnx" -o "$OUT/r18-fp32.engine" "${PROFILE[@]}" --force
step build-fp16 "${PT2TRT[@]}" build "$OUT/r18.onnx" -o "$OUT/r18-fp16.engine" "${PROFILE[@]}" --fp16 --force
step verify-fp32 verify_against_onnxruntime "$OUT/r18.onnx" "$OUT/r18-fp32.engine"
step verify-fp16 verify_against_onnxruntime "$OUT/r18.onnx" "$OUT/r18-fp16.engine"
step verify-pytorch-fp32 "${PT2TRT[@]}" verify torchvision:resnet18 "$OUT/r18-fp32.engine" --batch 4 \
  --rtol 1e-2 --atol 1e-2
step inspect-fp16 "${PT2TRT[@]}" inspect "$OUT/r18-fp16.engine" --layers --json
cp "$OUT/inspect-fp16.log" "$OUT/r18-fp16.inspect.json" 2>/dev/null || true
step export-ssdlite "${PT2TRT[@]}" export "tests/task_models.py:ssdlite" --input images:1x3x320x320 \
  --exporter legacy --preprocess torchvision-detection -o "$OUT/ssdlite.onnx" --force
step build-ssdlite "${PT2TRT[@]}" build "$OUT/ssdlite.onnx" -o "$OUT/ssdlite.engine" --force
mkdir -p "$OUT/pictures"
"$PY" -c "from pathlib import Path; from tests.images import photos; photos(Path('$OUT/pictures'))" \
  >/dev/null 2>&1 || true
step predict-detect "${PT2TRT[@]}" predict "$OUT/ssdlite.engine" "$OUT/pictures" --task detect
step inspect-ssdlite "${PT2TRT[@]}" inspect "$OUT/ssdlite.engine" --json
if "${PT2TRT[@]}" bench --help >/dev/null 2>&1; then
  step bench "${PT2TRT[@]}" bench "$OUT/r18.onnx" --backend tensorrt,onnxruntime
else
  not_run bench "pt2trt bench is not available in this checkout (issue 11)"
fi

SECONDS_TOTAL=$(($(date +%s) - START))
"$PY" - "$STEPS" "$OUT" "$TRT_VERSION" "$GPU" "$SECONDS_TOTAL" <<'EOF'
import datetime
import json
import platform
import sys
from pathlib import Path

steps_file, out, trt_version, gpu, seconds = sys.argv[1:6]
steps = []
for line in Path(steps_file).read_text().splitlines():
    name, status, took, log = line.split("\t")
    steps.append({"step": name, "status": status, "seconds": round(float(took), 1), "log": log})
import pt2trt

summary = {
    "passed": all(s["status"] in ("passed", "not run") for s in steps),
    "tensorrt": trt_version,
    "gpu": gpu,
    "pt2trt": pt2trt.__version__,
    "python": platform.python_version(),
    "host": platform.node(),
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "seconds": int(seconds),
    "steps": steps,
}
Path(out, "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
width = max(len(s["step"]) for s in steps)
lines = [f"pt2trt gpu-check: TensorRT {trt_version} on {gpu}, {seconds} s", ""]
lines += [f"{s['step']:<{width}}  {s['status']:<8} {s['seconds']:>7.1f} s" for s in steps]
lines += ["", "PASSED" if summary["passed"] else "FAILED"]
Path(out, "summary.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if summary["passed"] else 1)
EOF
