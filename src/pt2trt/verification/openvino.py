"""A verified OpenVINO IR: ONNX -> IR, then the IR against ONNX Runtime on the same inputs, before it is published.

The check runs like simplify's (:mod:`pt2trt.verification.equivalence`): the example shapes (recorded at export, the
graph's static ones, or ``--input``), and for a model with dynamic axes a second feed at other sizes; or the user's
arrays (``--data``). Its tolerance is the weight format's (:data:`pt2trt.settings.openvino.IR_TOLERANCES`, measured)
unless one is given: an INT8 or FP16 model is not held to FP32's, and the verdict names the format and the feeds it
rests on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pt2trt.backends.openvino.ir import WeightFormat, convert_to_ir, save_ir, weight_format
from pt2trt.errors import CheckFailed, Pt2trtError
from pt2trt.files import check_writable, format_size, publish, staging_dir
from pt2trt.onnx.model import ModelLike, OnnxModel
from pt2trt.settings import OpenVinoSettings, Tolerance
from pt2trt.settings.openvino import IR_TOLERANCES

if TYPE_CHECKING:
    from pt2trt.comparators.tensors import Comparison
    from pt2trt.verification.equivalence import Case


@dataclass
class OpenVinoExport:
    """The IR written, what it holds, and how it compared with ONNX Runtime."""

    xml: Path
    bin: Path
    format: WeightFormat
    seconds: float
    tolerance: Tolerance | None = None  # the check's (None: not verified)
    comparisons: list[Comparison] = field(default_factory=list)  # one per feed that ran
    cases: list[str] = field(default_factory=list)  # the feeds, as input specs
    notes: list[str] = field(default_factory=list)  # feeds that could not run, and why

    @property
    def weights(self) -> str:
        """``fp32``, ``fp16`` or ``int8``."""
        return self.format.name

    @property
    def comparison(self) -> Comparison | None:
        """The first feed's comparison (None when not verified)."""
        return self.comparisons[0] if self.comparisons else None

    @property
    def passed(self) -> bool:
        return bool(self.comparisons) and all(c.passed for c in self.comparisons)

    @property
    def max_abs_error(self) -> float:
        errors = [t.max_abs_error for c in self.comparisons for t in c.tensors if t.max_abs_error is not None]
        return max(errors, default=0.0)

    @property
    def size(self) -> str:
        return format_size(self.xml.stat().st_size + self.bin.stat().st_size)

    def tolerance_text(self) -> str:
        """The check's rule and why it is that one: ``the int8 tolerance (|c - r| <= 0.01 + 0.25*(rms(r) + |r|))``."""
        t = self.tolerance
        if t is None:
            return "no tolerance (not verified)"
        rule = f"|c - r| <= {t.atol:g} + {t.rtol:g}*(rms(r) + |r|)" if t.scaled else f"rtol {t.rtol:g}, atol {t.atol:g}"
        why = f"the {self.weights} tolerance" if t == IR_TOLERANCES[self.weights] else "the tolerance given"
        return f"{why} ({rule})"

    def verdict(self) -> str:
        """What the check found and what it rests on: the feeds, the tolerance and why it is that one."""
        if self.tolerance is None:
            return "not verified"
        shown = self.cases if len(self.cases) <= 3 else [*self.cases[:2], f"{len(self.cases) - 2} more"]
        feeds = f"{len(self.cases)} {'feed' if len(self.cases) == 1 else 'feeds'} ({', '.join(shown)})"
        if self.passed:
            text = f"matches ONNX Runtime on {feeds}, max abs error {self.max_abs_error:.3g}, within "
        else:
            text = f"differs from ONNX Runtime on {feeds}, max abs error {self.max_abs_error:.3g}, beyond "
        return text + self.tolerance_text() + "".join(f"; not run: {n}" for n in self.notes)


def export_openvino(
    model: ModelLike, output: str | Path, settings: OpenVinoSettings | None = None, *, force: bool = False
) -> OpenVinoExport:
    """Convert the ONNX ``model`` to ``output`` (``model.xml``, or a folder; its ``.bin`` beside it), checked
    against ONNX Runtime (``settings``: :class:`~pt2trt.settings.OpenVinoSettings`) before anything is written.

    Raises :class:`~pt2trt.errors.CheckFailed` when the IR differs beyond the tolerance; nothing is written then.
    """
    start = time.perf_counter()
    s = settings or OpenVinoSettings()
    handle = OnnxModel.of(model)
    source = handle.path
    if source is None:
        raise Pt2trtError("OpenVINO converts ONNX files", "Save the model first, then convert the file")
    xml = Path(output)
    if xml.suffix.lower() != ".xml":
        xml = xml / f"{source.stem}.xml" if not xml.suffix else xml.with_suffix(".xml")
    check_writable(xml, force=force)
    check_writable(xml.with_suffix(".bin"), force=force)
    result = OpenVinoExport(xml, xml.with_suffix(".bin"), weight_format(handle.proto, s.fp16), 0.0)
    ir = convert_to_ir(handle)
    with staging_dir(xml) as tmp:
        staged = tmp / xml.name
        save_ir(ir, staged, fp16=s.fp16)
        if s.verify:
            result.tolerance = s.tolerance(result.weights)
            verify_ir(handle, staged, s, result)
            if not result.passed:
                raise _differs(result)
        publish(staged.with_suffix(".bin"), result.bin, replace=force)
        publish(staged, xml, replace=force)
    result.seconds = time.perf_counter() - start
    return result


