"""``convert``: the whole job, each step a plain call of its own API, recorded for the report.

From a PyTorch MODEL: export -> check -> simplify -> verify -> TensorRT lint -> precision -> eval -> engine or plan
-> bench -> predictions -> graph picture -> report. From an ONNX MODEL the export does not apply (the file is copied to
``model.onnx``) and the verification runs only against a ``--pytorch`` model; the report says which steps did not
apply and why. The first failing step stops the run; the report and the effective configuration (``config.yaml``)
are written either way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pt2trt.conversion import onnx_steps, precision_steps, runtime_steps
from pt2trt.conversion.record import FAILED, NOT_APPLICABLE, SKIPPED, ConvertResult, StepRecord
from pt2trt.conversion.state import State, Step, StepFailed, is_onnx_path
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.settings import ConvertSettings

#: the files convert writes into OUTDIR (refused without force when present)
ARTIFACTS = (
    "model.onnx", "model-sim.onnx", "model-fp16.onnx", "model-int8.onnx", "model.engine", "build-plan.json",
    "model.svg", "report.html", "report.json", "config.yaml", "predictions", "figures", "eval", "errors.log",
)  # fmt: skip


def plan_steps(model: str, settings: ConvertSettings) -> list[Step]:
    """The steps this run will take, in order (the debug step joins only after a verify failure)."""
    if is_onnx_path(model):
        chosen: list[Step] = [
            ("import", "ONNX model", onnx_steps.import_step),
            ("export", "export", onnx_steps.export_not_applicable),
        ]
    else:
        chosen = [("export", "export", onnx_steps.export_step)]
    chosen += [
        ("check", "check", onnx_steps.check_step),
        ("simplify", "simplify", onnx_steps.simplify_step),
        ("verify", "verify vs PyTorch", onnx_steps.verify_step),
        ("lint", f"TensorRT {settings.trt_version} lint", onnx_steps.lint_step),
    ]
    for precision in settings.precisions:  # one step each: the report compares FP32 with every one of them
        chosen.append((f"precision-{precision}", f"precision {precision}", precision_steps.precision_step(precision)))
    if settings.eval_data is not None:
        chosen.append(("eval", "task metric (--eval)", precision_steps.eval_step))
    chosen += [
        ("engine", "TensorRT engine or plan", runtime_steps.engine_step),
        ("bench", "bench", runtime_steps.bench_step),
    ]
    if settings.images is not None:
        chosen.append(("predict", "predictions", runtime_steps.predict_step))
    chosen.append(("graph", "graph picture", runtime_steps.graph_step))
    return chosen


def validate(model: str, outdir: Path, settings: ConvertSettings) -> None:
    """Usage errors before any work: flags, paths, no silent overwrite."""
    from pt2trt.backends.tensorrt.versions import TARGETS

    s = settings
    if not is_onnx_path(model) and not s.inputs:
        raise UsageError("no input shapes given", "Pass one --input NAME:SHAPE per forward() argument")
    if is_onnx_path(model) and not Path(model).is_file():
        raise UsageError(f"ONNX model {model} not found", "Check the path (or give a PyTorch model spec)")
    if "int8" in s.precisions and s.calib is None and s.images is None:
        raise UsageError(
            "--precision int8 needs calibration data", "Pass --calib DIR (images) or FILE.npz, or --images"
        )
    if s.trt_version not in TARGETS:
        raise UsageError(f"unknown TensorRT version '{s.trt_version}'", f"Use one of: {', '.join(TARGETS)}")
    if s.images is not None and not s.images.exists():
        import glob

        if not glob.has_magic(str(s.images)):
            raise UsageError(f"--images {s.images} does not exist", "Pass a folder of pictures, or a quoted glob")
        if not glob.glob(str(s.images), recursive=True):
            raise UsageError(f"no file matches --images '{s.images}'", "Check the pattern, e.g. 'val/**/*.jpg'")
    if s.eval_data is not None and not s.eval_data.exists():
        raise UsageError(f"--eval {s.eval_data} does not exist", "Pass labelled data as pt2trt eval takes it")
    if s.eval_data is not None and s.task.task is None:
        raise UsageError("--eval needs --task", "e.g. --task classify (the metric depends on the task)")
    if s.max_drop is not None and s.eval_data is None:
        raise UsageError("--max-drop needs --eval DATA", "Pass the labelled data to measure the drop on")
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"output {outdir} is a file, not a directory", "Choose a directory with -o")
    present = [name for name in ARTIFACTS if (outdir / name).exists()]
    if present and not s.force:
        raise Pt2trtError(
            f"{outdir} already holds {', '.join(present)}", "Pass --force to overwrite, or choose another -o"
        )


def convert(
    model: str, outdir: str | Path, settings: ConvertSettings | None = None, *, progress: bool = True
) -> ConvertResult:
    """Run every step on ``model`` (a PyTorch spec or an ``.onnx`` file) into ``outdir``, as ``settings`` ask.

    Returns the :class:`ConvertResult` also when a step failed (``result.error``, ``result.exit_code``); the report
    (``report.html``, ``report.json``) and ``config.yaml`` are written in both cases. Usage errors are raised before
    any step runs.
    """
    s = settings or ConvertSettings()
    out = Path(outdir)
    validate(model, out, s)
    out.mkdir(parents=True, exist_ok=True)
    result = ConvertResult(model, out, s)
    display = _Display(progress)
    state = State(model, out, s, progress=display.note)
    start = time.perf_counter()
    try:
        planned = plan_steps(model, s)
        for name, title, fn in planned:
            record, error = _run_step(name, title, fn, state, display)
            result.steps.append(record)
            if record.status == FAILED:
                result.error = result.error or error
                _after_failure(name, state, result, display)
                if not _goes_on_after(name):
                    break
        done = {st.name for st in result.steps}
        result.steps += [StepRecord(n, t, SKIPPED, line="not run") for n, t, _ in planned if n not in done]
        result.results = state.results
        result.facts = _facts(state)
        result.seconds = time.perf_counter() - start
        display.start_step("report")
        _write_config(result)
        from pt2trt.conversion.report import write_report

        result.report_html, result.report_json = write_report(result, out)
    finally:
        display.stop()
    return result


def _after_failure(name: str, state: State, result: ConvertResult, display: _Display) -> None:
    """What a failure adds: after verify, the layer where PyTorch and ONNX part ways; after eval, the failure of each
    precision that lost too much."""
    random_passed = state.results.verify is not None and state.results.verify.passed  # it was the pictures
    if name == "verify" and state.loaded is not None and state.exported is not None and not random_passed:
        result.steps.append(_run_step("debug", "debug layers", onnx_steps.debug_step, state, display)[0])
    if name == "eval":
        for precision in precision_steps.failed_precisions(state):
            step = result.step(f"precision-{precision}")
            if step is not None:
                step.status, step.error = FAILED, "lost too much on --eval (see the task metric step)"


def _goes_on_after(name: str) -> bool:
    """A precision that failed its check (or lost too much on --eval) does not stop the run: the engine is built
    from what passed, and the report sets every precision's agreement beside its speed. The run still fails."""
    return name.startswith("precision-") or name == "eval"


