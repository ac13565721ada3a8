"""What a precision costs: FP32 and the converted model on the same held-apart samples, compared.

The samples run at the batch the model takes (:func:`pt2trt.precision.data.measurement_batch`): its static batch,
batches of several only when every output carries the input's batch axis, else one sample at a time (a torchvision
detector's outputs hold one image; their length depends on the data). Outputs stay per batch: nothing is concatenated
across samples.

Per output: element error statistics (max/mean absolute, max relative, cosine similarity) where both sides have the
same shape, NaN/Inf counts on both sides, and a verdict (:func:`pt2trt.precision.verdict.judge_output`: close,
degraded, collapsed). Per task: the task's comparator (top-1/top-5 agreement for classify, boxes agreeing (matched,
or at a decision boundary) for detect, pixel agreement and mIoU for segment), its deciding figure as a count with a
95 % interval. The result fails when the converted model adds NaN/Inf, when an output collapsed (without a task
metric: the task's results decide otherwise, a decoded detector's boxes reorder), or, with a target, when the task's
agreement misses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.comparators.tasks import DEFAULT_MIN_AGREEMENT, TaskComparison
from pt2trt.comparators.tensors import TensorComparison, compare_tensors
from pt2trt.errors import Pt2trtError
from pt2trt.precision.data import Samples
from pt2trt.precision.verdict import Agreement, OutputJudgement, agreement_of, judge_output

if TYPE_CHECKING:
    from pt2trt.onnx.model import OnnxModel

#: the task metric ``--target-agreement`` is checked against
PRIMARY_METRIC = {"classify": "top1_agreement", "detect": "agreeing_fraction", "segment": "pixel_agreement"}
NO_TASK = "none"
#: outputs of one batch of samples, with the count of real samples in it
Batches = list[tuple[int, dict[str, np.ndarray]]]


@dataclass
class OutputError:
    """One output's error over all evaluation samples."""

    comparison: TensorComparison
    nan: tuple[int, int]  # reference, candidate
    inf: tuple[int, int]
    judgement: OutputJudgement | None = None

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
            **({"judgement": self.judgement.to_dict()} if self.judgement else {}),
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
    batch: int = 1
    task_note: str = ""  # how the task was chosen, when pt2trt chose it
    notes: list[str] = field(default_factory=list)

    @property
    def agreement(self) -> float | None:
        """The task's primary agreement (top-1 for classify), or None without a task."""
        if self.task is None:
            return None
        value = self.task.metrics.get(PRIMARY_METRIC.get(self.task.task, ""))
        return float(value) if value is not None else None

    @property
    def counted(self) -> Agreement | None:
        """The task's deciding figure as a count with its interval."""
        return agreement_of(self.task) if self.task is not None else None

    @property
    def collapsed(self) -> list[OutputError]:
        return [o for o in self.outputs if o.judgement is not None and o.judgement.collapsed]

    @property
    def new_nonfinite(self) -> int:
        return sum(max(0, o.nan[1] - o.nan[0]) + max(0, o.inf[1] - o.inf[0]) for o in self.outputs)

    def to_dict(self) -> dict[str, Any]:
        task = None
        if self.task is not None:
            task = {k: v for k, v in self.task.to_dict().items() if k != "per_image"}
        counted = self.counted
        return {
            "samples": self.samples,
            "source": self.source,
            "batch": self.batch,
            "passed": self.passed,
            "target_agreement": self.target,
            "agreement": self.agreement,
            "agreement_counts": counted.to_dict() if counted else None,
            "reasons": self.reasons,
            "notes": self.notes,
            "task_note": self.task_note,
            "runtime": self.runtime,
            "outputs": [o.to_dict() for o in self.outputs],
            "task": task,
            "seconds": round(self.seconds, 3),
        }

    def headline(self) -> str:
        """The figure the verdict rests on, with its count: the task agreement, else the outputs' verdicts."""
        counted = self.counted
        if counted is not None:
            return counted.text()
        judged = [o.judgement for o in self.outputs if o.judgement is not None]
        verdicts = [j for j in judged if j.verdict != "not compared"]
        if not verdicts:
            return f"no output compared on {self.samples} samples"
        worst = min(verdicts, key=lambda j: min(j.cosine or 0.0, j.correlation if j.correlation is not None else 1))
        counts = {v: sum(1 for j in verdicts if j.verdict == v) for v in ("close", "degraded", "collapsed")}
        summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        return (
            f"{len(verdicts)} outputs judged on {self.samples} samples: {summary} (worst {worst.name}: {worst.text()})"
        )

    def lines(self) -> list[str]:
        out = []
        if self.task_note:
            out.append(self.task_note)
        if self.task is not None:
            out.append(f"{self.task.task} on {self.samples} held-apart samples: " + "; ".join(self.task.summary()))
            counted = self.counted
            if counted is not None:
                out.append(counted.text())
        for o in self.outputs:
            c = o.comparison
            cos = f", cosine {c.cosine_similarity:.6f}" if c.cosine_similarity is not None else ""
            stats = (
                f"max abs error {c.max_abs_error:.4g}, mean {c.mean_abs_error:.4g}{cos}; "
                if c.max_abs_error is not None
                else ""
            )
            verdict = f"; {o.judgement.text()}" if o.judgement is not None else ""
            out.append(
                f"output {c.name}: {stats}NaN {o.nan[1]} (FP32 {o.nan[0]}), Inf {o.inf[1]} (FP32 {o.inf[0]}){verdict}"
            )
        return out + self.notes


