"""``quantize``: FP32 ONNX -> mixed FP16 or INT8 Q/DQ ONNX, calibrated on real data, with its accuracy cost measured.

Steps, each with explicit inputs: load the samples (calibration, and held-apart ones to measure on), collect
activation statistics once, convert (FP16 analysis + pt2trt's Cast writer, or ONNX Runtime's Q/DQ quantizer),
measure against FP32 on the held-apart samples, optionally keep the worst INT8 layers in float until the agreement
target is met (``--auto-exclude``) or the task metric's drop on labelled data is within ``--max-drop``
(:mod:`pt2trt.precision.metric_search`), record everything in the output's ``pt2trt.*`` metadata and publish the file
atomically. The model travels as one handle (:class:`~pt2trt.onnx.model.OnnxModel`): parsed once, its bytes handed
to ONNX Runtime; each converted model is measured from the proto just written, not read back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import check_writable, publish, staging_dir
from pt2trt.onnx.model import ModelLike, OnnxModel
from pt2trt.precision.accuracy import Accuracy
from pt2trt.precision.autoexclude import Int8State, candidate_handle
from pt2trt.precision.job import Job, Progress, fp32_runs
from pt2trt.precision.names import Layer, NodeNames
from pt2trt.precision.saving import save_model
from pt2trt.settings.precision import QUANTIZE_PRECISIONS, QuantizeSettings

if TYPE_CHECKING:
    import onnx

    from pt2trt.precision.autoexclude import LayerRanking
    from pt2trt.precision.metric_search import LabelledScorer, MetricCheck
    from pt2trt.precision.statistics import Statistics

PRECISIONS = QUANTIZE_PRECISIONS
KEY = "pt2trt.precision"


@dataclass
class QuantizeResult:
    """What ``quantize`` wrote and what it measured; ``model``: the output's handle (parsed: no need to read it)."""

    output: Path
    precision: str
    kept_fp32: list[Layer]
    excluded: list[Layer]
    calibration: dict[str, Any]
    accuracy: Accuracy
    method: str | None = None
    seconds: float = 0.0
    size_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    #: the task metric on labelled data (``--eval``), and the ``--max-drop`` search's steps
    evaluation: MetricCheck | None = None
    model: OnnxModel | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.accuracy.passed and (self.evaluation is None or self.evaluation.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "precision": self.precision,
            "method": self.method,
            "kept_fp32": [layer.to_dict() for layer in self.kept_fp32],
            "excluded": [layer.to_dict() for layer in self.excluded],
            "calibration": self.calibration,
            "accuracy": self.accuracy.to_dict(),
            "evaluation": self.evaluation.to_dict() if self.evaluation is not None else None,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "size_bytes": self.size_bytes,
            "warnings": self.warnings,
            **self.details,
        }


@dataclass
class _Conversion:
    """The converted model and what was measured of it."""

    proto: onnx.ModelProto
    kept: list[Layer]
    excluded: list[Layer]
    accuracy: Accuracy
    details: dict[str, Any]
    evaluation: MetricCheck | None = None


def quantize(
    model: ModelLike, output: str | Path, settings: QuantizeSettings, *, progress: bool = True
) -> QuantizeResult:
    """Convert ``model`` (a handle or an ONNX file) as ``settings`` say, write ``output``, and measure what it cost.

    ``progress``: a progress bar and the notes on stderr (the CLI); without it the notes are only in
    ``result.warnings``. ``result.passed`` is false (the file is written anyway, its verdict recorded in it) when an
    output collapsed, NaN/Inf appeared, the agreement target was missed or the task metric dropped past
    ``--max-drop``.
    """
    start = time.perf_counter()
    handle = OnnxModel.of(model)
    names = NodeNames(handle.with_weights())
    out = _output_path(handle, output, settings.force)
    names.resolve(settings.layer_names, settings.layer_flag)  # fail early
    _check_evaluation(settings)
    job = Job.start(handle, settings, Progress(progress))
    with job.bar:
        stats, reference = fp32_runs(job)
        calibration = {**job.calib.summary(), "statistics": stats.summary()}
        if settings.precision == "int8":
            calibration["method"] = settings.int8.method
        with staging_dir(out) as tmp:
            staged = tmp / out.name
            measured: Callable[[OnnxModel], Accuracy] = lambda candidate: job.measure(reference, candidate)  # noqa: E731
            if settings.precision == "fp16":
                conversion = _fp16(job, stats, staged, measured)
            else:
                conversion = _int8(job, names, stats, staged, measured)
            _record(conversion, job, calibration)
            save_model(conversion.proto, staged)
            written = staged.stat().st_size
            data = staged.with_name(staged.name + ".data")  # external weights of a model over 2 GB
            if data.exists():
                publish(data, out.with_name(out.name + ".data"), replace=settings.force)
            publish(staged, out, replace=settings.force)
    return QuantizeResult(
        out, settings.precision, conversion.kept, conversion.excluded, calibration, conversion.accuracy,
        settings.int8.method if settings.precision == "int8" else None, time.perf_counter() - start, written,
        job.warnings, conversion.details, conversion.evaluation, candidate_handle(out, conversion.proto),
    )  # fmt: skip


