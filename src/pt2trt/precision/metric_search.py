"""``--eval DATA --max-drop POINTS``: the task metric on labelled data, and the fewest INT8 layers kept in float that
bring its drop within the limit.

The metric is the task's primary one as ``pt2trt eval`` scores it (top1, map, miou: :mod:`pt2trt.evaluation`), on
the same labelled pictures for FP32 and every trial. The search is greedy, then pruned:

1. score FP32 and the plain INT8 model;
2. while the drop exceeds the limit: rank the quantized layers of the current model by the error each adds
   (:class:`~pt2trt.precision.autoexclude.LayerRanking`, ``debug layers`` on a few calibration samples), keep the
   worst in float, quantize again and score it (an exclusion stays even when the metric does not move yet: two
   layers reading one outlier range only help together);
3. once within the limit, try each kept layer quantized again, the first kept first: it goes back to INT8 when the
   drop stays within the limit without it.

It stops at ``max_exclusions`` layers, or when no quantized layer is left to rank; the best model found is then the
one written, and the check fails.

NNCF's ``quantize_with_accuracy_control`` was tried first (docs/precision.md: what it kept, the lint of its Q/DQ).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError
from pt2trt.precision.autoexclude import Int8State, LayerRanking
from pt2trt.precision.names import Layer

if TYPE_CHECKING:
    import onnx

    from pt2trt.evaluation.datasets import LabelledData
    from pt2trt.onnx.model import OnnxModel
    from pt2trt.settings import PreprocessSettings
    from pt2trt.settings.precision import LabelledEval

#: (text) -> None: what the search is doing, for a progress display
Status = Callable[[str], None]


@dataclass
class MetricStep:
    """One scored model: what changed (``INT8``, ``+ LAYER`` kept in float, ``- LAYER`` tried in INT8 again), how
    many layers it leaves in float, its metric (a fraction) and drop (points), and whether the change stayed."""

    change: str
    layers: int
    value: float
    drop: float
    kept: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "layers_in_float": self.layers,
            "value": round(self.value, 6),
            "drop_points": round(self.drop, 4),
            "kept": self.kept,
        }


@dataclass
class MetricCheck:
    """FP32 and the result scored on ``images`` labelled pictures of ``data`` by ``metric``; with ``max_drop``, the
    search's steps and the layers it kept in float."""

    task: str
    metric: str
    data: str
    images: int
    fp32: float
    value: float
    max_drop: float | None
    steps: list[MetricStep] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    stopped: str = ""  # why the search ended without meeting the limit
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def drop(self) -> float:
        """Points of ``metric`` the result lies below FP32 (negative: above)."""
        return points(self.fp32, self.value)

    @property
    def passed(self) -> bool:
        return self.max_drop is None or within(self.drop, self.max_drop)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "metric": self.metric,
            "data": self.data,
            "images": self.images,
            "fp32": round(self.fp32, 6),
            "value": round(self.value, 6),
            "drop_points": round(self.drop, 4),
            "max_drop": self.max_drop,
            "passed": self.passed,
            "steps": [s.to_dict() for s in self.steps],
            "kept_in_float": [x.to_dict() for x in self.layers],
            "stopped": self.stopped,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }

    def headline(self) -> str:
        """``top1 98.2 % -> 97.6 % (-0.6 points) on 497 labelled images of DATA``."""
        return (
            f"{self.metric} FP32 {_pct(self.fp32)} -> {_pct(self.value)} ({signed(self.drop)} points) on {self.images} "
            f"labelled images of {self.data}"
        )

    def lines(self) -> list[str]:
        out = [self.headline() + (f", limit {self.max_drop:g} points" if self.max_drop is not None else "")]
        out += [
            f"  {s.change}: {self.metric} {_pct(s.value)} ({signed(s.drop)} points), {s.layers} layer(s) in float"
            + _outcome(s)
            for s in self.steps
        ]
        if self.stopped:
            out.append(f"  stopped: {self.stopped}")
        return out + self.notes


def _outcome(step: MetricStep) -> str:
    """What a step trying a layer in INT8 again decided."""
    if not step.change.startswith("- "):
        return ""
    return ": not needed, back in INT8" if step.kept else ": needed, stays in float"


def points(reference: float, value: float) -> float:
    """How many percentage points ``value`` lies below ``reference`` (fractions)."""
    return 100.0 * (reference - value)


