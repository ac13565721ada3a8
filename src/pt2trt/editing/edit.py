"""``pt2trt edit``: apply a list of graph edits, check each one, prove the meaning-keeping ones with ONNX Runtime.

:data:`EDITS` is the table of every edit: its recipe key, CLI flag, parser and function (in surgery/ and
postprocess.py). After each edit the model passes ``onnx.checker`` and strict shape inference, or the edit fails with
the reason. Then, per the edit's :class:`~pt2trt.editing.surgery.common.Verification`:

- meaning kept (renames, batch, uint8 input, opset, expose, extract, append softmax/argmax/topk): ONNX Runtime runs
  the model before and after on random inputs and the outputs must match (through the renames, the input transform,
  the numpy post-processing...); a mismatch is an error and nothing is written;
- meaning changed on purpose (remove/insert/replace a node, NMS): the model must still load and run in ONNX Runtime,
  unless it holds TensorRT plugin ops, which only TensorRT runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.comparators.tensors import compare_outputs
from pt2trt.editing.registry import EDITS, parse_edit
from pt2trt.editing.simplify import op_counts
from pt2trt.editing.surgery.common import Verification
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import check_writable, format_size
from pt2trt.onnx import metadata as meta
from pt2trt.onnx.graph import onnx_input_specs
from pt2trt.onnx.inputs import example_specs
from pt2trt.settings import EQUIVALENCE, RunInputs, Tolerance
from pt2trt.shapes import InputSpec
from pt2trt.verification.equivalence import (
    Case,
    CaseResult,
    EquivalenceReport,
    ReferenceRuns,
    default_cases,
    ort_session,
    quiet_infer,
    varied_specs,
    with_outputs,
)

if TYPE_CHECKING:
    import onnx

STANDARD_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")


@dataclass
class EditStep:
    """One applied edit and how it was checked."""

    key: str
    description: str
    seconds: float
    equivalence: EquivalenceReport | None = None
    note: str = ""

    @property
    def status(self) -> str:
        if self.equivalence is not None:
            return self.equivalence.summary()
        return self.note

    def to_dict(self) -> dict[str, Any]:
        return {
            "edit": self.key,
            "description": self.description,
            "seconds": round(self.seconds, 3),
            "verified": self.equivalence.passed if self.equivalence else None,
            "status": self.status,
            "equivalence": self.equivalence.to_dict() if self.equivalence else None,
        }


@dataclass
class EditResult:
    input_path: Path
    output_path: Path
    steps: list[EditStep]
    ops_before: dict[str, int]
    ops_after: dict[str, int]
    size_after: int
    seconds: float
    model: onnx.ModelProto | None = field(default=None, repr=False)

    def closing_line(self) -> str:
        verified = sum(1 for s in self.steps if s.equivalence is not None)
        return (
            f"edited {self.output_path}: {len(self.steps)} edit(s), {verified} verified equivalent with ONNX Runtime, "
            f"{sum(self.ops_before.values())} -> {sum(self.ops_after.values())} nodes, {format_size(self.size_after)}, "
            f"{self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input_path),
            "output": str(self.output_path),
            "nodes_before": sum(self.ops_before.values()),
            "nodes_after": sum(self.ops_after.values()),
            "ops_before": self.ops_before,
            "ops_after": self.ops_after,
            "size_bytes": self.size_after,
            "seconds": round(self.seconds, 3),
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass
class _Settings:
    inputs: RunInputs
    tolerance: Tolerance

    @property
    def rtol(self) -> float:
        return self.tolerance.rtol

    @property
    def atol(self) -> float:
        return self.tolerance.atol

    @property
    def seed(self) -> int:
        return self.inputs.seed

    @property
    def providers(self) -> list[str] | None:
        return self.inputs.provider_list


# -- applying --------------------------------------------------------------------------------------------------------


def finish(model: onnx.ModelProto, key: str) -> onnx.ModelProto:
    """``onnx.checker`` and strict shape inference after an edit; the inferred model (with value_info) is returned."""
    import onnx

    if model.ByteSize() >= 2_000_000_000:
        return model  # the in-memory checker stops at protobuf's limit; `pt2trt check` reads big files by path
    if any(not o.type.tensor_type.HasField("shape") for o in model.graph.output):
        try:  # outputs whose shape an edit could not know (new dynamic axes): inference fills them in
            model = onnx.shape_inference.infer_shapes(model)
        except Exception:
            pass  # the strict run below reports it
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise Pt2trtError(
            f"after {key} the model fails the ONNX checker: {_one_line(exc)}",
            "Check the edit's parameters (tensor names, shapes), or apply the edits one at a time to find the culprit",
        ) from exc
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise Pt2trtError(
            f"after {key} shape inference fails: {_one_line(exc)}",
            "Check the edit's parameters (tensor names, shapes), or apply the edits one at a time to find the culprit",
        ) from exc


def apply_edit(model: onnx.ModelProto, key: str, value: Any) -> onnx.ModelProto:
    """Apply one edit (value as on the command line or in a recipe) and check the result; no ONNX Runtime run."""
    key, params = parse_edit(key, value)
    edited, _, _ = EDITS[key].load()(model, params)
    return finish(edited, key)


def edit_model(
    model: onnx.ModelProto,
    edits: Sequence[tuple[str, Any]],
    *,
    verify: bool = True,
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    tolerance: Tolerance = EQUIVALENCE,
) -> tuple[onnx.ModelProto, list[EditStep]]:
    """Apply parsed ``edits`` (``(key, params)`` from :func:`parse_edit`) in order; verify each unless ``verify=False``.

    ``inputs`` (:class:`~pt2trt.settings.RunInputs` or a list of specs) give the example shapes of the first edit's
    check, the seed and the providers; ``tolerance`` that of the checks.
    Raises :class:`Pt2trtError` at the first edit that fails, breaks the checker, or changes outputs it should keep.
    """
    settings = _Settings(RunInputs.of(inputs), tolerance)
    steps = []
    current = model
    for i, (key, params) in enumerate(edits):
        start = time.perf_counter()
        edited, verification, description = EDITS[key].load()(current, params)
        edited = finish(edited, key)
        step = EditStep(key, description, 0.0)
        if verify:
            step_inputs = settings.inputs.spec_list if i == 0 else None
            step.equivalence, step.note, used = _verify(current, edited, verification, settings, step_inputs)
            if step.equivalence is not None and not step.equivalence.passed:
                raise Pt2trtError(
                    f"{key} changed the model's outputs ({step.equivalence.summary()}); nothing written",
                    _batch_hint(key) or "Check the edit's parameters",
                )
            if used is not None:
                _record_inputs(edited, used)
        else:
            step.note = "not verified (verify=False)"
        step.seconds = time.perf_counter() - start
        steps.append(step)
        current = edited
    return current, steps


def edit(
    model: str | Path,
    output: str | Path,
    edits: Sequence[tuple[str, Any]] = (),
    *,
    recipe: str | Path | None = None,
    verify: bool = True,
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    tolerance: Tolerance = EQUIVALENCE,
    force: bool = False,
) -> EditResult:
    """Edit the ONNX file ``model`` into ``output``: the ``recipe`` file's edits, then ``edits`` (``(key, value)``).

    Values are what the CLI flag or the recipe entry would hold, e.g. ``[("rename_input", "input=images"),
    ("append", "topk:5")]``. Nothing is written unless every edit passed its checks.
    """
    from pt2trt.editing.recipe import load_recipe
    from pt2trt.onnx.load import EXTERNAL_DATA_THRESHOLD, load_onnx, save_onnx

    start = time.perf_counter()
    parsed = (load_recipe(recipe) if recipe else []) + [parse_edit(k, v) for k, v in edits]
    if not parsed:
        raise UsageError("no edit given", "Pass edit flags (see pt2trt edit --help) or --recipe FILE.yaml")
    src = Path(model)
    out = check_writable(output, force=force)
    if out.suffix != ".onnx":
        raise UsageError(f"output {out} does not end in .onnx", "Name the output file like model-edited.onnx")
    original = load_onnx(src)
    edited, steps = edit_model(original, parsed, verify=verify, inputs=inputs, tolerance=tolerance)
    size = save_onnx(edited, out, external_data=edited.ByteSize() > EXTERNAL_DATA_THRESHOLD, replace=force)
    return EditResult(
        src, out, steps, op_counts(original), op_counts(edited), size, time.perf_counter() - start, model=edited
    )


# -- verifying -------------------------------------------------------------------------------------------------------


def _verify(
    before: onnx.ModelProto,
    after: onnx.ModelProto,
    v: Verification | None,
    s: _Settings,
    inputs: Sequence[InputSpec] | None,
) -> tuple[EquivalenceReport | None, str, Feed | None]:
    """(report, note, the candidate feed of the first case) for one edit."""
    if v is None:
        return _smoke(after, s)
    if v.mode == "unchanged":
        return None, "graph unchanged (nothing to run)", None
    if v.mode == "batch":
        report, feed = _verify_batch(before, after, s)
        return report, "", feed
    if v.mode == "extract":
        assert v.extract is not None
        report, feed = _verify_extract(before, after, v.extract, s, inputs)
        return report, "", feed
    if v.feed_from_candidate is not None:
        cases = []
        base = example_specs(after)
        for i, specs in enumerate([base, varied_specs(base)]):
            if specs is None:
                continue
            from pt2trt.feeds import random_feed

            feed = random_feed(specs, s.seed + i)
            cases.append(Case(", ".join(map(str, specs)), v.feed_from_candidate(feed), feed))
    else:
        cases = default_cases(before, inputs, seed=s.seed, input_map=v.input_map)
    runs = ReferenceRuns(before, cases, providers=s.providers, transform=v.expected_outputs)
    report = runs.check(
        after, output_map=v.output_map, only_reference_outputs=v.only_reference_outputs, tolerance=s.tolerance
    )
    return report, "", cases[0].candidate_feed if cases else None


Feed = dict[str, np.ndarray]


def _smoke(after: onnx.ModelProto, s: _Settings) -> tuple[None, str, Feed | None]:
    """An edit that changes the meaning on purpose: the result must still run (unless it holds plugin ops)."""
    custom = sorted({n.domain for n in after.graph.node if n.domain not in STANDARD_DOMAINS})
    if custom:
        return None, f"changes the model on purpose; holds {', '.join(custom)} ops that ONNX Runtime cannot run", None
    case = default_cases(after, seed=s.seed)[0]
    with ort_session(after, s.providers) as runner:
        try:
            outputs = quiet_infer(runner, case.candidate_feed)
        except Pt2trtError as exc:
            raise Pt2trtError(
                f"the edited model does not run in ONNX Runtime: {exc.message}",
                "Check the edit's parameters, or pass --no-verify to write it anyway and run `pt2trt check` on it",
            ) from exc
    shapes = ", ".join(f"{k} {'x'.join(map(str, v.shape)) or 'scalar'}" for k, v in outputs.items())
    return None, f"changes the model on purpose (not compared); runs in ONNX Runtime: {shapes}", case.candidate_feed


def _verify_batch(before: onnx.ModelProto, after: onnx.ModelProto, s: _Settings) -> tuple[EquivalenceReport, Feed]:
    """The candidate at its batch size(s) against the reference run at its own batch size, sample block by block."""
    from pt2trt.feeds import random_feed

    ref_batch = {sp.shape[0] for sp in onnx_input_specs(before) if sp.shape and 0 not in sp.dynamic}
    block = next(iter(ref_batch)) if len(ref_batch) == 1 else None
    base = example_specs(after)
    report = EquivalenceReport(rtol=s.rtol, atol=s.atol)
    start = time.perf_counter()
    first: Feed | None = None
    with ort_session(before, s.providers) as ref_runner, ort_session(after, s.providers) as cand_runner:
        for i, specs in enumerate([base, varied_specs(base)]):
            if specs is None:
                continue
            feed = random_feed(specs, s.seed + i)
            first = first if first is not None else feed
            label = ", ".join(map(str, specs))
            n = next(iter(feed.values())).shape[0]
            step = block or n
            if n % step:
                report.cases.append(CaseResult(label, None, f"skipped: batch {n} is not a multiple of {step}"))
                continue
            chunks = [quiet_infer(ref_runner, {k: v[j : j + step] for k, v in feed.items()}) for j in range(0, n, step)]
            expected = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
            try:
                got = quiet_infer(cand_runner, feed)
            except Pt2trtError as exc:
                from pt2trt.verification.equivalence import _failed

                report.cases.append(CaseResult(label, _failed(expected, exc.message, s.rtol, s.atol)))
                continue
            report.cases.append(CaseResult(label, compare_outputs(expected, got, rtol=s.rtol, atol=s.atol)))
    report.seconds = time.perf_counter() - start
    assert first is not None
    return report, first


def _verify_extract(
    before: onnx.ModelProto,
    after: onnx.ModelProto,
    boundary: tuple[list[str], list[str]],
    s: _Settings,
    inputs: Sequence[InputSpec] | None,
) -> tuple[EquivalenceReport, Feed]:
    """Feed the subgraph the reference's own intermediate tensors; its outputs must be the reference's tensors."""
    names_in, names_out = boundary
    probe = with_outputs(before, [*names_in, *names_out])
    report = EquivalenceReport(rtol=s.rtol, atol=s.atol)
    start = time.perf_counter()
    first: Feed | None = None
    with ort_session(probe, s.providers) as ref_runner, ort_session(after, s.providers) as cand_runner:
        for case in default_cases(before, inputs, seed=s.seed):
            captured = quiet_infer(ref_runner, case.reference_feed)
            feed = {n: captured[n] for n in names_in}
            first = first if first is not None else feed
            expected = {n: captured[n] for n in names_out}
            label = ", ".join(f"{n}:{'x'.join(map(str, a.shape))}" for n, a in feed.items())
            got = quiet_infer(cand_runner, feed)
            report.cases.append(CaseResult(label, compare_outputs(expected, got, rtol=s.rtol, atol=s.atol)))
    report.seconds = time.perf_counter() - start
    assert first is not None
    return report, first


def _record_inputs(model: onnx.ModelProto, feed: Feed) -> None:
    """Keep ``pt2trt.inputs`` (example shapes for later steps and ``verify``) in step with the edited inputs."""
    if meta.INPUTS not in meta.read_metadata(model):
        return
    specs = [
        InputSpec(g.name, tuple(feed[g.name].shape), g.dtype, g.dynamic)
        for g in onnx_input_specs(model)
        if g.name in feed
    ]
    meta.write_metadata(model, {meta.INPUTS: meta.inputs_entry(specs)})


def _batch_hint(key: str) -> str | None:
    if key in ("dynamic_batch", "batch"):
        return "The graph hard-codes the batch size somewhere pt2trt cannot rewrite; re-export with --dynamic-batch"
    return None


def _one_line(exc: BaseException) -> str:
    import re

    return re.sub(r"\s+", " ", str(exc)).strip()[:400] or type(exc).__name__
