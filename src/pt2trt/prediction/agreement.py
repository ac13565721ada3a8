"""Run two models (or two backends of one model) on the same images and compare their task results.

Both sides get the same preprocessing: the one given, else the one recorded in model A, else in model B, else the
task's preset; a side with a dynamic input size takes the other side's static size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pt2trt.comparators.tasks import DEFAULT_MATCH_IOU, DEFAULT_MIN_AGREEMENT, TaskComparison, compare_results
from pt2trt.errors import Pt2trtError
from pt2trt.imaging.preprocess import Preprocess
from pt2trt.prediction.image_model import choose_preprocess
from pt2trt.prediction.predict import Predictor
from pt2trt.settings import PredictSettings, RunnerSettings, TaskSettings
from pt2trt.tasks import Result


@dataclass
class ModelComparison:
    """Task results of model A and model B on the same images, compared."""

    model_a: str
    backend_a: str
    model_b: str
    backend_b: str
    preprocess: Preprocess
    comparison: TaskComparison
    images: list[str] = field(default_factory=list)
    #: doubts about either side's results (misread layout, labels that do not fit), each once, "A: ..."/"B: ..."
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.comparison.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"model": self.model_a, "backend": self.backend_a},
            "b": {"model": self.model_b, "backend": self.backend_b},
            "preprocess": self.preprocess.to_dict(),
            "images": self.images,
            **self.comparison.to_dict(),
            "warnings": self.warnings,
        }


def compare_models(
    model_a: Any,
    model_b: Any,
    images: Sequence[str | Path],
    settings: PredictSettings | TaskSettings | str,
    *,
    runner_b: RunnerSettings | None = None,
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
    iou_threshold: float = DEFAULT_MATCH_IOU,
) -> ModelComparison:
    """Predict with both models on ``images`` and compare the results with the task's comparator.

    Both sides take ``settings`` (:class:`~pt2trt.settings.PredictSettings`); side B runs with ``runner_b`` when
    given (another backend, server or providers).
    """
    s = PredictSettings.of(settings)
    side_a = Predictor(model_a, s)
    side_b = Predictor(model_b, replace(s, runner=runner_b) if runner_b is not None else s)
    if s.preprocess.preprocess is None:
        recorded = side_a.model.recorded or side_b.model.recorded
        if recorded is not None:
            shared = choose_preprocess(replace(s.preprocess, preprocess=recorded), None, side_a.task.default_preset)
            side_a.model.preprocess = side_b.model.preprocess = shared
    results_a: list[Result] = []
    results_b: list[Result] = []
    names: list[str] = []
    with side_a, side_b:
        _same_size(side_a, side_b)
        for pa, pb in zip(side_a.run(images), side_b.run(images)):
            names.append(pa.name)
            results_a.append(pa.result)
            results_b.append(pb.result)
    comparison = compare_results(
        side_a.task.name, results_a, results_b, min_agreement=min_agreement, iou_threshold=iou_threshold
    )
    return ModelComparison(
        str(side_a.model.name),
        side_a.model.backend,
        str(side_b.model.name),
        side_b.model.backend,
        side_a.preprocess,
        comparison,
        names,
        [f"A: {w}" for w in side_a.warnings] + [f"B: {w}" for w in side_b.warnings],
    )


def _same_size(a: Predictor, b: Predictor) -> None:
    size_a, size_b = a.preprocess.size, b.preprocess.size
    if size_a == size_b:
        return
    static_a, static_b = a.model.static_size, b.model.static_size
    if static_a and static_b:
        raise Pt2trtError(
            f"the models take different input sizes ({static_a} and {static_b}): not comparable",
            "Compare models that take the same image size, or pass --size to resize for both",
        )
    if static_a:
        b.model.adopt_size(static_a)
    elif static_b:
        a.model.adopt_size(static_b)
    else:
        assert size_a is not None
        b.model.adopt_size(size_a)
