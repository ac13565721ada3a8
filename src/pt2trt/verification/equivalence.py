"""Prove that two ONNX models compute the same thing: ONNX Runtime runs both on the same random inputs.

This is the check behind ``simplify`` and the semantics-keeping ``edit`` operations. Inputs come from the reference
model: the shapes recorded at export (``pt2trt.inputs`` metadata) when they still fit the graph, else the graph's own
static shapes, with dynamic batch axes at 1. Where the graph has dynamic axes a second case runs them at other sizes
(batch 2, spatial axes +32), so a tool that silently baked a shape into the graph is caught.

``check_equivalence(a, b)`` is the one-call form; :class:`ReferenceRuns` runs the reference once and checks any number
of candidates against it (``simplify`` tries several engines on one model).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.comparators.tensors import Comparison, TensorComparison, compare_outputs
from pt2trt.errors import Pt2trtError
from pt2trt.feeds import Feed, random_feed
from pt2trt.onnx.inputs import example_specs
from pt2trt.settings import EQUIVALENCE, RunInputs, Tolerance
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import onnx

#: Protobuf cannot serialise more than 2 GiB: bigger models are run from a temporary file.
_MAX_BYTES = 2_000_000_000


@dataclass
class Case:
    """One run: a feed for the reference model and the matching feed for the candidate."""

    label: str
    reference_feed: Feed
    candidate_feed: Feed


@dataclass
class CaseResult:
    label: str
    comparison: Comparison | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.comparison is not None and self.comparison.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.label,
            "note": self.note,
            **(self.comparison.to_dict() if self.comparison else {"passed": False}),
        }


@dataclass
class EquivalenceReport:
    """Outcome of running reference and candidate on the same inputs."""

    cases: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0
    rtol: float = EQUIVALENCE.rtol
    atol: float = EQUIVALENCE.atol

    @property
    def compared(self) -> list[CaseResult]:
        return [c for c in self.cases if c.comparison is not None]

    @property
    def passed(self) -> bool:
        return bool(self.compared) and all(c.passed for c in self.cases if c.comparison is not None)

    @property
    def max_abs_error(self) -> float:
        errors = [t.max_abs_error for c in self.compared for t in c.comparison.tensors if t.max_abs_error is not None]
        return max(errors, default=0.0)

    def worst(self) -> tuple[str, TensorComparison] | None:
        """The failing output with the largest error (or the first failing one), with its case label."""
        failed = [(c.label, t) for c in self.compared for t in c.comparison.failed]
        if not failed:
            return None
        return max(failed, key=lambda item: item[1].max_abs_error if item[1].max_abs_error is not None else np.inf)

    def summary(self) -> str:
        """One line: ``equivalent on 2 random feeds (input:1x3x224x224, input:2x3x224x224), max abs error 3e-06``."""
        labels = ", ".join(c.label for c in self.compared)
        count = f"{len(self.compared)} random feed{'s' if len(self.compared) != 1 else ''}"
        if self.passed:
            return f"equivalent on {count} ({labels}), max abs error {self.max_abs_error:.3g}"
        worst = self.worst()
        if worst is None:
            notes = "; ".join(c.note for c in self.cases if c.note)
            return f"not compared ({notes or 'no case ran'})"
        label, t = worst
        detail = t.note[:300] or (
            f"max abs error {t.max_abs_error:.3g}, {t.outside_tolerance_pct:.2f}% of values outside "
            f"rtol {self.rtol:g} / atol {self.atol:g}"
        )
        return f"output '{t.name}' differs on {label}: {detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "rtol": self.rtol,
            "atol": self.atol,
            "max_abs_error": self.max_abs_error,
            "seconds": round(self.seconds, 3),
            "cases": [c.to_dict() for c in self.cases],
        }


# -- inputs ----------------------------------------------------------------------------------------------------------


def varied_specs(specs: Sequence[InputSpec]) -> list[InputSpec] | None:
    """The same specs with every dynamic axis at another size (batch +1, larger axes +32), or None if all static."""
    if not any(s.dynamic for s in specs):
        return None
    out = []
    for s in specs:
        for axis in s.dynamic:
            size = s.shape[axis]
            s = s.with_dim(axis, size + 32 if size >= 32 else size + 1)
        out.append(s)
    return out


def default_cases(
    model: onnx.ModelProto,
    inputs: Sequence[InputSpec] | None = None,
    *,
    seed: int = 0,
    input_map: Mapping[str, str] | None = None,
) -> list[Case]:
    """One random case at the example shapes and, for dynamic models, one at other sizes of the dynamic axes.

    ``input_map`` renames inputs for the candidate (reference name -> candidate name).
    """
    specs = example_specs(model, inputs)
    cases = []
    for i, variant in enumerate([specs, varied_specs(specs)]):
        if variant is None:
            continue
        feed = random_feed(variant, seed + i)
        label = ", ".join(map(str, variant))
        cases.append(Case(label, feed, rename_feed(feed, input_map)))
    return cases


def rename_feed(feed: Feed, names: Mapping[str, str] | None) -> Feed:
    if not names:
        return dict(feed)
    return {names.get(k, k): v for k, v in feed.items()}


# -- running ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def ort_session(model: onnx.ModelProto | str | Path, providers: Sequence[str] | None = None) -> Iterator[Any]:
    """An active :class:`OnnxRuntimeRunner` on a ModelProto (serialised in memory, or via a temp file if > 2 GB)."""
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner

    if isinstance(model, str | Path):
        with OnnxRuntimeRunner(model, providers=providers) as runner:
            yield runner
        return
    if model.ByteSize() < _MAX_BYTES:
        with OnnxRuntimeRunner(model.SerializeToString(), providers=providers) as runner:
            yield runner
        return
    import onnx

    with tempfile.TemporaryDirectory(prefix="pt2trt-ort-") as tmp:
        path = Path(tmp) / "model.onnx"
        onnx.save_model(model, str(path), save_as_external_data=True, location="model.onnx.data")
        with OnnxRuntimeRunner(path, providers=providers) as runner:
            yield runner


def with_outputs(model: onnx.ModelProto, names: Sequence[str]) -> onnx.ModelProto:
    """A copy of ``model`` whose graph also outputs the intermediate tensors ``names`` (types from shape inference)."""
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    existing = {o.name for o in copy.graph.output}
    wanted = [n for n in names if n not in existing]
    if not wanted:
        return copy
    try:
        inferred = onnx.shape_inference.infer_shapes(copy)
    except Exception:
        inferred = copy
    infos = {v.name: v for v in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]}
    for name in wanted:
        if name in infos:
            copy.graph.output.append(infos[name])
        else:
            copy.graph.output.append(onnx.ValueInfoProto(name=name))  # ORT accepts an untyped output
    return copy


def quiet_infer(runner: Any, feed: Feed) -> dict[str, np.ndarray]:
    """``runner.infer(feed)`` without ONNX Runtime's own error log on the terminal (pt2trt reports a failure once)."""
    from pt2trt.capture import capture_output

    with capture_output():
        return runner.infer(feed)


