"""What a precision costs: FP32 and the converted model on the same held-apart samples, compared.

Per output: element error statistics (max/mean absolute, max relative, cosine similarity) and NaN/Inf counts on
both sides; per task: the task's comparator (top-1/top-5 agreement for classify, box match and IoU for detect,
pixel agreement and mIoU for segment). The result passes when the converted model adds no NaN/Inf and, with a
target, when the task's agreement reaches it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt.comparators.tasks import DEFAULT_MIN_AGREEMENT, TaskComparison
from pt2trt.comparators.tensors import TensorComparison, compare_tensors
from pt2trt.precision.data import Samples

#: the task metric ``--target-agreement`` is checked against
PRIMARY_METRIC = {"classify": "top1_agreement", "detect": "matched_fraction", "segment": "pixel_agreement"}


@dataclass
class OutputError:
    """One output's error over all evaluation samples."""

    comparison: TensorComparison
    nan: tuple[int, int]  # reference, candidate
    inf: tuple[int, int]

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "name": c.name,
            "max_abs_error": c.max_abs_error,
            "mean_abs_error": c.mean_abs_error,
            "max_rel_error": c.max_rel_error,
            "cosine_similarity": c.cosine_similarity,
            "nan": {"fp32": self.nan[0], "converted": self.nan[1]},
            "inf": {"fp32": self.inf[0], "converted": self.inf[1]},
        }


@dataclass
class Accuracy:
    """The measured cost of a conversion on ``samples`` evaluation samples."""

    samples: int
    source: str
    outputs: list[OutputError]
    task: TaskComparison | None
    target: float | None
    passed: bool
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    runtime: str = "onnxruntime-cpu"

    @property
    def agreement(self) -> float | None:
        """The task's primary agreement (top-1 for classify), or None without a task."""
        if self.task is None:
            return None
        value = self.task.metrics.get(PRIMARY_METRIC.get(self.task.task, ""))
        return float(value) if value is not None else None

    @property
    def new_nonfinite(self) -> int:
        return sum(max(0, o.nan[1] - o.nan[0]) + max(0, o.inf[1] - o.inf[0]) for o in self.outputs)

    def to_dict(self) -> dict[str, Any]:
        task = None
        if self.task is not None:
            task = {k: v for k, v in self.task.to_dict().items() if k != "per_image"}
        return {
            "samples": self.samples,
            "source": self.source,
            "passed": self.passed,
            "target_agreement": self.target,
            "agreement": self.agreement,
            "reasons": self.reasons,
            "runtime": self.runtime,
            "outputs": [o.to_dict() for o in self.outputs],
            "task": task,
            "seconds": round(self.seconds, 3),
        }

    def lines(self) -> list[str]:
        out = []
        if self.task is not None:
            out.append(f"{self.task.task} on {self.samples} held-apart samples: " + "; ".join(self.task.summary()))
        for o in self.outputs:
            c = o.comparison
            cos = f", cosine {c.cosine_similarity:.6f}" if c.cosine_similarity is not None else ""
            out.append(
                f"output {c.name}: max abs error {c.max_abs_error:.4g}, mean {c.mean_abs_error:.4g}{cos}; "
                f"NaN {o.nan[1]} (FP32 {o.nan[0]}), Inf {o.inf[1]} (FP32 {o.inf[0]})"
            )
        return out


def run_outputs(
    model: Path | bytes, samples: Samples, batch: int, static: bool, *, emulate_fp16: bool = False
) -> dict[str, np.ndarray]:
    """All outputs of ``model`` on ONNX Runtime's CPU provider over ``samples``, concatenated along axis 0.

    ``emulate_fp16``: run :func:`pt2trt.precision.emulate.emulate_fp16` of the model instead (FP16 storage rounding,
    which ONNX Runtime's CPU provider would otherwise hide).
    """
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner

    if emulate_fp16:
        return _run_emulated(model, samples, batch, static)
    parts: dict[str, list[np.ndarray]] = {}
    with OnnxRuntimeRunner(model) as runner:
        wanted = {m.name: m.dtype for m in runner.input_metadata()}
        for feed, count in samples.batches(batch, pad=static):
            typed = {k: v.astype(wanted.get(k, v.dtype), copy=False) for k, v in feed.items()}
            for name, value in runner.infer(typed, check=False).items():
                value = np.asarray(value)
                parts.setdefault(name, []).append(value[:count] if static and value.ndim else value)
    return {k: np.concatenate(v) if v[0].ndim else v[0] for k, v in parts.items()}