def _output_path(handle: OnnxModel, output: str | Path, force: bool) -> Path:
    out = check_writable(output, force=force)
    if handle.path is not None and out.resolve() == handle.path.resolve():
        raise UsageError("the output would overwrite the model", "Choose another -o path")
    return out


def _check_evaluation(settings: QuantizeSettings) -> None:
    """``--eval``: labelled data that exists, and a task with a metric (checked before any work)."""
    evaluation = settings.evaluation
    if evaluation is None:
        return
    from pt2trt.evaluation.results import TASK_METRICS
    from pt2trt.precision.data import ARRAY_SUFFIXES

    path = Path(evaluation.data)
    if path.suffix.lower() in ARRAY_SUFFIXES:
        raise UsageError(
            f"--eval takes labelled data (an ImageFolder, COCO, YOLO or masks); {path.name} holds unlabelled arrays",
            f"Pass them with --holdout {path} to measure the agreement with FP32 on them",
        )
    if not path.exists():
        raise Pt2trtError(
            f"--eval {path} not found",
            "Give labelled data as pt2trt eval reads it: an ImageFolder (a folder per class), a COCO JSON file, a YOLO "
            "data .yaml or a folder of images/ and masks/",
        )
    if settings.task is not None and settings.task not in TASK_METRICS:
        raise UsageError(
            f"--eval scores a task's metric; --task {settings.task} has none",
            f"Pass --task {' or '.join(TASK_METRICS)}",
        )


def _fp16(job: Job, stats: Statistics, staged: Path, measured: Callable[[OnnxModel], Accuracy]) -> _Conversion:
    from pt2trt.precision.fp16 import analyse_fp16, convert_fp16

    s = job.settings.fp16
    proto = job.handle.with_weights()
    kept = analyse_fp16(proto, stats, keep_fp32=s.keep_fp32)
    converted = convert_fp16(proto, [layer.node for layer in kept], fp16_io=s.fp16_io)
    save_model(converted, staged)
    candidate = candidate_handle(staged, converted)
    accuracy = measured(candidate)
    details = {"fp16_io": s.fp16_io, "fp16_nodes": _fp16_nodes(converted)}
    evaluation = None
    if job.settings.evaluation is not None:  # scored with FP16 storage emulated too (ONNX Runtime's CPU would hide it)
        from pt2trt.precision.emulate import emulate_fp16

        emulated = OnnxModel(proto=emulate_fp16(converted))
        evaluation = _labelled(job, accuracy).pair(job.handle, emulated, job.settings.evaluation.max_drop)
        evaluation.notes.append("FP16 scored with FP16 storage emulated (pt2trt.precision.emulate)")
    return _Conversion(converted, kept, [], accuracy, details, evaluation)


def _int8(
    job: Job, names: NodeNames, stats: Statistics, staged: Path, measured: Callable[[OnnxModel], Accuracy]
) -> _Conversion:
    from pt2trt.precision.autoexclude import Int8Writer, LayerRanking, auto_exclude
    from pt2trt.precision.int8 import qdq_summary

    s = job.settings.int8
    chosen = names.resolve(s.exclude, "--exclude")
    excluded = [names.layer(i, f"--exclude {name}") for i, name in chosen.items()]
    writer = Int8Writer(job.handle.with_weights(), stats, s.method, staged)
    converted, candidate = writer.write(excluded)
    state = Int8State(excluded, converted, candidate, measured(candidate))
    ranking = LayerRanking(writer, names, job.rank_feed())
    rounds: list[dict[str, Any]] = []
    if s.auto_exclude and not state.accuracy.passed:
        state, rounds = auto_exclude(state, ranking, measured, s.max_exclusions)
    evaluation = None
    if job.settings.evaluation is not None:
        state, evaluation = _int8_metric(job, state, ranking, measured)
    details: dict[str, Any] = {"qdq": qdq_summary(state.proto)}
    if s.auto_exclude:
        details["auto_exclude"] = {"rounds": rounds, "limit": s.max_exclusions, "target_met": state.accuracy.passed}
    return _Conversion(state.proto, [], state.excluded, state.accuracy, details, evaluation)


