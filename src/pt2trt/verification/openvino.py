"""A verified OpenVINO IR: ONNX -> IR, then the IR against ONNX Runtime on the same inputs, before it is published."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.backends.openvino.ir import convert_to_ir, save_ir, weight_format
from pt2trt.errors import Pt2trtError
from pt2trt.files import check_writable, existing_file, format_size, publish, staging_dir

#: (rtol, atol) against ONNX Runtime by weight format
TOLERANCES = {"fp32": (1e-3, 1e-4), "fp16": (1e-2, 1e-2), "int8": (5e-2, 5e-2)}


@dataclass
class OpenVinoExport:
    """The IR written, what it holds, and how it compared with ONNX Runtime."""

    xml: Path
    bin: Path
    weights: str  # fp32, fp16 or int8 (from Q/DQ)
    seconds: float
    comparison: Any = None  # pt2trt.comparators.tensors.Comparison
    cases: list[str] = field(default_factory=list)

    @property
    def size(self) -> str:
        return format_size(self.xml.stat().st_size + self.bin.stat().st_size)


def export_openvino(
    onnx_path: str | Path,
    output: str | Path,
    *,
    fp16: bool = False,
    force: bool = False,
    verify: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> OpenVinoExport:
    """Convert ``onnx_path`` to ``output`` (``model.xml``; its ``.bin`` beside it), checked against ONNX Runtime."""
    start = time.perf_counter()
    source = existing_file(onnx_path, "ONNX file")
    xml = Path(output)
    if xml.suffix.lower() != ".xml":
        xml = xml / f"{source.stem}.xml" if not xml.suffix else xml.with_suffix(".xml")
    check_writable(xml, force=force)
    check_writable(xml.with_suffix(".bin"), force=force)
    weights = weight_format(source, fp16)
    model = convert_to_ir(source)
    result = OpenVinoExport(xml, xml.with_suffix(".bin"), weights, 0.0)
    with staging_dir(xml) as tmp:
        staged = tmp / xml.name
        save_ir(model, staged, fp16=fp16)
        if verify:
            default_rtol, default_atol = TOLERANCES[weights]
            rtol = default_rtol if rtol is None else rtol
            atol = default_atol if atol is None else atol
            result.comparison, result.cases = verify_ir(source, staged, rtol=rtol, atol=atol, seed=seed)
            if not result.comparison.passed:
                worst = max(result.comparison.failed, key=lambda t: t.max_abs_error or float("inf"))
                raise Pt2trtError(
                    f"the OpenVINO IR differs from ONNX Runtime on '{worst.name}' (max abs error "
                    f"{worst.max_abs_error:.3g}, rtol {rtol}, atol {atol}); nothing written",
                    "Loosen --rtol/--atol if this is the expected cost of the weight format, or inspect the ONNX",
                )
        publish(staged.with_suffix(".bin"), result.bin, replace=force)
        publish(staged, xml, replace=force)
    result.seconds = time.perf_counter() - start
    return result


def verify_ir(source: Path, xml: Path, *, rtol: float, atol: float, seed: int = 0) -> tuple[Any, list[str]]:
    """Run the ONNX file (ONNX Runtime) and the IR (OpenVINO, f32 inference) on the same seeded random inputs."""
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
    from pt2trt.backends.openvino.runner import OpenVinoRunner
    from pt2trt.comparators.tensors import compare_outputs
    from pt2trt.feeds import random_feed
    from pt2trt.onnx.inputs import example_specs
    from pt2trt.onnx.load import load_onnx

    specs = example_specs(load_onnx(source, load_external_data=False))
    feed = random_feed(specs, seed=seed)
    with OnnxRuntimeRunner(source) as reference:
        expected = reference.infer(feed)
    with OpenVinoRunner(xml) as candidate:
        names = candidate.output_names()
        got = candidate.infer(feed)
    # the IR keeps the ONNX output order; name them as ONNX does when OpenVINO renamed a tensor
    got = {ref: got[name] for ref, name in zip(expected, names)} if len(names) == len(expected) else got
    case = ", ".join(f"{s.name} {list(s.shape)}" for s in specs)
    return compare_outputs(expected, got, rtol=rtol, atol=atol), [case]