def _run_step(name: str, title: str, fn: Any, state: State, display: _Display) -> tuple[StepRecord, Pt2trtError | None]:
    record = StepRecord(name, title)
    display.start_step(title)
    t0 = time.perf_counter()
    error = None
    try:
        record.status, record.line, record.command, record.data = fn(state)
    except Pt2trtError as exc:
        record.status, record.line, record.error, record.hint = FAILED, str(exc), exc.message, exc.hint
        if isinstance(exc, StepFailed):
            record.data = exc.data
        error = exc
    except Exception as exc:  # a bug here or in a library: the step fails, the report is still written
        error = _unexpected(name, exc, state.outdir)
        record.status, record.line, record.error, record.hint = FAILED, str(error), error.message, error.hint
    record.seconds = time.perf_counter() - t0
    display.end_step(record)
    return record, error


def _unexpected(name: str, exc: Exception, outdir: Path) -> Pt2trtError:
    """An exception no step expected: its traceback goes to ``OUTDIR/errors.log``, the step fails with one line."""
    import traceback

    log = outdir / "errors.log"
    log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return Pt2trtError(
        f"step '{name}' stopped on an unexpected {type(exc).__name__}: {exc}",
        f"This is a bug in pt2trt or a library it calls; the traceback is in {log} (please report it)",
    )


def _write_config(result: ConvertResult) -> None:
    """``config.yaml``: the effective configuration, in the shape ``convert --config`` reads (CLI runs), so that the
    run can be repeated exactly."""
    import yaml

    from pt2trt.files import publish, staging_dir

    path = result.outdir / "config.yaml"
    data = result.options()
    with staging_dir(path) as tmp:
        (tmp / path.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        publish(tmp / path.name, path, replace=result.settings.force)


def _facts(state: State) -> dict[str, Any]:
    """``inspect`` of the model every later step used (I/O, opsets, ops, parameters, ONNX Runtime support)."""
    model = state.final or state.exported
    if model is None or model.path is None or not model.path.exists():
        return {}
    from pt2trt.onnx.inspect import inspect_model

    try:
        info = inspect_model(model)
    except Pt2trtError as exc:
        return {"error": str(exc)}
    facts = info.to_dict()
    facts["onnxruntime"]["summary"] = info.onnxruntime.summary
    return facts


class _Display:
    """A rich progress display on stderr: a spinner and clock for the running step, a closing line per step."""

    def __init__(self, enabled: bool) -> None:
        self.progress: Any = None
        self.task: Any = None
        self.title = ""
        if enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=Console(stderr=True, highlight=False), transient=True,
            )  # fmt: skip
            self.progress.start()
            self.task = self.progress.add_task("convert", total=None)

    def start_step(self, title: str) -> None:
        self.title = title
        if self.progress is not None:
            self.progress.reset(self.task, description=f"{title} ...")

    def note(self, text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=f"{self.title} ... {text}")

    def end_step(self, record: StepRecord) -> None:
        if self.progress is None:
            return
        mark = {
            "passed": "[green]ok  [/]", "warning": "[yellow]warn[/]", "skipped": "[dim]--  [/]",
            NOT_APPLICABLE: "[dim]n/a [/]",
        }.get(record.status, "[red]FAIL[/]")  # fmt: skip
        self.progress.console.print(f"{mark} {record.title:<24} {record.seconds:6.1f} s  {record.line}", soft_wrap=True)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