def _int8_metric(
    job: Job, state: Int8State, ranking: LayerRanking, measured: Callable[[OnnxModel], Accuracy]
) -> tuple[Int8State, MetricCheck]:
    """The INT8 model scored on labelled data; with ``--max-drop``, the fewest layers in float that keep the drop
    within it (the model written and measured again when the search changed it)."""
    from pt2trt.precision.metric_search import MetricSearch

    evaluation = job.settings.evaluation
    assert evaluation is not None
    scorer = _labelled(job, state.accuracy)
    if evaluation.max_drop is None:
        return state, scorer.pair(job.handle, state.candidate, None)
    limits = (evaluation.max_drop, job.settings.int8.max_exclusions)
    search = MetricSearch(scorer, ranking, limits, job.bar.status)
    added, check = search.run(job.handle, state)
    assert search.proto is not None and search.candidate is not None
    accuracy = measured(search.candidate) if added else state.accuracy
    return Int8State([*state.excluded, *added], search.proto, search.candidate, accuracy), check


def _labelled(job: Job, accuracy: Accuracy) -> LabelledScorer:
    """The scorer of ``--eval``'s labelled data: the task given, else the one guessed for the agreement (said in its
    note); every model fed the preprocessing the calibration samples went through."""
    from pt2trt.evaluation.results import TASK_METRICS
    from pt2trt.precision.metric_search import LabelledScorer
    from pt2trt.settings import PreprocessSettings

    evaluation = job.settings.evaluation
    assert evaluation is not None
    task = job.settings.task
    if task is None and accuracy.task is not None:
        task = accuracy.task.task
    if task not in TASK_METRICS:
        raise UsageError(
            "--eval scores a task's metric, and the model's task is unknown", f"Pass --task {' or '.join(TASK_METRICS)}"
        )
    recipe = job.calib.recipe
    preprocess = PreprocessSettings(recipe) if recipe is not None else job.settings.preprocess
    return LabelledScorer(evaluation, task, preprocess, job.settings.limit, job.batch)


def _fp16_nodes(model: onnx.ModelProto) -> dict[str, int]:
    """How many compute nodes run in FP16 and how many stayed FP32 (Cast nodes not counted)."""
    import onnx

    types: dict[str, int] = {v.name: v.type.tensor_type.elem_type for v in model.graph.value_info}
    types.update({v.name: v.type.tensor_type.elem_type for v in model.graph.output})
    half = full = 0
    for node in model.graph.node:
        if node.op_type in ("Cast", "Constant"):
            continue
        kinds = {types.get(t) for t in node.output}
        if onnx.TensorProto.FLOAT16 in kinds:
            half += 1
        elif onnx.TensorProto.FLOAT in kinds:
            full += 1
    return {"fp16": half, "fp32": full}


def _record(conversion: _Conversion, job: Job, calibration: dict[str, Any]) -> None:
    """The ``pt2trt.precision.*`` records, and the image preprocessing the samples went through (so that predict and
    compare feed the converted model as it was calibrated)."""
    from pt2trt.onnx.metadata import PREPROCESSING, write_metadata

    accuracy = conversion.accuracy
    compact = {k: v for k, v in accuracy.to_dict().items() if k not in ("outputs",)}
    compact["nan_inf_added"] = accuracy.new_nonfinite
    if job.calib.recipe is not None:
        write_metadata(conversion.proto, {PREPROCESSING: job.calib.recipe.to_json()})
    records = {
        KEY: job.settings.precision,
        KEY + ".kept_fp32": json.dumps([x.to_dict() for x in conversion.kept]),
        KEY + ".excluded": json.dumps([x.to_dict() for x in conversion.excluded]),
        KEY + ".calibration": json.dumps(calibration),
        KEY + ".accuracy": json.dumps(compact, default=float),
    }
    if conversion.evaluation is not None:
        records[KEY + ".evaluation"] = json.dumps(conversion.evaluation.to_dict(), default=float)
    write_metadata(conversion.proto, records)