def run_outputs(
    model: OnnxModel | Path | bytes, samples: Samples, batch: int, static: bool, *, emulate_fp16: bool = False
) -> Batches:
    """``model``'s outputs on ONNX Runtime's CPU provider, batch by batch over ``samples`` (a handle gives the
    runtime the bytes it holds: the file is not read again).

    ``emulate_fp16``: run :func:`pt2trt.precision.emulate.emulate_fp16` of the model instead (FP16 storage rounding,
    which ONNX Runtime's CPU provider would otherwise hide).
    """
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner

    if emulate_fp16:
        return _run_emulated(model, samples, batch, static)
    batches: Batches = []
    with OnnxRuntimeRunner(model) as runner:
        wanted = {m.name: m.dtype for m in runner.input_metadata()}
        for feed, count in samples.batches(batch, pad=static):
            typed = {k: v.astype(wanted.get(k, v.dtype), copy=False) for k, v in feed.items()}
            outputs = runner.infer(typed, check=False)
            batches.append((count, _cut({k: np.asarray(v) for k, v in outputs.items()}, count, batch, static)))
    return batches


def settle_batch(model: OnnxModel | Path | bytes, samples: Samples, batch: int, static: bool) -> int:
    """``batch`` when one run of that many samples gives outputs that all carry them along axis 0, else 1: the
    recorded output shapes can say ``batch`` for outputs that hold one image (or a data-dependent count)."""
    if static or batch <= 1 or len(samples) < 2:
        return batch
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner

    size = min(batch, len(samples))
    feed, count = next(samples.batches(size))
    with OnnxRuntimeRunner(model) as runner:
        wanted = {m.name: m.dtype for m in runner.input_metadata()}
        outputs = runner.infer({k: v.astype(wanted.get(k, v.dtype), copy=False) for k, v in feed.items()}, check=False)
    carried = all(np.ndim(v) and np.shape(v)[0] == count for v in outputs.values())
    return batch if carried else 1


def _cut(outputs: dict[str, np.ndarray], count: int, batch: int, static: bool) -> dict[str, np.ndarray]:
    """The real samples' part of a padded static batch."""
    if not static or count == batch:
        return outputs
    return {k: v[:count] if v.ndim and v.shape[0] == batch else v for k, v in outputs.items()}


def _run_emulated(model: OnnxModel | Path | bytes, samples: Samples, batch: int, static: bool) -> Batches:
    import onnx
    import onnxruntime as ort

    from pt2trt.onnx.model import OnnxModel
    from pt2trt.precision.emulate import emulate_fp16, session_options

    proto = onnx.load_from_string(model) if isinstance(model, bytes) else OnnxModel.of(model).with_weights()
    session = ort.InferenceSession(
        emulate_fp16(proto).SerializeToString(), session_options(), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    batches: Batches = []
    for feed, count in samples.batches(batch, pad=static):
        floats = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in feed.items()}
        outputs = dict(zip(names, session.run(names, floats)))
        batches.append((count, _cut(outputs, count, batch, static)))
    return batches


def guess_task(outputs: Batches, samples: Samples) -> tuple[str | None, str]:
    """``classify`` for an image model with one ``[N, classes]`` output, else None; with the sentence saying so."""
    if not outputs or not samples.feeds:
        return None, ""
    first = next(iter(samples.feeds[0].values()))
    values = outputs[0][1]
    if len(values) == 1 and first.ndim == 4:
        ((name, value),) = values.items()
        if value.ndim == 2 and value.shape[1] > 1 and value.dtype.kind == "f":
            return "classify", (
                f"task: classify, guessed from the one output {name} [N, {value.shape[1]}] of an image model "
                "(--task none judges the outputs only)"
            )
    return None, "no task metric (pass --task classify|detect|segment for one): each output judged on its own"


