"""``quantize --eval DATA --max-drop POINTS`` against NNCF's ``quantize_with_accuracy_control`` (issue 19 item 5), on a
CNN trained on real handwritten digits and given one outlier channel (``tests/precision_models.outlier_digits``):
plain INT8 loses points of top-1 on the 497 labelled test digits; which layers does each keep in float, what does it
reach, how long does it take, and does TensorRT 10's lint accept its Q/DQ?

NNCF is not a pt2trt dependency: install it to run its half (``pip install nncf==3.4.0``); without it that half is
skipped, said in the result. Its validation function returns top-1 and each picture's correctness (NNCF ranks its
quantizers on the pictures whose answers changed), computed on the same pictures with the same preprocessing as
pt2trt's scorer (checked: both give the same FP32 top-1). An accuracy measurement; times are one run each.

    .venv/bin/python benchmarks/measure_max_drop.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_info, print_table, write_result

NAME = "measure_max_drop"
LIMITS = (1.0, 0.5)  # points of top-1


def quantized_ops(path: Path) -> list[str]:
    """The nodes (not Q/DQ) that read a DequantizeLinear's output: what runs in INT8."""
    import onnx

    model = onnx.load(str(path))
    dq = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    return [n.name for n in model.graph.node if n.op_type not in ("QuantizeLinear", "DequantizeLinear")
            and any(t in dq for t in n.input)]  # fmt: skip


def lint(path: Path) -> dict[str, Any]:
    from pt2trt.backends.tensorrt.lint import trt_compatibility

    report = trt_compatibility(path, "trt-10")
    errors = [f"{f.code}: {f.node}: {f.why}" for f in report.findings if f.severity == "error"]
    return {"passed": report.passed, "errors": errors}


def ours(fp32: Path, calib: Path, labelled: Path, work: Path) -> list[dict[str, Any]]:
    from pt2trt.precision import quantize
    from pt2trt.settings import LabelledEval, QuantizeSettings

    rows = []
    for limit in LIMITS:
        out = work / f"pt2trt-{limit:g}.onnx"
        start = time.perf_counter()
        settings = QuantizeSettings("int8", calib=calib, evaluation=LabelledEval(labelled, limit), force=True)
        result = quantize(fp32, out, settings, progress=False)
        seconds = time.perf_counter() - start
        check = result.evaluation
        assert check is not None
        rows.append({
            "tool": "pt2trt", "limit": limit, "fp32": check.fp32, "plain_int8": check.steps[0].value,
            "result": check.value, "drop": check.drop, "kept_in_float": [x.label() for x in result.excluded],
            "scorings": 2 + len(check.steps) - 1, "seconds": seconds, "lint": lint(out),
        })  # fmt: skip
    return rows


def nncf_rows(fp32: Path, calib: Path, labelled: Path, work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    try:
        import nncf
    except ImportError:
        return [], {"skipped": "nncf is not installed (pip install nncf==3.4.0)"}
    import onnx
    import onnxruntime as ort
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, QuantizationParameters
    from PIL import Image

    from pt2trt.onnx.model import OnnxModel
    from pt2trt.precision.data import load_samples
    from pt2trt.precision.metric_search import LabelledScorer
    from pt2trt.settings import LabelledEval, PreprocessSettings

    handle = OnnxModel(fp32)
    samples = load_samples(handle, calib, task="classify")
    scorer = LabelledScorer(LabelledEval(labelled), "classify", PreprocessSettings(samples.recipe), None, 8)
    data = scorer.dataset
    items = [(samples.recipe.apply(Image.open(s.path))[0][None].astype(np.float32), t)  # type: ignore[union-attr]
             for s, t in zip(data.samples, data.targets)]  # type: ignore[attr-defined]  # fmt: skip
    calls = [0]

    def validate(model: Any, pictures: Any) -> tuple[float, list[float]]:
        calls[0] += 1
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        correct = [float(session.run(None, {"input": x})[0].argmax() == y) for x, y in pictures]
        return float(np.mean(correct)), correct

    facts: dict[str, Any] = {"nncf": nncf.__version__}
    facts["fp32_validation_fn"], facts["fp32_pt2trt_scorer"] = validate(handle.proto, items)[0], scorer.score(handle)
    calibration = nncf.Dataset([f["input"] for f in samples.feeds], lambda x: {"input": x})
    preset = nncf.QuantizationPreset.PERFORMANCE  # symmetric weights and activations
    try:
        signed = QuantizationParameters(signedness_to_force=True)  # TensorRT takes signed INT8 activations only
        nncf.quantize(
            handle.proto,
            calibration,
            preset=preset,
            subset_size=len(samples),
            advanced_parameters=AdvancedQuantizationParameters(activations_quantization_params=signed),
        )
        facts["signed_activations"] = "accepted"
    except ValueError as exc:
        facts["signed_activations"] = f"refused: {' '.join(str(exc).split())}"
    start = time.perf_counter()
    plain = nncf.quantize(handle.proto, calibration, preset=preset, subset_size=len(samples))
    onnx.save(plain, work / "nncf-plain.onnx")
    facts["plain"] = {"seconds": time.perf_counter() - start, "top1": scorer.score(OnnxModel(work / "nncf-plain.onnx")),
                      "lint": lint(work / "nncf-plain.onnx")}  # fmt: skip
    rows = []
    for limit in LIMITS:
        calls[0] = 0
        start = time.perf_counter()
        model = nncf.quantize_with_accuracy_control(
            handle.proto, calibration, nncf.Dataset(items), validation_fn=validate, max_drop=limit / 100,
            drop_type=nncf.DropType.ABSOLUTE, preset=preset, subset_size=len(samples),
        )  # fmt: skip
        seconds = time.perf_counter() - start
        out = work / f"nncf-{limit:g}.onnx"
        onnx.save(model, out)
        value = scorer.score(OnnxModel(out))
        reverted = sorted(set(quantized_ops(work / "nncf-plain.onnx")) - set(quantized_ops(out)))
        rows.append({
            "tool": f"nncf {nncf.__version__}", "limit": limit, "fp32": facts["fp32_pt2trt_scorer"],
            "plain_int8": facts["plain"]["top1"], "result": value, "drop": 100 * (facts["fp32_pt2trt_scorer"] - value),
            "kept_in_float": reverted, "scorings": calls[0], "seconds": seconds, "lint": lint(out),
        })  # fmt: skip
    return rows, facts


def main() -> int:
    from tests.precision_models import outlier_digits

    with tempfile.TemporaryDirectory(prefix="pt2trt-max-drop-") as tmp:
        work = Path(tmp)
        fp32, _, calib, labelled = outlier_digits(work)
        rows = ours(fp32, calib, labelled, work)
        theirs, facts = nncf_rows(fp32, calib, labelled, work)
    rows += theirs
    print_table(
        ["tool", "limit", "FP32", "plain INT8", "result", "drop", "kept in float", "scorings", "s", "TRT 10 lint"],
        [[r["tool"], f"{r['limit']:g}", f"{100 * r['fp32']:.2f}", f"{100 * r['plain_int8']:.2f}",
          f"{100 * r['result']:.2f}", f"{r['drop']:.2f}", ", ".join(r["kept_in_float"]) or "-", str(r["scorings"]),
          f"{r['seconds']:.1f}", "passes" if r["lint"]["passed"] else f"{len(r['lint']['errors'])} errors"]
         for r in rows],
    )  # fmt: skip
    print(facts)
    path = write_result(NAME, {"machine": machine_info(), "rows": rows, "nncf": facts})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
