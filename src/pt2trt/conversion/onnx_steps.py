"""The first steps of ``convert``: the ONNX model (exported, or an ONNX MODEL copied), checked, simplified, verified
against PyTorch, linted for TensorRT; after a failed verification, the layer where PyTorch and ONNX part ways."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pt2trt.conversion.record import NOT_APPLICABLE, PASSED, SKIPPED, WARNING
from pt2trt.conversion.state import Outcome, State, StepFailed, cmd, shapes_text
from pt2trt.errors import Pt2trtError
from pt2trt.onnx.model import OnnxModel


def recorded_preprocess(state: State) -> Any:
    """The preprocessing to record in the ONNX: the one asked for (``--preprocess`` and its flags), else None."""
    from pt2trt.prediction.image_model import choose_preprocess
    from pt2trt.tasks import task_class

    asked = state.settings.preprocess
    if asked.preprocess is None and not asked.overrides():
        return None
    task = state.settings.task.task
    preset = task_class(task).default_preset if task else "imagenet-classification"
    return choose_preprocess(asked, None, preset)


def export_step(state: State) -> Outcome:
    """A PyTorch MODEL (with its ``--weights``) exported to ``model.onnx``, the preprocessing recorded in it."""
    from pt2trt.pytorch.export import export
    from pt2trt.pytorch.sources import load_model

    s = state.settings
    state.loaded = load_model(s.weights.source(state.model))
    settings = replace(s.export, preprocess=recorded_preprocess(state) or s.export.preprocess)
    result = export(state.loaded, list(s.inputs), state.outdir / "model.onnx", settings, force=True)
    # read back from disk once: the check (and every later step) judges the file that was written, not the proto
    state.exported = state.final = OnnxModel(result.path)
    state.inputs = list(result.inputs)
    state.results.export = result
    dynamic = ["--dynamic-batch"] if s.export.dynamic_batch else []
    command = cmd("export", state.model, *shapes_text(list(s.inputs)), *dynamic, "-o", result.path, "--exporter",
                  s.export.exporter)  # fmt: skip
    return PASSED, result.closing_line(), command, result.to_dict()


def import_step(state: State) -> Outcome:
    """An ONNX MODEL copied to ``model.onnx`` (the preprocessing asked for recorded in it), its inputs read from the
    file (``--input`` gives example sizes for dynamic axes); the ``--pytorch`` model loaded to verify against."""
    from pt2trt.files import existing_file, format_size
    from pt2trt.onnx import metadata as meta
    from pt2trt.onnx.inputs import example_specs
    from pt2trt.onnx.load import EXTERNAL_DATA_THRESHOLD, save_onnx

    s = state.settings
    proto = OnnxModel(existing_file(state.model, "ONNX file")).copy()
    recipe = recorded_preprocess(state)
    if recipe is not None:
        meta.write_metadata(proto, {meta.PREPROCESSING: recipe.to_json()})
    out = state.outdir / "model.onnx"
    size = save_onnx(proto, out, external_data=proto.ByteSize() > EXTERNAL_DATA_THRESHOLD, replace=True)
    state.exported = state.final = OnnxModel(out)
    state.inputs = example_specs(state.exported, list(s.inputs) or None)
    if s.pytorch:
        from pt2trt.pytorch.sources import load_model

        state.loaded = load_model(s.weights.source(s.pytorch))
    recorded = ", preprocessing recorded" if recipe is not None else ""
    line = (
        f"copied {state.model} to {out.name} ({format_size(size)}, {len(proto.graph.node)} nodes{recorded}); "
        f"inputs {', '.join(map(str, state.inputs))}"
    )
    return PASSED, line, "", {"source": state.model, "inputs": [i.to_dict() for i in state.inputs]}


def export_not_applicable(state: State) -> Outcome:
    return NOT_APPLICABLE, "MODEL is an ONNX file: nothing to export", "", {}


def check_step(state: State) -> Outcome:
    from pt2trt.onnx.check import check

    assert state.exported is not None
    report = check(state.exported)
    state.results.check = report
    line = f"checked {report.path}: checker {'ok' if report.checker_ok else 'FAILED'}, shape inference " + (
        "ok" if report.shape_inference_ok else "FAILED"
    )
    if not report.passed:
        again = "Export it again" if not state.onnx_source else "Fix the model where it was made (pt2trt check)"
        raise Pt2trtError(f"{report.path} is not valid ONNX: {'; '.join(report.errors)[:300]}", again)
    return PASSED, line, cmd("check", report.path), report.to_dict()


def simplify_step(state: State) -> Outcome:
    from pt2trt.editing.simplify import simplify
    from pt2trt.settings import RunInputs, SimplifySettings

    assert state.exported is not None
    s = state.settings
    output = state.outdir / "model-sim.onnx"
    command = cmd("simplify", state.exported.path, "-o", output, "--engine", s.simplify_engine)
    try:
        settings = SimplifySettings(engine=s.simplify_engine, inputs=RunInputs.of(state.inputs))
        result = simplify(state.exported, output, settings, force=True)
    except Pt2trtError as exc:  # not proven equivalent: keep the exported model and say why
        return SKIPPED, f"kept {state.exported.name}: {exc.message}", command, {"error": str(exc)}
    state.results.simplify = result
    if result.nodes_after < result.nodes_before:
        state.final = result.model
    else:
        result.output_path.unlink(missing_ok=True)
        line = f"{state.exported.name} is already simple ({result.nodes_before} nodes): kept, nothing written"
        return PASSED, line, command, result.to_dict()
    return PASSED, result.closing_line(), command, result.to_dict()


def verify_step(state: State) -> Outcome:
    """ONNX Runtime against PyTorch on the same inputs; the line is the verdict that decided (the decoded results'
    when a task compared them)."""
    from pt2trt.settings import RunInputs
    from pt2trt.verification.pytorch import verify

    final = state.model_file()
    s = state.settings
    if state.loaded is None:
        return NOT_APPLICABLE, "MODEL is an ONNX file and no --pytorch model was given to compare it with", "", {}
    run = RunInputs(specs=tuple(state.inputs))
    result = verify(state.loaded, final, run, tolerance=s.tolerance, task=s.task.task)
    state.results.verify = result
    torch_model = s.pytorch or state.model
    line = f"{final.name} against PyTorch: {result.verdict_line()}"
    command = cmd("verify", torch_model, final.path, *(["--task", s.task.task] if s.task.task else []))
    data = result.to_dict()
    if not result.passed:
        assert state.exported is not None
        raise StepFailed(
            f"ONNX Runtime does not reproduce PyTorch on {final.name}: {result.verdict_line()}",
            f"See the layer where they part ways: pt2trt debug layers {torch_model} {state.exported.path}",
            data,
        )
    if s.images is not None:  # random inputs miss what real pictures reach (detections, data-dependent shapes)
        pictures, data["pictures"] = _verify_on_pictures(state, final, data)
        line += f"; {pictures}"
    return PASSED, line, command, data


def _verify_on_pictures(state: State, final: OnnxModel, verified: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """PyTorch and ONNX Runtime on the ``--images`` pictures too, one at a time (up to ``--max-images``), fed as the
    predictions are; a picture that differs, or that one of them cannot run, fails the step (``verified``: the random
    inputs' record, kept with the failure)."""
    from pt2trt.precision.data import load_samples
    from pt2trt.settings import RunInputs
    from pt2trt.verification.pytorch import verify

    s = state.settings
    assert s.images is not None
    if len(state.inputs) != 1:
        return f"not verified on --images: the model takes {len(state.inputs)} inputs, pictures feed one", {}
    samples = load_samples(final, s.images, limit=s.max_images, preprocess=recorded_preprocess(state), task=s.task.task)
    failures: list[str] = []
    for number, feed in enumerate(samples.feeds, 1):
        try:
            result = verify(state.loaded, final, RunInputs(feed=feed), tolerance=s.tolerance, task=s.task.task)
        except Pt2trtError as exc:
            failures.append(f"picture {number}: {exc.message}")
            continue
        if not result.passed:
            failures.append(f"picture {number}: {result.verdict_line()}")
    count = len(samples.feeds)
    data = {"pictures": count, "preprocess": samples.preprocess, "failures": failures}
    if failures:
        raise StepFailed(
            f"ONNX Runtime does not reproduce PyTorch on {len(failures)} of {count} picture(s) of --images "
            f"({samples.preprocess}): {failures[0]}",
            "Random inputs pass: the model differs where only real pictures lead (detections, shapes that depend on "
            "them); look for what the export fixed from its example input (a traced branch, a size taken as constant)",
            {**verified, "pictures": data},
        )
    return f"and on {count} picture(s) of --images ({samples.preprocess}): verified", data


def debug_step(state: State) -> Outcome:
    """After a verify failure: ``debug layers`` on the exported model names the PyTorch module at fault."""
    from pt2trt.debug.layers import debug_layers

    assert state.exported is not None
    report = debug_layers(state.loaded, state.exported.path, state.inputs, tolerance=state.settings.tolerance)
    state.results.debug = report
    origin = report.origin_name
    line = f"divergence starts at {origin} ({report.origin.cls})" if report.origin else "no layer diverged"
    torch_model = state.settings.pytorch or state.model
    return PASSED, line, cmd("debug", "layers", torch_model, state.exported.path), report.to_dict()


def lint_step(state: State) -> Outcome:
    from pt2trt.backends.tensorrt.lint import trt_compatibility

    final = state.model_file()
    report = trt_compatibility(final, state.settings.trt_version)
    state.results.lint = report
    command = cmd("check", final.path, "--target", f"trt-{state.settings.trt_version}")
    if not report.passed:
        first = report.errors[0]
        raise Pt2trtError(
            f"{report.summary()}: {first.node} ({first.op}) {first.why}",
            first.fix or f"See every finding with: {command}",
        )
    status = WARNING if any(f.severity == "warning" for f in report.findings) else PASSED
    return status, report.summary(), command, report.to_dict()
