"""``pt2trt simplify``: onnxslim and/or onnxsim, then proof with ONNX Runtime that the outputs did not change.

Both libraries fold constants, drop dead nodes, infer shapes and fuse patterns; each catches things the other misses.
``engine="both"`` runs onnxslim, onnxsim and onnxsim followed by onnxslim, and keeps the smallest result (nodes, then
bytes) that is still equivalent. A result that changes the outputs beyond tolerance is refused: nothing is written.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.capture import capture_output
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import check_writable, format_size
from pt2trt.onnx.load import EXTERNAL_DATA_THRESHOLD
from pt2trt.onnx.model import ModelLike, OnnxModel
from pt2trt.settings import EQUIVALENCE, RunInputs, Tolerance
from pt2trt.shapes import InputSpec
from pt2trt.verification.equivalence import EquivalenceReport, ReferenceRuns, default_cases

if TYPE_CHECKING:
    import onnx

ENGINES = ("both", "onnxslim", "onnxsim")
#: What each ``engine`` choice tries, in order; a candidate is a chain of passes.
CANDIDATES: dict[str, list[tuple[str, ...]]] = {
    "onnxslim": [("onnxslim",)],
    "onnxsim": [("onnxsim",)],
    "both": [("onnxslim",), ("onnxsim",), ("onnxsim", "onnxslim")],
}


def op_counts(model: onnx.ModelProto) -> dict[str, int]:
    """Nodes of the main graph by op type (custom domains as ``domain::Op``), most frequent first."""
    ops = Counter(n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}" for n in model.graph.node)
    return dict(ops.most_common())


@dataclass
class CandidateResult:
    """One engine chain's attempt."""

    engine: str
    seconds: float
    nodes: int | None = None
    size_bytes: int | None = None
    equivalence: EquivalenceReport | None = None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None and self.equivalence is not None and self.equivalence.passed

    @property
    def status(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        assert self.equivalence is not None
        return "equivalent" if self.equivalence.passed else f"REFUSED: {self.equivalence.summary()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "seconds": round(self.seconds, 3),
            "nodes": self.nodes,
            "size_bytes": self.size_bytes,
            "accepted": self.accepted,
            "error": self.error,
            "equivalence": self.equivalence.to_dict() if self.equivalence else None,
        }


@dataclass
class SimplifyResult:
    """What ``simplify()`` wrote and what it tried."""

    input_path: Path
    output_path: Path
    model: OnnxModel  # the handle of output_path, its proto in memory
    engine: str
    ops_before: dict[str, int]
    ops_after: dict[str, int]
    size_before: int
    size_after: int
    seconds: float
    equivalence: EquivalenceReport
    candidates: list[CandidateResult] = field(default_factory=list)

    @property
    def nodes_before(self) -> int:
        return sum(self.ops_before.values())

    @property
    def nodes_after(self) -> int:
        return sum(self.ops_after.values())

    def op_rows(self) -> list[tuple[str, int, int]]:
        """``(op, before, after)`` for every op type present on either side, biggest before-count first."""
        ops = list(self.ops_before) + [op for op in self.ops_after if op not in self.ops_before]
        return [(op, self.ops_before.get(op, 0), self.ops_after.get(op, 0)) for op in ops]

    def closing_line(self) -> str:
        return (
            f"simplified {self.output_path} with {self.engine}: {self.nodes_before} -> {self.nodes_after} nodes, "
            f"{format_size(self.size_before)} -> {format_size(self.size_after)}, {self.equivalence.summary()}, "
            f"{self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input_path),
            "output": str(self.output_path),
            "engine": self.engine,
            "nodes_before": self.nodes_before,
            "nodes_after": self.nodes_after,
            "ops_before": self.ops_before,
            "ops_after": self.ops_after,
            "size_before": self.size_before,
            "size_after": self.size_after,
            "seconds": round(self.seconds, 3),
            "equivalence": self.equivalence.to_dict(),
            "candidates": [c.to_dict() for c in self.candidates],
        }


# -- the engines -----------------------------------------------------------------------------------------------------


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def run_onnxslim(model: onnx.ModelProto) -> onnx.ModelProto:
    import onnxslim

    result = onnxslim.slim(_copy(model))
    if result is None:
        raise RuntimeError("onnxslim returned no model")
    return result


def run_onnxsim(model: onnx.ModelProto) -> onnx.ModelProto:
    import onnxsim

    result, _ = onnxsim.simplify(_copy(model), check_n=0)  # pt2trt checks equivalence itself
    return result


PASSES: dict[str, Callable[[onnx.ModelProto], onnx.ModelProto]] = {"onnxslim": run_onnxslim, "onnxsim": run_onnxsim}