class ReferenceRuns:
    """The reference model run once on every case; candidates are then checked against the cached outputs."""

    def __init__(
        self,
        model: onnx.ModelProto | str | Path,
        cases: Sequence[Case],
        *,
        providers: Sequence[str] | None = None,
        transform: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
    ) -> None:
        """``transform`` maps the reference outputs to what the candidate should produce (e.g. a numpy softmax)."""
        self.cases = list(cases)
        self.providers = providers
        self.outputs: list[dict[str, np.ndarray] | None] = []
        self.notes: list[str] = []
        start = time.perf_counter()
        with ort_session(model, providers) as runner:
            for i, case in enumerate(self.cases):
                try:
                    out = quiet_infer(runner, case.reference_feed)
                except Pt2trtError as exc:
                    if i == 0:
                        raise Pt2trtError(
                            f"the reference model does not run on {case.label}: {exc.message}",
                            "Pass --input NAME:SHAPE with shapes it accepts",
                        ) from exc
                    # another size of a dynamic axis the model does not really accept: not a candidate's fault
                    self.outputs.append(None)
                    self.notes.append(f"skipped: the reference model fails on these shapes ({exc.message})")
                    continue
                self.outputs.append(transform(out) if transform else out)
                self.notes.append("")
        self.seconds = time.perf_counter() - start

    def check(
        self,
        candidate: onnx.ModelProto | str | Path,
        *,
        output_map: Mapping[str, str] | None = None,
        only_reference_outputs: bool = False,
        tolerance: Tolerance = EQUIVALENCE,
    ) -> EquivalenceReport:
        """Run ``candidate`` on every case and compare its outputs (renamed by ``output_map``) with the reference's.

        ``only_reference_outputs`` ignores extra candidate outputs (e.g. intermediate tensors exposed as outputs).
        """
        rtol, atol = tolerance.rtol, tolerance.atol
        report = EquivalenceReport(rtol=rtol, atol=atol)
        start = time.perf_counter()
        back = {v: k for k, v in (output_map or {}).items()}
        try:
            with ort_session(candidate, self.providers) as runner:
                for case, expected, note in zip(self.cases, self.outputs, self.notes):
                    if expected is None:
                        report.cases.append(CaseResult(case.label, None, note))
                        continue
                    try:
                        got = quiet_infer(runner, case.candidate_feed)
                    except Pt2trtError as exc:
                        report.cases.append(CaseResult(case.label, _failed(expected, exc.message, rtol, atol)))
                        continue
                    got = {back.get(k, k): v for k, v in got.items()}
                    if only_reference_outputs:
                        got = {k: v for k, v in got.items() if k in expected}
                    report.cases.append(CaseResult(case.label, compare_outputs(expected, got, rtol=rtol, atol=atol)))
        except Pt2trtError as exc:  # the candidate does not even load
            label = self.cases[0].label if self.cases else "-"
            report.cases.append(CaseResult(label, _failed(self.outputs[0] or {}, exc.message, rtol, atol)))
        report.seconds = self.seconds + time.perf_counter() - start
        return report


