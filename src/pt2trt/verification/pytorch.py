"""Prove that ONNX Runtime reproduces PyTorch: same inputs, every output compared with error statistics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.backends import is_engine_file
from pt2trt.comparators.tensors import Comparison, compare_outputs
from pt2trt.errors import Pt2trtError
from pt2trt.onnx.inputs import resolve_run_inputs
from pt2trt.onnx.model import ModelLike, OnnxModel
from pt2trt.settings import ModelSource, RunInputs, RunnerSettings, Tolerance
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import torch

    from pt2trt.comparators.tasks import TaskComparison
    from pt2trt.pytorch.sources import LoadedModel


@dataclass
class VerifyResult:
    """The comparison of one PyTorch run with one ONNX Runtime run on the same inputs."""

    model: str
    onnx_path: Path
    inputs: list[InputSpec]
    comparison: Comparison
    seconds: dict[str, float] = field(default_factory=dict)
    task_comparison: TaskComparison | None = None  # with task=...: it decides the verdict
    backend: str = "onnxruntime"  # the runtime of the model under test
    task_reason: str | None = None  # why the outputs were judged as a task's results when no task was given

    @property
    def passed(self) -> bool:
        return self.task_comparison.passed if self.task_comparison is not None else self.comparison.passed

    @property
    def diagnosis(self) -> str | None:
        """For a failed verification: which kind of difference it is and what to try next (None when passed)."""
        if self.passed:
            return None
        from pt2trt.comparators.tensors import diagnose

        kinds = {t.name: diagnose(t) for t in self.comparison.failed}
        t = self.task_comparison
        if t is not None and not t.passed:
            differing = t.metrics.get("unexplained_differences")
            what = (
                f"{differing} box(es) differ that no decision boundary explains (ties at the cut-off, scores at the "
                "threshold, NMS overlaps)"
                if differing is not None
                else f"the decoded {t.task} results disagree"
            )
            return (
                f"{what}: beyond numerical noise; find the layer with `pt2trt debug layers {self.model} "
                f"{self.onnx_path}`"
            )
        if kinds and all(k == "noise" for k in kinds.values()):
            return (
                f"numerical noise: {', '.join(kinds)} agree (cosine >= 0.9999) but for a few elements just past "
                "tolerance; if this precision is expected, loosen --rtol/--atol (e.g. --rtol 1e-2)"
            )
        worst = next((n for n, k in kinds.items() if k != "noise"), next(iter(kinds), ""))
        what = {
            "structure": "differs in shape or is missing",
            "non-finite": "has NaN/inf where the reference is finite",
            "error": "differs beyond numerical noise",
        }.get(kinds.get(worst, "error"), "differs")
        return f"{worst} {what}: find the layer with `pt2trt debug layers {self.model} {self.onnx_path}`"

    def verdict_line(self) -> str:
        """The verdict that decided, in one line, with what it rests on: the decoded results when a task was
        compared, else the outputs against the tolerance."""
        c = self.comparison
        within = f"{len(c.tensors) - len(c.failed)}/{len(c.tensors)} output(s) within rtol={c.rtol:g} atol={c.atol:g}"
        t = self.task_comparison
        if t is not None:
            verdict = "verified" if t.passed else "mismatch"
            return f"{verdict} ({t.task}, decided by the decoded results): {t.criterion}; {within}"
        worst = max((x.max_abs_error or 0.0 for x in c.tensors), default=0.0)
        verdict = "verified" if self.passed else "mismatch"
        return f"{verdict}: {within}, max abs error {worst:.3g}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "backend": self.backend,
            "onnx": str(self.onnx_path),
            "inputs": [s.to_dict() for s in self.inputs],
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            **self.comparison.to_dict(),
            **({"passed": self.passed, "task": self.task_comparison.to_dict()} if self.task_comparison else {}),
            **({"task_reason": self.task_reason} if self.task_reason else {}),
            **({"diagnosis": self.diagnosis} if not self.passed else {}),
        }


def _source_onnx(path: Path) -> Path:
    """The ONNX describing the model under test: ``path`` itself, or for an engine the ONNX it was built from."""
    if not is_engine_file(path):
        return path
    from pt2trt.backends.tensorrt.metadata import read_metadata, sidecar_path
    from pt2trt.files import existing_file

    metadata = read_metadata(existing_file(path, "engine file"))
    recorded = Path(metadata.onnx_path) if metadata else None
    for candidate in [recorded, path.parent / recorded.name] if recorded else []:
        if candidate.is_file():
            return candidate
    raise Pt2trtError(
        f"verifying {path} needs the ONNX it was built from, named in its metadata {sidecar_path(path).name}",
        "Keep the engine's .json metadata and its ONNX (pt2trt build records both), or verify the ONNX itself",
    )


def verify(
    model: str | torch.nn.Module | LoadedModel | ModelSource,
    onnx_path: ModelLike,
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    *,
    tolerance: Tolerance | None = None,
    task: str | None = None,
    runner: RunnerSettings | None = None,
) -> VerifyResult:
    """Run ``model`` in PyTorch and ``onnx_path`` (a model handle or a path) on the same inputs and compare every
    output.

    ``model`` is a spec, a module, a :class:`~pt2trt.pytorch.sources.LoadedModel` or a
    :class:`~pt2trt.settings.ModelSource` (spec + weights). The candidate runs on the backend of ``runner``
    (:class:`~pt2trt.settings.RunnerSettings`; ``auto``: ONNX Runtime for ``.onnx``, TensorRT for an engine built by
    ``pt2trt build``, whose inputs are described by the ONNX recorded in its metadata; any registered backend).
    ``inputs`` is a :class:`~pt2trt.settings.RunInputs` (specs, data files, arrays, batch, seed) or a list of input
    specs; by default the shapes recorded at export with seeded random values. ``tolerance`` defaults to
    :class:`~pt2trt.settings.Tolerance`. ``task`` (classify, detect, segment) also compares the decoded results
    (top-k, matched boxes, masks) with :mod:`pt2trt.comparators.tasks`, and that comparison decides ``passed``.
    Without ``task``, outputs that say what they are (``boxes``/``scores``/``labels``: detections, which are sets
    whose order ties may change) are judged as that task automatically, unless ``tolerance.scaled`` is False (the
    plain element-wise rule of ``--elementwise``).
    """
    from pt2trt.backends import resolve_backend, runner_class
    from pt2trt.backends.torch import TorchRunner

    run = RunInputs.of(inputs)
    tol = tolerance or Tolerance()
    settings = runner or RunnerSettings(providers=run.providers)
    handle = OnnxModel.of(onnx_path)
    path = handle.path or Path(handle.name)
    source = OnnxModel(_source_onnx(path)) if is_engine_file(path) else handle
    specs, feed = resolve_run_inputs(source, run)
    output_names = source.output_names
    spec_text = str(model) if isinstance(model, str | ModelSource) else getattr(model, "spec", type(model).__name__)

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with TorchRunner(model, specs, output_names=output_names) as torch_runner:
        seconds["torch_load"] = time.perf_counter() - start
        reference = torch_runner.infer(feed)
        seconds["torch"] = torch_runner.last_inference_seconds or 0.0
    start = time.perf_counter()
    cls = runner_class(resolve_backend(path, settings.backend))
    candidate_runner = cls.from_settings(handle if cls.source == "onnx" else path, settings, specs)
    backend = candidate_runner.backend
    with candidate_runner as candidate_run:
        seconds[f"{backend}_load"] = time.perf_counter() - start
        try:
            candidate = candidate_run.infer(feed)
        except Pt2trtError as exc:
            raise Pt2trtError(f"{exc.message} (inputs {', '.join(map(str, specs))})", exc.hint) from exc
        seconds[backend] = candidate_run.last_inference_seconds or 0.0
    comparison = compare_outputs(reference, candidate, rtol=tol.rtol, atol=tol.atol, scaled=tol.scaled)
    task_comparison, task_reason = None, None
    if task is None and tol.scaled:
        task, task_reason = task_of_outputs(reference)
    if task is not None:
        from pt2trt.comparators.tasks import compare_task_outputs

        task_comparison = compare_task_outputs(task, reference, candidate, specs[0].shape)
    return VerifyResult(spec_text, path, specs, comparison, seconds, task_comparison, backend, task_reason)


def task_of_outputs(outputs: dict[str, Any]) -> tuple[str | None, str | None]:
    """The task whose results ``outputs`` are by their names (``boxes`` + ``scores``: detections, as torchvision's
    detectors and end-to-end NMS heads name them), with the reason; ``(None, None)`` when they do not say."""
    import re

    names = {re.sub(r"^(output_)?(\d+_)?", "", n).lower(): n for n in outputs}
    if {"boxes", "scores"} <= set(names) or {"det_boxes", "det_scores"} <= set(names):
        listed = ", ".join(sorted(n for k, n in names.items() if k in ("boxes", "scores", "labels", "masks")))
        return "detect", f"outputs {listed} are detections: compared as matched boxes (ties may reorder them)"
    return None, None
