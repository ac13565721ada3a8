"""The last steps of ``convert``: the TensorRT engine (or its plan), the bench, sample predictions, the picture."""

from __future__ import annotations

import warnings
from typing import Any

from pt2trt.conversion.record import PASSED, WARNING
from pt2trt.conversion.state import Outcome, State, cmd
from pt2trt.files import publish, staging_dir
from pt2trt.settings import Profile


def engine_step(state: State) -> Outcome:
    """A TensorRT engine when TensorRT and a GPU are here; otherwise the build plan and the command to run there."""
    import json

    from pt2trt.backends.tensorrt.plan import make_plan
    from pt2trt.backends.tensorrt.versions import cuda_gpus, installed_version
    from pt2trt.settings import BuildSettings

    s = state.settings
    # the engine is built from the last reduced precision asked for that kept FP32's answers (fp16,int8: INT8)
    kept = [p for p in state.reduced if p not in state.rejected]
    last = kept[-1] if kept else "fp32"
    source = state.reduced[last] if kept else state.model_file()
    engine = state.outdir / "model.engine"
    profiles, note = engine_profiles(state)
    if state.rejected:
        note += f" (from {last.upper()}: {', '.join(sorted(p.upper() for p in state.rejected))} failed its check)"
    settings = BuildSettings(trt_version=s.trt_version, profiles=profiles, int8=last == "int8", fp16=last == "fp16")
    if installed_version() is not None and cuda_gpus():
        from pt2trt.precision.build import build

        result = build(source, engine, settings, force=True)
        state.results.engine = result
        return PASSED, result.closing_line() + note, cmd("build", source.path, "-o", engine), {"engine": str(engine)}
    plan = make_plan(source, engine, settings, force=True)
    state.results.plan = plan
    path = state.outdir / "build-plan.json"
    with staging_dir(path) as tmp:  # atomically, like every artifact
        (tmp / path.name).write_text(json.dumps(plan.to_dict(), indent=2) + "\n")
        publish(tmp / path.name, path, replace=s.force)
    why = "TensorRT is not installed here" if installed_version() is None else "no CUDA GPU here"
    line = f"{why}: wrote {path.name}; build on the GPU machine with: {plan.command(force=False)}{note}"
    return PASSED, line, plan.command(force=False), plan.to_dict()


def engine_profiles(state: State) -> tuple[tuple[Profile, ...], str]:
    """The engine's optimization profiles: the ones asked for, else one derived from the inputs' dynamic axes
    (batch: 1 to ``--max-batch``; any other dynamic axis: half to twice its example size), said in a note."""
    if state.settings.profiles:
        return state.settings.profiles, ""
    specs = state.inputs
    if not any(s.dynamic for s in specs):
        return (), ""
    shapes = {}
    ranged: list[str] = []
    for s in specs:
        low, high = list(s.shape), list(s.shape)
        for axis in s.dynamic:
            if axis == 0:
                low[axis], high[axis] = 1, max(state.settings.max_batch, s.shape[axis])
            else:
                low[axis], high[axis] = max(1, s.shape[axis] // 2), s.shape[axis] * 2
                ranged.append(f"{s.name}[{axis}] {low[axis]}..{high[axis]}")
        shapes[str(s.name)] = (tuple(low), tuple(s.shape), tuple(high))
    note = (
        f" (profile ranges chosen: {', '.join(ranged)}, half to twice the example size; give --min-shapes/--max-shapes"
        " to choose)"
        if ranged
        else ""
    )
    return (Profile(shapes),), note


def bench_step(state: State) -> Outcome:
    from pt2trt.bench import Loop, bench
    from pt2trt.settings import RunInputs

    s = state.settings
    final = state.model_file()
    loop = Loop(warmup_ms=100, iterations=5, duration=s.bench_duration)  # a look at the speed; `pt2trt bench` for more
    engine = state.outdir / "model.engine"
    names = list(s.backends) + (["tensorrt"] if engine.exists() and "tensorrt" not in s.backends else [])
    note = lambda label, done: state.progress(f"{label} {done:.0%}")  # noqa: E731
    sources = {"pytorch": state.loaded, "engine": engine if engine.exists() else None}
    inputs = RunInputs(specs=tuple(state.inputs))  # the example sizes (an ONNX MODEL's dynamic axes too)
    report = bench(final, names, inputs=inputs, sources=sources, loop=loop, progress=note)
    state.results.bench = report
    onnx_backends = [b for b in names if b in ("onnxruntime", "openvino")]
    for precision, model in state.reduced.items():
        reduced = bench(model, onnx_backends, inputs=inputs, loop=loop, progress=note)
        state.results.bench_reduced[precision] = reduced
    command = cmd("bench", final.path, "--backend", ",".join(names), "--duration", s.bench_duration)
    status = WARNING if any(r.status != "ok" for r in report.results) else PASSED
    return status, report.closing_line(), command, report.to_dict()


def predict_step(state: State) -> Outcome:
    """Sample predictions on ``--images`` with every chosen backend that runs the ONNX model (ONNX Runtime,
    OpenVINO, any registered one) and the engine when built, pictures under predictions/BACKEND/ (PyTorch is left out:
    its input size would have to be passed to predict separately)."""
    from dataclasses import replace

    from pt2trt.backends import runner_class
    from pt2trt.imaging.sources import collect_sources
    from pt2trt.prediction.predict import predict
    from pt2trt.settings import PredictSettings, RunnerSettings

    s = state.settings
    final = state.model_file()
    assert s.images is not None
    images = collect_sources([s.images])[: s.max_images]
    task = s.task.task or "classify"
    per_backend: dict[str, Any] = {}
    engine = state.outdir / "model.engine"
    models: dict[str, Any] = {b: final for b in s.backends if runner_class(b).source == "onnx"}
    if engine.exists():  # built in this run: TensorRT and a GPU are here
        models["tensorrt"] = engine
    notes: list[str] = []
    for backend, model in models.items():
        state.progress(backend)
        save = state.outdir / "predictions" / backend
        settings = PredictSettings(
            replace(s.task, task=task), s.preprocess, RunnerSettings(backend=backend), labels=s.labels
        )
        with warnings.catch_warnings(record=True) as caught:  # predict's notes: said in this step's line, in
            warnings.simplefilter("always")  # pt2trt's words, never as Python warnings on stderr
            per_backend[backend] = predict(model, images, settings, save=save, force=True)
        notes += [str(w.message) for w in caught if str(w.message) not in notes]
    state.results.predict = per_backend
    count = sum(len(v) for v in per_backend.values())
    line = f"predicted {len(images)} image(s) with {', '.join(per_backend)} ({task}): {count} pictures in predictions/"
    command = cmd("predict", final.path, s.images, "--task", task, "--save", state.outdir / "predictions")
    data = {b: [p.to_dict() for p in preds] for b, preds in per_backend.items()}
    if notes:
        return WARNING, f"{line}; note: {'; '.join(notes)}", command, data
    return PASSED, line, command, data


def graph_step(state: State) -> Outcome:
    from pt2trt.view.svg import write_svg

    final = state.model_file()
    result = write_svg(final, state.outdir / "model.svg", force=True)
    state.results.graph = result
    return PASSED, result.closing_line(), cmd("view", final.path, "--svg", result.path), {"path": str(result.path)}