def _failed(expected: Mapping[str, np.ndarray], reason: str, rtol: float, atol: float) -> Comparison:
    comparison = Comparison(rtol=rtol, atol=atol)
    for name, ref in (expected or {"output": np.zeros(0)}).items():
        comparison.tensors.append(TensorComparison(name, False, tuple(np.shape(ref)), None, note=reason))
    return comparison


def check_equivalence(
    reference: onnx.ModelProto | str | Path,
    candidate: onnx.ModelProto | str | Path,
    *,
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    tolerance: Tolerance = EQUIVALENCE,
    cases: Sequence[Case] | None = None,
    input_map: Mapping[str, str] | None = None,
    output_map: Mapping[str, str] | None = None,
    only_reference_outputs: bool = False,
    seed: int | None = None,
) -> EquivalenceReport:
    """Run both models in ONNX Runtime on the same random inputs and compare every output.

    ``inputs`` (:class:`~pt2trt.settings.RunInputs` or a list of specs) give example shapes, the seed (``seed`` puts
    another over it) and the providers; ``cases`` default to :func:`default_cases` of the reference;
    ``input_map``/``output_map`` rename inputs and outputs from the reference's names to the candidate's.
    """
    from pt2trt.onnx.load import load_onnx

    run = RunInputs.of(inputs, seed=seed)
    if cases is None:
        ref_proto = reference if not isinstance(reference, str | Path) else load_onnx(reference)
        cases = default_cases(ref_proto, run.spec_list, seed=run.seed, input_map=input_map)
    runs = ReferenceRuns(reference, cases, providers=run.provider_list)
    return runs.check(
        candidate, output_map=output_map, only_reference_outputs=only_reference_outputs, tolerance=tolerance
    )
