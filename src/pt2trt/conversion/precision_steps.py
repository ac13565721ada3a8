"""The precision steps of ``convert``: each reduced precision written and measured against FP32, then (with
``--eval``) PyTorch, FP32 and every precision scored on the user's labelled data, side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pt2trt.conversion.onnx_steps import recorded_preprocess
from pt2trt.conversion.record import PASSED, WARNING
from pt2trt.conversion.state import Outcome, State, StepFailed, cmd
from pt2trt.onnx.model import OnnxModel


def precision_step(precision: str) -> Callable[[State], Outcome]:
    """The step that writes ``model-PRECISION.onnx`` with ``pt2trt.precision.quantize`` and records its accuracy."""

    def step(state: State) -> Outcome:
        return _quantize(state, precision)

    return step


def _quantize(state: State, precision: str) -> Outcome:
    from pt2trt.precision import quantize

    s = state.settings
    final = state.model_file()
    assert final.path is not None
    output = state.outdir / f"model-{precision}.onnx"
    calib = s.calib or s.images  # the sample pictures calibrate when no calibration data is given
    task = s.task.task
    result = quantize(final, output, _quantize_settings(state, precision, calib), progress=False)
    state.reduced[precision] = result.model or OnnxModel(result.output)
    state.results.precision[precision] = result
    data = {
        "output": str(result.output),
        "precision": result.precision,
        "kept_fp32": [layer.to_dict() for layer in result.kept_fp32],
        "excluded": [layer.to_dict() for layer in result.excluded],
        "accuracy": result.accuracy.to_dict() if result.accuracy is not None else None,
        "evaluation": result.evaluation.to_dict() if result.evaluation is not None else None,
        "warnings": result.warnings,
    }
    options = [*(["--calib", calib] if calib else []), *(["--task", task] if task else [])]
    if result.evaluation is not None and result.evaluation.max_drop is not None:
        options += ["--eval", s.eval_data, "--max-drop", f"{s.max_drop:g}"]
    command = cmd("quantize", final.path, "-o", output, "--precision", precision, *options)
    kept = result.kept_fp32 or result.excluded
    where = "kept in FP32" if precision == "fp16" else "left in float"
    # the figure the verdict rests on, counted (images, boxes), with its interval; the notes after it
    line = f"wrote {output.name} ({precision}, {len(kept)} layer(s) {where}): {result.accuracy.headline()}"
    if calib is not None and not s.calib:
        line += f" (samples: --images {calib})"
    searched = result.evaluation
    if searched is not None:
        from pt2trt.precision.metric_search import signed

        figure = f"{searched.metric} {signed(searched.drop)} points"
        line += f"; {figure} on {searched.images} labelled image(s) (--max-drop {searched.max_drop:g})"
    notes = [*result.warnings, *result.accuracy.notes]
    if searched is not None and not searched.passed:
        state.rejected.add(precision)
        stopped = f" (the search stopped: {searched.stopped})" if searched.stopped else ""
        raise StepFailed(
            f"{precision} model {output.name} loses {searched.drop:.2f} points of {searched.metric} with {len(kept)} "
            f"layer(s) in float, more than --max-drop {searched.max_drop:g}{stopped}",
            f"See the search's steps: {command}; or raise --max-drop",
            data,
        )
    reasons = [] if result.passed else list(result.accuracy.reasons) or ["below the target"]
    agreement = result.accuracy.agreement
    if agreement is not None and agreement < s.min_agreement:
        reasons.append(f"below --min-agreement {s.min_agreement:g}")
    if reasons:
        state.rejected.add(precision)
        if precision == "int8":
            fix = f"Keep the layers that cost most in float: {command} --auto-exclude (or --exclude NODE)"
        else:  # quantize's --auto-exclude ranks INT8 layers; FP16 keeps nodes named with --keep-fp32
            layers = cmd("debug", "layers", final.path, output)
            fix = f"Find where it parts from FP32: {layers}, then {command} --keep-fp32 NODE"
        raise StepFailed(
            f"{output.name} does not keep the FP32 model's answers: {result.accuracy.headline()} "
            f"({'; '.join(reasons)})",
            f"{fix}; or lower --min-agreement if that is enough",
            data,
        )
    if notes:
        return WARNING, f"{line}; {'; '.join(n.removeprefix('note: ') for n in notes)}", command, data
    return PASSED, line, command, data


def _quantize_settings(state: State, precision: str, calib: Any) -> Any:
    """The job of one precision step: calibrated on ``calib``, the preprocessing asked for (recorded in the ONNX);
    INT8 with ``--eval`` and ``--max-drop`` keeps the fewest layers in float that hold the metric's drop within it
    (FP16 has no such search: the eval step judges it)."""
    from pt2trt.settings import LabelledEval, PreprocessSettings, QuantizeSettings

    s = state.settings
    evaluation = None
    if precision == "int8" and s.eval_data is not None and s.max_drop is not None:
        evaluation = LabelledEval(s.eval_data, s.max_drop, s.labels)
    return QuantizeSettings(
        precision, calib=calib, task=s.task.task, preprocess=PreprocessSettings(recorded_preprocess(state)),
        evaluation=evaluation, force=True,
    )  # fmt: skip


def eval_step(state: State) -> Outcome:
    """PyTorch (when there is one), FP32 and every precision scored on ``--eval`` DATA; past ``--max-drop`` the
    precision that lost too much fails (its own step too: see :func:`failed_precisions`)."""
    from pt2trt.evaluation.runner import evaluate
    from pt2trt.evaluation.settings import EvalSettings

    s = state.settings
    task = s.task.task
    assert task is not None and s.eval_data is not None  # checked before the first step
    models, names = _eval_models(state)
    settings = EvalSettings(
        preprocess=s.preprocess, labels=s.labels, max_drop=s.max_drop, save=state.outdir / "eval", force=True,
    )  # fmt: skip
    report = evaluate(models, s.eval_data, task, settings)
    state.results.evaluation = report
    primary = report.primary
    scores = ", ".join(
        f"{name} {_pct(e.metrics.get(primary))}" + ("" if e.reference else f" ({_delta(report.drop(e))})")
        for name, e in zip(names, report.evaluations)
    )
    line = f"scored on {report.images} labelled image(s) ({task}, {primary}): {scores}"
    command = cmd("eval", *[m if isinstance(m, str) else state.settings.pytorch or state.model for m in models],
                  "--data", s.eval_data, "--task", task)  # fmt: skip
    if not report.passed:
        lost = failed_precisions(state)
        state.rejected.update(lost)
        raise StepFailed(
            f"{', '.join(lost) or 'a model'} lost more than {s.max_drop:g} points of {primary} on {s.eval_data}: "
            + "; ".join(report.failures),
            "Keep the layers that cost most in FP32 (pt2trt quantize --auto-exclude), or raise --max-drop",
            report.to_dict(),
        )
    return PASSED, line, command, report.to_dict()


def _eval_models(state: State) -> tuple[list[Any], list[str]]:
    """The models to score, reference first: PyTorch (when loaded), FP32, then each precision; their names."""
    final = state.model_file()
    models: list[Any] = []
    names: list[str] = []
    if state.loaded is not None:
        models.append(state.loaded)
        names.append("PyTorch")
    models.append(str(final.path))
    names.append("FP32")
    for precision, model in state.reduced.items():
        models.append(str(model.path))
        names.append(precision.upper())
    return models, names


def failed_precisions(state: State) -> list[str]:
    """The precisions whose evaluation lost more than ``--max-drop`` points (their steps fail too)."""
    report = state.results.evaluation
    if report is None or state.settings.max_drop is None:
        return []
    _, names = _eval_models(state)
    lost = []
    for name, evaluation in zip(names, report.evaluations):
        drop = report.drop(evaluation)
        if name.lower() in state.reduced and (drop is None or drop > state.settings.max_drop):
            lost.append(name.lower())
    return lost


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _delta(points: float | None) -> str:
    return "undefined" if points is None else f"{-points:+.2f} points"