def _run_chain(chain: Sequence[str], model: onnx.ModelProto) -> onnx.ModelProto:
    for name in chain:
        with capture_output():  # both libraries print progress and tables straight to the terminal
            model = PASSES[name](model)
    return model


def _finish(model: onnx.ModelProto, original: onnx.ModelProto, engine: str) -> onnx.ModelProto:
    """Checker and shape inference on the result; keep the original's metadata and record the engine."""
    import onnx

    from pt2trt.onnx import metadata as meta

    metadata = meta.read_metadata(original)
    meta.write_metadata(model, {k: v for k, v in metadata.items() if k not in meta.read_metadata(model)})
    meta.write_metadata(model, {meta.PREFIX + "simplified_by": engine})
    if model.ByteSize() < EXTERNAL_DATA_THRESHOLD:  # the in-memory checker stops at protobuf's 2 GB
        onnx.checker.check_model(model)
        return onnx.shape_inference.infer_shapes(model)
    return model


# -- the step --------------------------------------------------------------------------------------------------------


def simplify(
    model: ModelLike,
    output: str | Path,
    *,
    engine: str = "both",
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    tolerance: Tolerance = EQUIVALENCE,
    force: bool = False,
) -> SimplifyResult:
    """Simplify ``model`` (a handle or a path) into ``output`` and prove with ONNX Runtime that its outputs did not
    change; ``result.model`` is the handle of what was written.

    ``engine`` is ``onnxslim``, ``onnxsim`` or ``both`` (the smallest equivalent result of onnxslim, onnxsim and
    onnxsim + onnxslim). ``inputs`` (:class:`~pt2trt.settings.RunInputs` or a list of specs) give example shapes for
    dynamic axes that have none recorded, the seed and the providers of the check. Raises
    :class:`Pt2trtError` when no engine produced an equivalent model; ``output`` is then not written.
    """
    from pt2trt.onnx.load import save_onnx

    if engine not in CANDIDATES:
        raise UsageError(f"unknown engine '{engine}'", f"Use one of: {', '.join(ENGINES)}")
    handle = OnnxModel.of(model)
    src = handle.path or Path(handle.name)
    out = check_writable(output, force=force)
    if out.suffix != ".onnx":
        raise UsageError(f"output {out} does not end in .onnx", "Name the output file like model-sim.onnx")
    start = time.perf_counter()
    original = handle.with_weights()
    size_before = original.ByteSize()
    run = RunInputs.of(inputs)
    cases = default_cases(original, run.spec_list, seed=run.seed)
    reference = ReferenceRuns(original, cases, providers=run.provider_list)

    candidates: list[CandidateResult] = []
    results: dict[str, onnx.ModelProto] = {}
    for chain in CANDIDATES[engine]:
        name = "+".join(chain)
        t0 = time.perf_counter()
        try:
            simplified = _finish(_run_chain(chain, original), original, name)
        except Exception as exc:  # an engine that crashes on this model is one failed candidate, not a traceback
            text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            candidates.append(CandidateResult(name, time.perf_counter() - t0, error=f"{type(exc).__name__}: {text}"))
            continue
        seconds = time.perf_counter() - t0
        report = reference.check(simplified, tolerance=tolerance)
        candidates.append(
            CandidateResult(name, seconds, len(simplified.graph.node), simplified.ByteSize(), equivalence=report)
        )
        results[name] = simplified

    accepted = [c for c in candidates if c.accepted]
    if not accepted:
        raise Pt2trtError(
            f"no simplification of {src} is equivalent, nothing written ("
            + "; ".join(f"{c.engine} {c.status}" for c in candidates)
            + ")",
            "Try another --engine, or loosen --rtol/--atol if the differences are rounding",
        )
    best = min(accepted, key=lambda c: (c.nodes, c.size_bytes))
    chosen = results[best.engine]
    external = chosen.ByteSize() > EXTERNAL_DATA_THRESHOLD
    ops_after = op_counts(chosen)
    save_onnx(chosen, out, external_data=external, replace=force)  # external data moves the weights out of `chosen`
    assert best.equivalence is not None and best.size_bytes is not None
    return SimplifyResult(
        input_path=src,
        output_path=out,
        model=OnnxModel(out) if external else OnnxModel(out, chosen),
        engine=best.engine,
        ops_before=op_counts(original),
        ops_after=ops_after,
        size_before=size_before,
        size_after=best.size_bytes,
        seconds=time.perf_counter() - start,
        equivalence=best.equivalence,
        candidates=candidates,
    )