def within(drop: float, limit: float) -> bool:
    return drop <= limit + 1e-9


def _pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def signed(drop: float) -> str:
    """A drop in points as the change it is: ``-3.02``, ``+0.40``, ``+0.00`` (never ``-0.00``)."""
    return f"{-drop + 0.0:+.2f}"


class LabelledScorer:
    """Scores ONNX models on labelled data with ``pt2trt eval``'s loaders and scorers: the task's primary metric.

    The data is read once; every model is fed the same ``preprocess`` (the one the calibration samples went through),
    ``batch`` pictures at a time.
    """

    def __init__(
        self, evaluation: LabelledEval, task: str, preprocess: PreprocessSettings, limit: int | None, batch: int
    ) -> None:
        from pt2trt.evaluation.results import TASK_METRICS
        from pt2trt.evaluation.settings import EvalSettings
        from pt2trt.settings import ReadSettings
        from pt2trt.tasks import Labels

        labels = Labels.load(evaluation.labels)
        self.task = task
        self.metric = TASK_METRICS[task][0]
        self.source = str(evaluation.data)
        self.dataset = _load(task, evaluation, labels, limit)
        self.settings = EvalSettings(preprocess=preprocess, read=ReadSettings(batch=batch), labels=labels, bootstrap=0)
        self.notes: list[str] = []
        self.scored = 0

    @property
    def images(self) -> int:
        return len(self.dataset)

    def score(self, model: OnnxModel) -> float:
        """``model``'s primary metric on the data (a fraction)."""
        from pt2trt.evaluation.runner import evaluate

        report = evaluate(model, self.dataset, self.task, self.settings)
        evaluation = report.evaluations[0]
        if not self.scored:  # what the first run says holds for all (preprocessing shared, data notes)
            self.notes = list(dict.fromkeys([*report.notes, *evaluation.notes, *evaluation.warnings]))
        self.scored += 1
        value = evaluation.metrics.get(self.metric)
        if value is None or math.isnan(value):
            raise Pt2trtError(
                f"{self.metric} of {model.name} is undefined on {self.source} (no ground truth it can be computed on)",
                "Give labelled data with examples of the model's classes to --eval",
            )
        return float(value)

    def pair(self, fp32: OnnxModel, result: OnnxModel, max_drop: float | None) -> MetricCheck:
        """FP32 and ``result`` scored, no search (FP16, or INT8 without ``--max-drop``): the check fails past
        ``max_drop``."""
        start = time.perf_counter()
        reference, value = self.score(fp32), self.score(result)
        return MetricCheck(
            self.task, self.metric, self.source, self.images, reference, value, max_drop,
            seconds=time.perf_counter() - start, notes=list(self.notes),
        )  # fmt: skip


def _load(task: str, evaluation: LabelledEval, labels: Any, limit: int | None) -> LabelledData:
    """The labelled data, its messages naming quantize's ``--eval`` (the loaders name eval's ``--data``)."""
    from pt2trt.evaluation.loading import load_dataset

    try:
        dataset = load_dataset(task, evaluation.data, labels=labels)
    except Pt2trtError as exc:
        hint = exc.hint.replace("--data", "--eval") if exc.hint else None
        raise type(exc)(exc.message.replace("--data", "--eval"), hint) from None
    if limit is not None:
        dataset = dataset.first(limit)
    if len(dataset) == 0:
        raise Pt2trtError(f"--eval {evaluation.data} holds no labelled pictures", "Check the folder's layout")
    return dataset


