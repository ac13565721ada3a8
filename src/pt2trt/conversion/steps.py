"""One small adapter per ``convert`` step: a plain call of the step's own public API, then what to record.

Each adapter takes the run's :class:`State`, calls one API with keyword arguments, stores the returned object in
``state.results`` and returns ``(status, closing line, command to reproduce, data for report.json)``. A failure is
the API's own :class:`~pt2trt.errors.Pt2trtError` (or one raised here for a failed check, with a hint).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.conversion.record import FAILED, PASSED, SKIPPED, WARNING, ConvertOptions
from pt2trt.errors import Pt2trtError
from pt2trt.files import publish, staging_dir
from pt2trt.onnx.model import OnnxModel
from pt2trt.settings import Profile

Outcome = tuple[str, str, str, dict[str, Any]]  # status, closing line, command, data


@dataclass
class State:
    """What the steps hand on: the loaded PyTorch model, the ONNX files so far, and every step's result object."""

    options: ConvertOptions
    progress: Callable[[str], None] = lambda text: None  # a sub-step note for the progress display
    loaded: Any = None
    exported: OnnxModel | None = None
    final: OnnxModel | None = None  # the FP32 model every later step uses (simplified when proven equivalent)
    reduced: dict[str, OnnxModel] = field(default_factory=dict)  # precision -> reduced ONNX, in the order asked
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.options.outdir

    def shapes_text(self) -> list[str]:
        args = []
        for s in self.options.inputs:
            args += ["--input", f"{s.name + ':' if s.name else ''}{'x'.join(map(str, s.shape))}:{s.dtype}"]
        return args


def _cmd(*args: object) -> str:
    return shlex.join(["pt2trt", *(str(a) for a in args)])


def export_step(state: State) -> Outcome:
    from pt2trt.pytorch.export import export
    from pt2trt.pytorch.sources import load_model
    from pt2trt.settings import ExportSettings

    o = state.options
    state.loaded = load_model(o.model)
    settings = ExportSettings(exporter=o.exporter, opset=o.opset)
    result = export(state.loaded, o.inputs, o.outdir / "model.onnx", settings, force=True)
    # read back from disk once: the check (and every later step) judges the file that was written, not the proto
    state.exported = state.final = OnnxModel(result.path)
    state.results["export"] = result
    dynamic = ["--dynamic-batch"] if any(s.dynamic for s in o.inputs) else []
    cmd = _cmd("export", o.model, *state.shapes_text(), *dynamic, "-o", result.path, "--exporter", o.exporter)
    return PASSED, result.closing_line(), cmd, result.to_dict()


def check_step(state: State) -> Outcome:
    from pt2trt.onnx.check import check

    assert state.exported is not None
    report = check(state.exported)
    state.results["check"] = report
    line = f"checked {report.path}: checker {'ok' if report.checker_ok else 'FAILED'}, shape inference " + (
        "ok" if report.shape_inference_ok else "FAILED"
    )
    if not report.passed:
        raise Pt2trtError(f"{report.path} is not valid ONNX: {'; '.join(report.errors)[:300]}", "Export it again")
    return PASSED, line, _cmd("check", report.path), report.to_dict()


def simplify_step(state: State) -> Outcome:
    from pt2trt.editing.simplify import simplify

    assert state.exported is not None
    o = state.options
    output = o.outdir / "model-sim.onnx"
    cmd = _cmd("simplify", state.exported.path, "-o", output, "--engine", o.simplify_engine)
    try:
        result = simplify(state.exported, output, engine=o.simplify_engine, inputs=o.inputs, force=True)
    except Pt2trtError as exc:  # not proven equivalent: keep the exported model and say why
        return SKIPPED, f"kept {state.exported.name}: {exc.message}", cmd, {"error": str(exc)}
    state.results["simplify"] = result
    if result.nodes_after < result.nodes_before:
        state.final = result.model
    else:
        result.output_path.unlink(missing_ok=True)
        line = f"{state.exported.name} is already simple ({result.nodes_before} nodes): kept, nothing written"
        return PASSED, line, cmd, result.to_dict()
    return PASSED, result.closing_line(), cmd, result.to_dict()


def verify_step(state: State) -> Outcome:
    from pt2trt.settings import Tolerance
    from pt2trt.verification.pytorch import verify

    assert state.final is not None
    o = state.options
    result = verify(state.loaded, state.final, task=o.task, tolerance=Tolerance(o.rtol, o.atol))
    state.results["verify"] = result
    c = result.comparison
    worst = max((t.max_abs_error or 0.0 for t in c.tensors), default=0.0)
    task = f", {o.task} results compared" if o.task else ""
    line = (
        f"verified {state.final.name} against PyTorch: {len(c.tensors) - len(c.failed)}/{len(c.tensors)} outputs "
        f"within rtol={c.rtol:g} atol={c.atol:g}, max abs error {worst:.3g}{task}"
    )
    cmd = _cmd("verify", o.model, state.final.path, *(["--task", o.task] if o.task else []))
    if not result.passed:
        assert state.exported is not None
        failed = ", ".join(t.name for t in c.failed) or "task results"
        raise Pt2trtError(
            f"ONNX Runtime does not reproduce PyTorch on {state.final.name} ({failed}; max abs error {worst:.3g})",
            f"See the layer where they part ways: pt2trt debug layers {o.model} {state.exported.path}",
        )
    return PASSED, line, cmd, result.to_dict()


