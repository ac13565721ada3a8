"""Prove that ONNX Runtime reproduces PyTorch: same inputs, every output compared with error statistics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.backends.base import Runner
from pt2trt.backends.tensorrt.runner import is_engine_file
from pt2trt.comparators.tensors import Comparison, compare_outputs
from pt2trt.errors import Pt2trtError
from pt2trt.feeds import Feed
from pt2trt.onnx.inputs import resolve_run_inputs
from pt2trt.onnx.load import load_onnx
from pt2trt.settings import RunInputs, Tolerance
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
        if self.task_comparison is not None and not self.task_comparison.passed:
            return (
                f"the decoded {self.task_comparison.task} results disagree beyond numerical noise: find the layer "
                f"with `pt2trt debug layers {self.model} {self.onnx_path}`"
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
    model: str | torch.nn.Module | LoadedModel,
    onnx_path: str | Path,
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    *,
    tolerance: Tolerance | None = None,
    data: Sequence[str | Path] | None = None,
    feed: Feed | None = None,
    batch: int | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int | None = None,
    weights: str | Path | None = None,
    allow_pickle: bool = False,
    providers: Sequence[str] | None = None,
    task: str | None = None,
    ignore_metadata: bool = False,
) -> VerifyResult:
    """Run ``model`` in PyTorch and ``onnx_path`` in ONNX Runtime on the same inputs and compare every output.

    ``onnx_path`` may also be a TensorRT engine (``.engine``/``.plan``/``.trt``) built by ``pt2trt build``: it runs
    with the TensorRT runner, its inputs described by the ONNX recorded in its metadata.

    ``inputs`` is a :class:`~pt2trt.settings.RunInputs` or a list of input specs; by default the shapes recorded at
    export with seeded random values. The keywords ``data`` (``.npy``/``.npz`` files), ``feed`` (ready arrays),
    ``batch`` (re-sizes dynamic batch axes), ``seed`` and ``providers`` are put over it, and ``rtol``/``atol`` over
    ``tolerance`` (default :class:`~pt2trt.settings.Tolerance`).
    ``task`` (classify, detect, segment) also compares the decoded results (top-k, matched boxes, masks) with
    :mod:`pt2trt.comparators.tasks`, and that comparison decides ``passed``. ``ignore_metadata`` loads an engine without
    checking its ``.json`` metadata (TensorRT version, GPU, hash). Without ``task``, outputs that say what they
    are (``boxes``/``scores``/``labels``: detections, which are sets whose order ties may change) are judged as that
    task automatically, unless ``tolerance.scaled`` is False (the plain element-wise rule of ``--elementwise``).
    """
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
    from pt2trt.backends.torch import TorchRunner

    run = RunInputs.of(inputs, data=data, feed=feed, batch=batch, seed=seed, providers=providers)
    tol = Tolerance.of(tolerance, rtol, atol)
    path = Path(onnx_path)
    proto = load_onnx(_source_onnx(path), load_external_data=False)
    specs, feed = resolve_run_inputs(proto, run)
    output_names = [o.name for o in proto.graph.output]
    spec_text = model if isinstance(model, str) else getattr(model, "spec", type(model).__name__)
    del proto

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with TorchRunner(
        model, specs, output_names=output_names, weights=weights, allow_pickle=allow_pickle
    ) as torch_runner:
        seconds["torch_load"] = time.perf_counter() - start
        reference = torch_runner.infer(feed)
        seconds["torch"] = torch_runner.last_inference_seconds or 0.0
    start = time.perf_counter()
    if is_engine_file(path):  # an engine is the model under test: run it with TensorRT instead of ONNX Runtime
        from pt2trt.backends.tensorrt.runner import TensorRTRunner

        candidate_runner: Runner = TensorRTRunner(path, check_metadata=not ignore_metadata)
    else:
        candidate_runner = OnnxRuntimeRunner(path, providers=run.provider_list)
    backend = candidate_runner.backend
    with candidate_runner as runner:
        seconds[f"{backend}_load"] = time.perf_counter() - start
        try:
            candidate = runner.infer(feed)
        except Pt2trtError as exc:
            raise Pt2trtError(f"{exc.message} (inputs {', '.join(map(str, specs))})", exc.hint) from exc
        seconds[backend] = runner.last_inference_seconds or 0.0
    comparison = compare_outputs(reference, candidate, rtol=tol.rtol, atol=tol.atol, scaled=tol.scaled)
    task_comparison, task_reason = None, None
    if task is None and tol.scaled:
        task, task_reason = task_of_outputs(reference)
    if task is not None:
        from pt2trt.comparators.tasks import compare_task_outputs

        task_comparison = compare_task_outputs(task, reference, candidate, specs[0].shape)
    return VerifyResult(str(spec_text), path, specs, comparison, seconds, task_comparison, backend, task_reason)


def task_of_outputs(outputs: dict[str, Any]) -> tuple[str | None, str | None]:
    """The task whose results ``outputs`` are by their names (``boxes`` + ``scores``: detections, as torchvision's
    detectors and end-to-end NMS heads name them), with the reason; ``(None, None)`` when they do not say."""
    import re

    names = {re.sub(r"^(output_)?(\d+_)?", "", n).lower(): n for n in outputs}
    if {"boxes", "scores"} <= set(names) or {"det_boxes", "det_scores"} <= set(names):
        listed = ", ".join(sorted(n for k, n in names.items() if k in ("boxes", "scores", "labels", "masks")))
        return "detect", f"outputs {listed} are detections: compared as matched boxes (ties may reorder them)"
    return None, None
