"""Run every model (on every backend) over the same labelled data and score it: :func:`evaluate`.

Each model goes through the prediction path (:class:`~pt2trt.prediction.predict.Predictor`: decoding and
preprocessing in worker threads, batches, the task's decoding into original-image pixels); its answers go to the
task's scorer (``SCORERS``). The first model is the reference: the others get deltas with a paired read of
significance on the same images (one bootstrap draw shared by all models).
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.evaluation import SCORERS
from pt2trt.evaluation.datasets import LabelledData
from pt2trt.evaluation.loading import load_dataset
from pt2trt.evaluation.progress import Progress
from pt2trt.evaluation.results import EvalReport, ModelEvaluation
from pt2trt.evaluation.scoring import Scorer, Scores, ScoringContext
from pt2trt.evaluation.settings import EvalSettings
from pt2trt.evaluation.significance import Bootstrap


@dataclass
class _Run:
    """One model on one backend: its predictor, its scorer and (once run) its scores."""

    predictor: Any
    scorer: Scorer
    evaluation: ModelEvaluation | None = None
    scores: Scores | None = None


def evaluate(
    models: Sequence[Any] | Any,
    data: str | Path | LabelledData,
    task: str,
    settings: EvalSettings | None = None,
) -> EvalReport:
    """Score ``models`` on the labelled ``data`` for ``task`` (classify, detect, segment); the first is the reference.

    ``data`` is a path (an ImageFolder, a COCO JSON file, a YOLO data .yaml or folder, a folder of index-PNG masks)
    or a dataset already loaded (:func:`pt2trt.evaluation.datasets.load_dataset`). ``settings``
    (:class:`EvalSettings`): backends, preprocessing, runner, reading, decoding, labels, the data's options, the
    statistics and the ``max_drop`` gate::

        settings = EvalSettings(max_drop=1.0)
        report = pt2trt.evaluate(["digits.onnx", "digits-int8.onnx"], "digits/", "classify", settings)
        print(report.evaluations[1].metrics["top1"], report.passed)
    """
    settings = settings or EvalSettings()
    if task not in SCORERS:
        raise UsageError(f"eval has no metrics for task '{task}'", f"Use --task {', '.join(SCORERS)}")
    model_list = [models] if isinstance(models, str | Path) or not isinstance(models, Sequence) else list(models)
    if not model_list:
        raise UsageError("no model to evaluate", "Pass one model or more (the first is the reference)")
    dataset = data if isinstance(data, LabelledData) else _load(task, data, settings)
    if settings.limit is not None:
        dataset = dataset.first(settings.limit)
    if len(dataset) == 0:
        raise Pt2trtError(f"the data {dataset.root} holds no labelled pictures", "Check --data (and --images)")
    runs = [_prepare(model, backend, task, dataset, settings) for model in model_list for backend in settings.backends]
    notes = list(dataset.notes) + _share_preprocessing(runs, settings)
    save = _save_folders(settings, runs) if settings.save is not None else None
    with Progress(settings.progress) as progress:
        for run in runs:
            _run(run, dataset, settings, progress)
    _compare(runs, settings)
    if save is not None:
        _save_changed(runs, dataset, save, settings)
    evaluations = [run.evaluation for run in runs if run.evaluation is not None]
    return EvalReport(task, dataset.describe(), len(dataset), evaluations, settings.max_drop, notes)


def _load(task: str, data: str | Path, settings: EvalSettings) -> LabelledData:
    from pt2trt.tasks import Labels

    labels = settings.labels if isinstance(settings.labels, Labels) else Labels.load(settings.labels)
    return load_dataset(task, data, images=settings.images, labels=labels, split=settings.split)


def _prepare(model: Any, backend: str, task: str, dataset: LabelledData, settings: EvalSettings) -> _Run:
    from pt2trt.evaluation.class_map import recorded_names
    from pt2trt.prediction.predict import Predictor
    from pt2trt.settings import PredictSettings

    decoding = settings.decoding_for(task)
    runner = replace(settings.runner, backend=backend)
    predict = PredictSettings(decoding, settings.preprocess, runner, settings.read, settings.labels)
    predictor = Predictor(model, predict)
    context = ScoringContext(
        labels=predictor.labels,
        model_names=recorded_names(predictor.model.metadata),
        class_map=str(settings.class_map) if settings.class_map is not None else None,
        keep=settings.save is not None,
        draw_conf=max(0.25, decoding.conf),
    )
    module, _, name = SCORERS[task].partition(":")
    scorer = getattr(importlib.import_module(module), name)(dataset, context)
    return _Run(predictor, scorer)


def _share_preprocessing(runs: list[_Run], settings: EvalSettings) -> list[str]:
    """Models without a recorded preprocessing take the first one recorded among the models (as ``compare`` does)."""
    if settings.preprocess.preprocess is not None:
        return []
    from pt2trt.prediction.image_model import choose_preprocess

    source = next((r for r in runs if r.predictor.model.recorded is not None), None)
    if source is None:
        return []
    notes = []
    for run in runs:
        model = run.predictor.model
        if model.recorded is None:
            shared = replace(settings.preprocess, preprocess=source.predictor.model.recorded)
            model.preprocess = choose_preprocess(shared, None, "")
            notes.append(
                f"{model.name} records no preprocessing: it is fed the one recorded in {source.predictor.model.name}"
            )
    return notes


def _run(run: _Run, dataset: LabelledData, settings: EvalSettings, progress: Progress) -> None:
    predictor, scorer = run.predictor, run.scorer
    label = f"{predictor.model.name} ({predictor.model.backend})"
    paths = [sample.path for sample in dataset.samples]
    with predictor, contextlib.closing(_closable(scorer.targets(settings.read.workers))) as targets:
        bar = progress.add(label, len(paths))
        start = time.perf_counter()
        for index, (prediction, target) in enumerate(zip(predictor.run(paths), targets)):
            scorer.add(index, prediction.result, target, predictor.task)
            progress.advance(bar, index + 1)
        seconds = time.perf_counter() - start
    scorer.context.labels = predictor.labels  # "coco" resolved to 80 or 91 names once the outputs were seen
    scores = scorer.finish(predictor.task)
    run.scores = scores
    run.evaluation = ModelEvaluation(
        model=str(predictor.model.name),
        backend=predictor.model.backend,
        preprocess=predictor.preprocess.describe(),
        metrics=dict(scores.metrics),
        per_class=scores.per_class,
        images=len(paths),
        seconds=seconds,
        notes=list(predictor.model.notes) + list(scores.notes),
        warnings=list(predictor.warnings),
    )


class _closable:
    """An iterator with a ``close`` (generators have one; a plain iterator gets a no-op)."""

    def __init__(self, iterator: Any) -> None:
        self.iterator = iterator

    def __iter__(self) -> Any:
        return self.iterator

    def close(self) -> None:
        close = getattr(self.iterator, "close", None)
        if close is not None:
            close()


def _compare(runs: list[_Run], settings: EvalSettings) -> None:
    reference = runs[0]
    assert reference.evaluation is not None and reference.scores is not None
    reference.evaluation.reference = True
    if len(runs) == 1:
        return
    images = len(reference.scorer.data)
    bootstrap = Bootstrap.draw(images, settings.bootstrap, settings.seed) if settings.bootstrap else None
    for run in runs[1:]:
        assert run.evaluation is not None and run.scores is not None
        run.evaluation.deltas = run.scores.deltas(reference.scores, bootstrap)
        run.evaluation.changed = len(run.scores.changed(reference.scores))


def _save_folders(settings: EvalSettings, runs: list[_Run]) -> list[Path]:
    from pt2trt.evaluation.changed import save_folders

    assert settings.save is not None
    return save_folders(Path(settings.save), [(r.predictor.model.name, r.predictor.model.backend) for r in runs],
                        force=settings.force)  # fmt: skip


def _save_changed(runs: list[_Run], dataset: LabelledData, folders: list[Path], settings: EvalSettings) -> None:
    from pt2trt.evaluation.changed import Side, save_changed

    reference = runs[0]
    assert reference.scores is not None and reference.evaluation is not None
    ref_side = Side(reference.evaluation.label, reference.scorer, reference.predictor.task, reference.predictor.labels)
    for run, folder in zip(runs[1:], folders[1:]):
        assert run.scores is not None and run.evaluation is not None
        changed = run.scores.changed(reference.scores)
        side = Side(run.evaluation.label, run.scorer, run.predictor.task, run.predictor.labels)
        run.evaluation.saved = [str(p) for p in save_changed(folder, dataset, ref_side, side, changed, settings.force)]