def debug_step(state: State) -> Outcome:
    """After a verify failure: ``debug layers`` on the exported model names the PyTorch module at fault."""
    from pt2trt.debug.layers import debug_layers
    from pt2trt.settings import Tolerance

    o = state.options
    assert state.exported is not None
    inputs = state.results["export"].inputs
    report = debug_layers(state.loaded, state.exported.path, inputs, tolerance=Tolerance(o.rtol, o.atol))
    state.results["debug"] = report
    origin = report.origin_name
    line = f"divergence starts at {origin} ({report.origin.cls})" if report.origin else "no layer diverged"
    return PASSED, line, _cmd("debug", "layers", o.model, state.exported.path), report.to_dict()


def lint_step(state: State) -> Outcome:
    from pt2trt.backends.tensorrt.lint import trt_compatibility

    assert state.final is not None
    report = trt_compatibility(state.final, state.options.trt_version)
    state.results["lint"] = report
    cmd = _cmd("check", state.final.path, "--target", f"trt-{state.options.trt_version}")
    if not report.passed:
        first = report.errors[0]
        raise Pt2trtError(
            f"{report.summary()}: {first.node} ({first.op}) {first.why}",
            first.fix or f"See every finding with: {cmd}",
        )
    return (WARNING if report.findings and any(f.severity == "warning" for f in report.findings) else PASSED,
            report.summary(), cmd, report.to_dict())  # fmt: skip


def precision_step(precision: str) -> Callable[[State], Outcome]:
    """The step that writes ``model-PRECISION.onnx`` with ``pt2trt.precision.quantize`` and records its accuracy."""

    def step(state: State) -> Outcome:
        return _quantize(state, precision)

    return step


def _quantize(state: State, precision: str) -> Outcome:
    """``pt2trt.precision.quantize`` (another package, imported only when reduced precision is asked)."""
    o = state.options
    assert state.final is not None
    try:
        from pt2trt.precision import quantize
    except ImportError as exc:
        raise Pt2trtError(
            f"--precision {precision} needs pt2trt.precision, which this installation does not have",
            "Use --precision fp32, or update pt2trt",
        ) from exc
    output = o.outdir / f"model-{precision}.onnx"
    assert state.final.path is not None
    result = quantize(
        state.final.path, output, precision, calib=o.calib, task=o.task, preprocess=None, force=True, progress=False
    )
    state.reduced[precision] = OnnxModel(result.output)
    state.results.setdefault("precision", {})[precision] = result
    data = {
        "output": str(result.output),
        "precision": result.precision,
        "kept_fp32": [layer.to_dict() for layer in result.kept_fp32],
        "excluded": [layer.to_dict() for layer in result.excluded],
        "accuracy": result.accuracy.to_dict() if result.accuracy is not None else None,
    }
    task = ["--task", o.task] if o.task else []
    cmd = _cmd(
        "quantize", state.final.path, "-o", output, "--precision", precision, *(["--calib", o.calib] * bool(o.calib)),
        *task,
    )  # fmt: skip
    line = f"wrote {output.name} ({precision}): {len(data['kept_fp32'])} layer(s) kept in FP32"
    if result.accuracy is not None and result.accuracy.agreement is not None:
        line += f", agreement with FP32 {100 * result.accuracy.agreement:.2f}%"
    if not result.passed:
        raise Pt2trtError(
            f"{precision} model {output.name} does not keep the FP32 model's answers "
            f"({'; '.join(result.accuracy.reasons) or 'below the target'})",
            f"Keep layers in FP32: {cmd} --auto-exclude (or --exclude NODE)",
        )
    return PASSED, line, cmd, data


