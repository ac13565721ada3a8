"""The hand-written baseline of bench_convert_precision.py: ssdlite to FP32, FP16 and INT8 ONNX with the libraries.

What a user writes without pt2trt: build the model (He-initialised, as the test matrix), ``torch.onnx.export``
(legacy exporter: the dynamo one fails on torchvision's detectors), ``onnxslim.slim``, onnxconverter-common's
``convert_float_to_float16(keep_io_types=True)``, ``onnxruntime.quantization.quantize_static`` (QDQ, symmetric INT8,
per-channel, calibrated on the photos), then an ONNX Runtime session per model run on every photo. The FP16 model
onnxconverter-common writes for ssdlite does not load in ONNX Runtime (its Casts' recorded types): the script records
that and goes on. The last stdout line is ``BENCH {json}`` with each phase's wall time.

    .venv/bin/python benchmarks/convert_precision_plain.py --photos DIR --out DIR
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' model builders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    marks = {"start": time.monotonic()}

    import onnx
    import onnxruntime as ort
    import onnxslim
    import torch
    from onnxconverter_common import float16
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from PIL import Image
    from tests.matrix_models import ssdlite

    model = ssdlite()
    torch.onnx.export(model, (torch.rand(1, 3, 320, 320),), str(out / "model.onnx"), dynamo=False, opset_version=20,
                      input_names=["images"], output_names=["boxes", "scores", "labels"])  # fmt: skip
    marks["export"] = time.monotonic()
    onnx.save(onnxslim.slim(onnx.load(str(out / "model.onnx"))), str(out / "model-sim.onnx"))
    marks["onnxslim"] = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        half = float16.convert_float_to_float16(onnx.load(str(out / "model-sim.onnx")), keep_io_types=True)
    onnx.save(half, str(out / "model-fp16.onnx"))
    marks["fp16"] = time.monotonic()
    images = [
        np.asarray(Image.open(p).convert("RGB").resize((320, 320)), np.float32).transpose(2, 0, 1)[None] / 255.0
        for p in sorted(Path(args.photos).iterdir())
    ]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter({"images": x} for x in images)

        def get_next(self):  # type: ignore[no-untyped-def]
            return next(self.feeds, None)

    quantize_static(
        str(out / "model-sim.onnx"), str(out / "model-int8.onnx"), Reader(), quant_format=QuantFormat.QDQ,
        per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": False},
    )  # fmt: skip
    marks["int8"] = time.monotonic()
    loaded = {}
    for name in ("model-sim", "model-fp16", "model-int8"):
        try:
            session = ort.InferenceSession(str(out / f"{name}.onnx"), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxconverter-common's FP16 of ssdlite: recorded, not fatal
            loaded[name] = f"failed: {str(exc).splitlines()[0][:120]}"
            continue
        for x in images:
            session.run(None, {"images": x})
        loaded[name] = "ran"
    marks["sessions"] = time.monotonic()
    names = list(marks)
    phases = {b: marks[b] - marks[a] for a, b in itertools.pairwise(names)}
    print("BENCH " + json.dumps({"phases": phases, "wall": marks["sessions"] - marks["start"], "sessions": loaded}))


if __name__ == "__main__":
    main()