def _run_emulated(model: Path | bytes, samples: Samples, batch: int, static: bool) -> dict[str, np.ndarray]:
    import onnx
    import onnxruntime as ort

    from pt2trt.precision.emulate import emulate_fp16, session_options

    proto = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(str(model))
    session = ort.InferenceSession(
        emulate_fp16(proto).SerializeToString(), session_options(), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    parts: dict[str, list[np.ndarray]] = {}
    for feed, count in samples.batches(batch, pad=static):
        floats = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in feed.items()}
        for name, value in zip(names, session.run(names, floats)):
            parts.setdefault(name, []).append(value[:count] if static and value.ndim else value)
    return {k: np.concatenate(v) if v[0].ndim else v[0] for k, v in parts.items()}


def guess_task(outputs: dict[str, np.ndarray]) -> str | None:
    """``classify`` for a model with one [N, classes] output, else None (no task metric)."""
    if len(outputs) == 1:
        (value,) = outputs.values()
        if value.ndim == 2 and value.shape[1] > 1:
            return "classify"
    return None


def measure(
    reference: dict[str, np.ndarray],
    candidate: Path | bytes,
    samples: Samples,
    *,
    batch: int,
    static: bool,
    task: str | None = None,
    target: float | None = None,
    emulate_fp16: bool = False,
) -> Accuracy:
    """Compare ``candidate``'s outputs with the FP32 ``reference`` outputs on the same ``samples``."""
    from pt2trt.comparators.tasks import compare_task_outputs

    start = time.perf_counter()
    cand = run_outputs(candidate, samples, batch, static, emulate_fp16=emulate_fp16)
    outputs = []
    for name, ref in reference.items():
        got = cand.get(name)
        if got is None:
            continue
        comparison = compare_tensors(name, ref, got.astype(ref.dtype, copy=False), rtol=1e-2, atol=1e-3)
        ref_f, got_f = np.asarray(ref, np.float64), np.asarray(got, np.float64)
        outputs.append(
            OutputError(
                comparison,
                (int(np.isnan(ref_f).sum()), int(np.isnan(got_f).sum())),
                (int(np.isinf(ref_f).sum()), int(np.isinf(got_f).sum())),
            )
        )
    task = task or guess_task(reference)
    comparison = None
    if task is not None:
        first = next(iter(samples.feeds[0].values()))
        shape = (len(samples), *first.shape[1:])
        floats = {k: v.astype(np.float32) for k, v in cand.items()}
        comparison = compare_task_outputs(
            task, reference, floats, shape, min_agreement=target if target is not None else DEFAULT_MIN_AGREEMENT
        )
    result = Accuracy(len(samples), samples.source, outputs, comparison, target, True)
    if emulate_fp16:
        result.runtime = "onnxruntime-cpu, FP16 storage emulated (pt2trt.precision.emulate)"
    if result.new_nonfinite:
        result.passed = False
        result.reasons.append(f"the converted model produced {result.new_nonfinite} NaN/Inf values FP32 did not")
    if target is not None:
        agreement = result.agreement
        if agreement is None:
            result.reasons.append("no task metric to check --target-agreement against (give --task)")
            result.passed = False
        elif agreement < target:
            result.passed = False
            result.reasons.append(f"agreement {agreement:.4f} is below the target {target:g}")
    result.seconds = time.perf_counter() - start
    return result