def engine_step(state: State) -> Outcome:
    """A TensorRT engine when TensorRT and a GPU are here; otherwise the build plan and the command to run there."""
    import json

    from pt2trt.backends.tensorrt.plan import make_plan
    from pt2trt.backends.tensorrt.versions import cuda_gpus, installed_version
    from pt2trt.settings import BuildSettings

    o = state.options
    # the engine is built from the last reduced precision asked for (fp16,int8: the INT8 Q/DQ model)
    source = next(reversed(state.reduced.values()), None) or state.final
    assert source is not None
    engine = o.outdir / "model.engine"
    last = next(reversed(state.reduced), "fp32")
    settings = BuildSettings(
        trt_version=o.trt_version, profiles=_profiles(state), int8=last == "int8", fp16=last == "fp16"
    )
    if installed_version() is not None and cuda_gpus():
        from pt2trt.precision.build import build

        result = build(source, engine, settings, force=True)
        state.results["engine"] = result
        return PASSED, result.closing_line(), _cmd("build", source.path, "-o", engine), {"engine": str(engine)}
    plan = make_plan(source, engine, settings, force=True)
    state.results["plan"] = plan
    path = o.outdir / "build-plan.json"
    with staging_dir(path) as tmp:  # atomically, like every artifact
        (tmp / path.name).write_text(json.dumps(plan.to_dict(), indent=2) + "\n")
        publish(tmp / path.name, path, replace=o.force)
    why = "TensorRT is not installed here" if installed_version() is None else "no CUDA GPU here"
    line = f"{why}: wrote {path.name}; build on the GPU machine with: {plan.command(force=False)}"
    return PASSED, line, plan.command(force=False), plan.to_dict()


def _profiles(state: State) -> tuple[Profile, ...]:
    """One optimization profile for the dynamic axes: 1, the given size, and ``max_batch`` (at least the given size);
    none when every input is static."""
    specs = state.results["export"].inputs  # named by export (forward()'s parameter names when not given)
    if not any(s.dynamic for s in specs):
        return ()
    shapes = {}
    for s in specs:
        low, high = list(s.shape), list(s.shape)
        for axis in s.dynamic:
            low[axis], high[axis] = 1, max(state.options.max_batch, s.shape[axis])
        shapes[str(s.name)] = (tuple(low), tuple(s.shape), tuple(high))
    return (Profile(shapes),)


def bench_step(state: State) -> Outcome:
    from pt2trt.bench import Loop, bench

    o = state.options
    assert state.final is not None
    loop = Loop(warmup_ms=100, iterations=5, duration=o.bench_duration)  # a look at the speed; `pt2trt bench` for more
    engine = o.outdir / "model.engine"
    names = list(o.backends) + (["tensorrt"] if engine.exists() and "tensorrt" not in o.backends else [])
    note = lambda label, done: state.progress(f"{label} {done:.0%}")  # noqa: E731
    sources = {"pytorch": state.loaded, "engine": engine if engine.exists() else None}
    report = bench(state.final, names, sources=sources, loop=loop, progress=note)
    state.results["bench"] = report
    for precision, model in state.reduced.items():
        reduced = bench(model, ["onnxruntime", "openvino"], loop=loop, progress=note)
        state.results.setdefault("bench_reduced", {})[precision] = reduced
    cmd = _cmd("bench", state.final.path, "--backend", ",".join(names), "--duration", o.bench_duration)
    status = WARNING if any(r.status != "ok" for r in report.results) else PASSED
    return status, report.closing_line(), cmd, report.to_dict()


def predict_step(state: State) -> Outcome:
    """Sample predictions on ``--images`` with every chosen backend that runs the ONNX model (ONNX Runtime,
    OpenVINO, any registered one) and the engine when built, pictures under predictions/BACKEND/ (PyTorch is left out:
    its input size would have to be passed to predict separately)."""
    from pt2trt.backends import runner_class
    from pt2trt.imaging.sources import collect_sources
    from pt2trt.prediction.predict import predict
    from pt2trt.settings import PredictSettings, RunnerSettings, TaskSettings

    o = state.options
    assert o.images is not None and state.final is not None
    images = collect_sources([o.images])[: o.max_images]
    task = o.task or "classify"
    per_backend: dict[str, Any] = {}
    engine = o.outdir / "model.engine"
    models: dict[str, Any] = {b: state.final for b in o.backends if runner_class(b).source == "onnx"}
    if engine.exists():  # built in this run: TensorRT and a GPU are here
        models["tensorrt"] = engine
    for backend, model in models.items():
        state.progress(backend)
        save = o.outdir / "predictions" / backend
        settings = PredictSettings(TaskSettings(task=task), runner=RunnerSettings(backend=backend))
        per_backend[backend] = predict(model, images, settings, save=save, force=True)
    state.results["predict"] = per_backend
    count = sum(len(v) for v in per_backend.values())
    line = f"predicted {len(images)} image(s) with {', '.join(per_backend)} ({task}): {count} pictures in predictions/"
    cmd = _cmd("predict", state.final.path, o.images, "--task", task, "--save", o.outdir / "predictions")
    data = {b: [p.to_dict() for p in preds] for b, preds in per_backend.items()}
    return PASSED, line, cmd, data


def graph_step(state: State) -> Outcome:
    from pt2trt.view.svg import write_svg

    assert state.final is not None
    result = write_svg(state.final, state.options.outdir / "model.svg", force=True)
    state.results["graph"] = result
    return (PASSED, result.closing_line(), _cmd("view", state.final.path, "--svg", result.path),
            {"path": str(result.path)})  # fmt: skip


__all__ = ["FAILED", "State"]