def measure(
    reference: Batches,
    candidate: OnnxModel | Path | bytes,
    samples: Samples,
    *,
    batch: int,
    static: bool,
    task: str | None = None,
    target: float | None = None,
    emulate_fp16: bool = False,
) -> Accuracy:
    """Compare ``candidate``'s outputs with the FP32 ``reference`` outputs on the same ``samples``."""
    start = time.perf_counter()
    cand = run_outputs(candidate, samples, batch, static, emulate_fp16=emulate_fp16)
    outputs = [_output_error(name, reference, cand) for name in reference[0][1]] if reference else []
    note = ""
    if task is None:
        task, note = guess_task(reference, samples)
    elif task == NO_TASK:
        task, note = None, "task: none (--task none): each output judged on its own"
    comparison = _compare_task(task, reference, cand, samples, target, guessed=bool(note)) if task else None
    result = Accuracy(len(samples), samples.source, outputs, comparison, target, True, batch=batch, task_note=note)
    if emulate_fp16:
        result.runtime = "onnxruntime-cpu, FP16 storage emulated (pt2trt.precision.emulate)"
    _verdict(result, target)
    result.seconds = time.perf_counter() - start
    return result


def _output_error(name: str, reference: Batches, candidate: Batches) -> OutputError:
    refs = [outputs[name] for _, outputs in reference]
    gots = [outputs.get(name) for _, outputs in candidate]
    pairs = [(np.asarray(a), np.asarray(b)) for a, b in zip(refs, gots) if b is not None]
    same = [(a, b.astype(a.dtype, copy=False)) for a, b in pairs if a.shape == b.shape]
    if same:
        flat_a = np.concatenate([a.reshape(-1) for a, _ in same])
        flat_b = np.concatenate([b.reshape(-1) for _, b in same])
        comparison = compare_tensors(name, flat_a, flat_b, rtol=1e-2, atol=1e-3)
    else:
        comparison = TensorComparison(name, False, None, None, note="shapes differ on every sample")
    nan = inf = (0, 0)
    for a, b in pairs:
        fa, fb = np.asarray(a, np.float64), np.asarray(b, np.float64)
        nan = (nan[0] + int(np.isnan(fa).sum()), nan[1] + int(np.isnan(fb).sum()))
        inf = (inf[0] + int(np.isinf(fa).sum()), inf[1] + int(np.isinf(fb).sum()))
    judged = judge_output(name, [a for a, _ in pairs], [b for _, b in pairs])
    return OutputError(comparison, nan, inf, judged)


def _compare_task(
    task: str, reference: Batches, candidate: Batches, samples: Samples, target: float | None, *, guessed: bool
) -> TaskComparison | None:
    """Decode both sides batch by batch and compare the per-image results; a guessed task that does not fit the
    outputs is dropped (a given one is an error naming quantize's options)."""
    from pt2trt.comparators.tasks import compare_results
    from pt2trt.imaging.preprocess import Transform
    from pt2trt.tasks import make_task

    first = next(iter(samples.feeds[0].values()))
    if first.ndim != 4:
        if guessed:
            return None
        raise Pt2trtError(
            f"--task {task} needs an image input [N, C, H, W]; the first input has shape {list(first.shape)}",
            "Pass --task none to judge each output on its own",
        )
    _, d1, d2, d3 = first.shape
    height, width = (d2, d3) if d1 in (1, 3) or d3 not in (1, 3) else (d1, d2)
    decoder = make_task(task)
    ref_results, cand_results = [], []
    try:
        for (count, ref), (_, cand) in zip(reference, candidate):
            transforms = [Transform.identity(width, height)] * count
            ref_results += decoder.decode(ref, transforms)
            cand_results += decoder.decode({k: v.astype(np.float32) if v.dtype.kind == "f" else v
                                            for k, v in cand.items()}, transforms)  # fmt: skip
    except Pt2trtError as exc:
        if guessed:
            return None
        raise Pt2trtError(
            f"--task {task} cannot read this model's outputs: {exc.message}",
            "Pass the task the model was trained for, or --task none to judge each output on its own",
        ) from None
    minimum = target if target is not None else DEFAULT_MIN_AGREEMENT
    return compare_results(decoder.name, ref_results, cand_results, min_agreement=minimum)


def _verdict(result: Accuracy, target: float | None) -> None:
    if result.new_nonfinite:
        result.passed = False
        result.reasons.append(f"the converted model produced {result.new_nonfinite} NaN/Inf values FP32 did not")
    for output in result.collapsed:  # without a task metric, each output is the verdict
        assert output.judgement is not None
        if result.task is None:
            result.passed = False
            result.reasons.append(f"output {output.comparison.name} collapsed ({output.judgement.figures()})")
        else:
            result.notes.append(
                f"note: output {output.comparison.name} differs element-wise ({output.judgement.figures()}); the "
                f"{result.task.task} results decide"
            )
    counted = result.counted
    if target is not None:
        agreement = result.agreement
        if agreement is None:
            result.reasons.append("no task metric to check --target-agreement against (give --task)")
            result.passed = False
        elif agreement < target:
            result.passed = False
            result.reasons.append(f"agreement {agreement:.4f} is below the target {target:g}")
    if counted is not None:
        few = counted.too_few(target)
        if few:
            result.notes.append(f"note: {few}")