def _differs(result: OpenVinoExport) -> CheckFailed:
    failed = [(t, case) for c, case in zip(result.comparisons, result.cases) for t in c.failed]
    worst, case = max(failed, key=lambda item: item[0].max_abs_error or float("inf"))
    detail = worst.note or f"max abs error {worst.max_abs_error:.3g}"
    if result.tolerance == IR_TOLERANCES[result.weights]:  # measured on correct IRs: this is more than rounding
        hint = (
            f"Correct {result.weights} IRs stayed well within it (docs/graph-tools.md): run the IR at that shape on "
            "real inputs (--data) before loosening --rtol/--atol, or deploy with ONNX Runtime"
        )
    else:
        hint = "Loosen --rtol/--atol if this is the cost of the weight format, or check on real inputs (--data)"
    return CheckFailed(
        f"the OpenVINO IR ({result.format}) differs from ONNX Runtime on '{worst.name}': {detail} on {case}, "
        f"beyond {result.tolerance_text()}; nothing written",
        hint,
    )


def verify_ir(model: OnnxModel, xml: Path, settings: OpenVinoSettings, result: OpenVinoExport) -> None:
    """Run the ONNX model (ONNX Runtime) and the IR (OpenVINO, f32 inference) on the same inputs; the comparisons,
    feeds and notes go into ``result``."""
    from pt2trt.backends.openvino.runner import OpenVinoRunner
    from pt2trt.comparators.tensors import compare_outputs
    from pt2trt.verification.equivalence import ReferenceRuns

    assert result.tolerance is not None
    runs = ReferenceRuns(model.path or model.proto, _cases(model, settings), providers=settings.inputs.provider_list)
    t = result.tolerance
    with OpenVinoRunner(xml) as candidate:
        names = candidate.output_names()
        for case, expected, note in zip(runs.cases, runs.outputs, runs.notes):
            if expected is None:
                result.notes.append(f"{case.label}: {note}")
                continue
            got = candidate.infer(case.candidate_feed)
            # the IR keeps the ONNX output order; name them as ONNX does when OpenVINO renamed a tensor
            got = {ref: got[name] for ref, name in zip(expected, names)} if len(names) == len(expected) else got
            result.comparisons.append(compare_outputs(expected, got, rtol=t.rtol, atol=t.atol, scaled=t.scaled))
            result.cases.append(f"{case.label} {note}" if note else case.label)


#: with --data and a dynamic batch axis, this many samples are also run one at a time (batch 1)
SAMPLES_ALONE = 8


def _cases(model: OnnxModel, settings: OpenVinoSettings) -> list[Case]:
    """The user's arrays (``--data``) as one case, and with a dynamic batch axis the first samples one by one too
    (OpenVINO may compute batch 1 differently from the batch given); else simplify's random cases (a second size for
    dynamic axes)."""
    from pt2trt.feeds import load_feed
    from pt2trt.verification.equivalence import Case, default_cases

    run = settings.inputs
    if run.feed is None and not run.data:
        return default_cases(model.proto, run.spec_list, seed=run.seed)
    feed = dict(run.feed) if run.feed is not None else load_feed(run.data, [str(s.name) for s in model.input_specs])
    source = ", ".join(p.name for p in run.data) or "the given arrays"
    cases = [Case(f"{_shapes(feed)} from {source}", feed, feed)]
    batch = {len(v) for v in feed.values() if np.ndim(v) > 0}
    dynamic_batch = all(0 in s.dynamic for s in model.input_specs)
    if dynamic_batch and len(batch) == 1 and (size := batch.pop()) > 1:
        for i in range(min(size, SAMPLES_ALONE)):
            one = {k: v[i : i + 1] for k, v in feed.items()}
            cases.append(Case(f"{_shapes(one)} (sample {i} alone)", one, one))
    return cases


def _shapes(feed: dict[str, np.ndarray]) -> str:
    return ", ".join(f"{k}:{'x'.join(map(str, v.shape))}" for k, v in feed.items())