class MetricSearch:
    """The fewest layers in float that keep the metric's drop within ``max_drop`` (see the module's steps)."""

    def __init__(
        self, scorer: LabelledScorer, ranking: LayerRanking, limits: tuple[float, int], status: Status
    ) -> None:
        self.scorer = scorer
        self.ranking = ranking
        self.max_drop, self.max_exclusions = limits
        self.status = status
        self.scores: dict[tuple[str, ...], float] = {}  # layers added -> metric
        self.on_disk: tuple[str, ...] = ()
        self.fp32 = 0.0
        self.proto: onnx.ModelProto | None = None
        self.candidate: OnnxModel | None = None

    def run(self, fp32: OnnxModel, state: Int8State) -> tuple[list[Layer], MetricCheck]:
        """From ``state`` (INT8 with some layers in float, on disk): the layers to keep in float besides, and the
        check. Afterwards ``proto`` and ``candidate`` are the model on disk: ``state``'s with those layers."""
        start = time.perf_counter()
        base = state.excluded
        self.proto, self.candidate = state.proto, state.candidate
        self.status(f"scoring FP32 on {self.scorer.images} labelled images")
        self.fp32 = self.scorer.score(fp32)
        self.status(f"scoring INT8 on {self.scorer.images} labelled images")
        value = self.scorer.score(state.candidate)
        self.scores[()] = value
        label = "INT8" + (f" with {len(base)} layer(s) left in float" if base else "")
        check = MetricCheck(
            self.scorer.task, self.scorer.metric, self.scorer.source, self.scorer.images, self.fp32, value,
            self.max_drop, [MetricStep(label, len(base), value, points(self.fp32, value))],
        )  # fmt: skip
        added = self._grow(base, check)
        if within(points(self.fp32, self.scores[_key(added)]), self.max_drop):
            added = self._prune(base, added, check)
        else:
            added = self._best(added)
        if _key(added) != self.on_disk:
            self._write(base, added)
        check.value, check.layers = self.scores[_key(added)], added
        check.notes, check.seconds = list(self.scorer.notes), time.perf_counter() - start
        return added, check

    def _grow(self, base: list[Layer], check: MetricCheck) -> list[Layer]:
        """Keep the worst layer in float until the drop is within the limit, or the search cannot go on."""
        added: list[Layer] = []
        tried = {x.node for x in base}
        while not within(points(self.fp32, self.scores[_key(added)]), self.max_drop):
            if len(added) >= self.max_exclusions:
                check.stopped = f"{len(added)} layer(s) in float, the most --max-exclusions allows"
                break
            drop = points(self.fp32, self.scores[_key(added)])
            self.status(f"{len(added)} layer(s) in float, {self.scorer.metric} drop {drop:.2f} points: ranking")
            found = self.ranking.worst(tried, "--max-drop")
            if found is None:
                check.stopped = "no quantized layer left to keep in float"
                break
            layer, _ = found
            tried.add(layer.node)
            trial = [*added, layer]
            value = self._score(base, trial)
            step = MetricStep(f"+ {layer.label()}", len(base) + len(trial), value, points(self.fp32, value))
            check.steps.append(step)
            previous = self.scores[_key(added)]
            reason = f"{layer.reason}; {self.scorer.metric} {_pct(previous)} -> {_pct(value)}"
            added = [*added, replace(layer, reason=reason)]
        return added

    def _prune(self, base: list[Layer], added: list[Layer], check: MetricCheck) -> list[Layer]:
        """Each layer kept in float, first kept first, quantized again when the limit holds without it."""
        for layer in list(added):
            trial = [x for x in added if x.node != layer.node]
            if _key(trial) in self.scores and not within(points(self.fp32, self.scores[_key(trial)]), self.max_drop):
                continue  # scored before, and short of the limit
            self.status(f"{len(added)} layer(s) in float: trying {layer.node} in INT8 again")
            value = self._score(base, trial)
            ok = within(points(self.fp32, value), self.max_drop)
            check.steps.append(
                MetricStep(f"- {layer.label()}", len(base) + len(trial), value, points(self.fp32, value), kept=ok)
            )
            if ok:
                added = trial
        return added

    def _best(self, added: list[Layer]) -> list[Layer]:
        """Of the models the search scored (each a prefix of ``added``), the highest metric, then the fewest
        layers."""
        prefixes = [added[:n] for n in range(len(added) + 1) if _key(added[:n]) in self.scores]
        return max(prefixes, key=lambda p: (self.scores[_key(p)], -len(p)))

    def _score(self, base: list[Layer], added: list[Layer]) -> float:
        self._write(base, added)
        self.status(f"{len(base) + len(added)} layer(s) in float: scoring on {self.scorer.images} labelled images")
        assert self.candidate is not None
        value = self.scorer.score(self.candidate)
        self.scores[_key(added)] = value
        return value

    def _write(self, base: list[Layer], added: list[Layer]) -> None:
        self.proto, self.candidate = self.ranking.writer.write([*base, *added])
        self.on_disk = _key(added)


def _key(layers: list[Layer]) -> tuple[str, ...]:
    return tuple(sorted(x.node for x in layers))
