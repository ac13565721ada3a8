"""``convert``: export -> check -> simplify -> verify -> TensorRT lint -> precision -> engine or plan -> bench ->
predictions -> graph picture -> report, each step recorded; the first failing step stops the run, the report is
written either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pt2trt.conversion import steps
from pt2trt.conversion.record import FAILED, SKIPPED, ConvertOptions, ConvertResult, StepRecord
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.shapes import InputSpec

PRECISIONS = ("fp32", "fp16", "int8")
TRT_TARGETS = ("8.6", "10", "11")
#: the files convert writes into OUTDIR (refused without force when present)
ARTIFACTS = (
    "model.onnx", "model-sim.onnx", "model-fp16.onnx", "model-int8.onnx", "model.engine", "build-plan.json",
    "model.svg", "report.html", "report.json", "predictions", "figures",
)  # fmt: skip

Step = tuple[str, str, Callable[[steps.State], steps.Outcome]]


def plan_steps(options: ConvertOptions) -> list[Step]:
    """The steps this run will take, in order (the debug step joins only after a verify failure)."""
    chosen: list[Step] = [
        ("export", "export", steps.export_step),
        ("check", "check", steps.check_step),
        ("simplify", "simplify", steps.simplify_step),
        ("verify", "verify vs PyTorch", steps.verify_step),
        ("lint", f"TensorRT {options.trt_version} lint", steps.lint_step),
    ]
    for precision in options.precisions:  # one step each: the report compares FP32 with every one of them
        chosen.append((f"precision-{precision}", f"precision {precision}", steps.precision_step(precision)))
    chosen += [("engine", "TensorRT engine or plan", steps.engine_step), ("bench", "bench", steps.bench_step)]
    if options.images is not None:
        chosen.append(("predict", "predictions", steps.predict_step))
    chosen.append(("graph", "graph picture", steps.graph_step))
    return chosen


def validate(options: ConvertOptions) -> None:
    """Usage errors before any work: flags, paths, no silent overwrite."""
    if not options.inputs:
        raise UsageError("no input shapes given", "Pass one --input NAME:SHAPE per forward() argument")
    unknown = [p for p in options.precision.split(",") if p.strip() not in PRECISIONS]
    if unknown or not options.precision.strip():
        raise UsageError(
            f"unknown precision '{','.join(unknown) or options.precision}'",
            f"Use one of {', '.join(PRECISIONS)}, or several: --precision fp16,int8",
        )
    if "int8" in options.precisions and options.calib is None:
        raise UsageError("--precision int8 needs calibration data", "Pass --calib DIR (images) or FILE.npz")
    if options.trt_version not in TRT_TARGETS:
        raise UsageError(f"unknown TensorRT version '{options.trt_version}'", f"Use one of: {', '.join(TRT_TARGETS)}")
    if options.images is not None and not options.images.exists():
        raise UsageError(f"--images {options.images} does not exist", "Pass a folder of pictures")
    out = options.outdir
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {out} is a file, not a directory", "Choose a directory with -o")
    present = [name for name in ARTIFACTS if (out / name).exists()]
    if present and not options.force:
        raise Pt2trtError(
            f"{out} already holds {', '.join(present)}", "Pass --force to overwrite, or choose another -o"
        )


def convert(
    model: str,
    inputs: Sequence[InputSpec],
    outdir: str | Path,
    *,
    progress: bool = True,
    **options: Any,
) -> ConvertResult:
    """Run every step on ``model`` into ``outdir``; ``options`` are :class:`ConvertOptions` fields.

    Returns the :class:`ConvertResult` also when a step failed (``result.error``, ``result.exit_code``); the report
    (``report.html``, ``report.json``) is written in both cases. Usage errors are raised before any step runs.
    """
    opts = ConvertOptions(model=model, inputs=list(inputs), outdir=Path(outdir), **options)
    validate(opts)
    opts.outdir.mkdir(parents=True, exist_ok=True)
    result = ConvertResult(opts)
    display = _Display(progress)
    state = steps.State(opts, progress=display.note)
    start = time.perf_counter()
    try:
        planned = plan_steps(opts)
        for name, title, fn in planned:
            record = _run_step(name, title, fn, state, display)
            result.steps.append(record)
            if record.status == FAILED:
                result.error = record.data.pop("_error")
                if name == "verify" and state.loaded is not None and state.exported is not None:
                    result.steps.append(_run_step("debug", "debug layers", steps.debug_step, state, display))
                break
        done = {s.name for s in result.steps}
        result.steps += [StepRecord(n, t, SKIPPED, line="not run") for n, t, _ in planned if n not in done]
        result.results = state.results
        result.facts = _facts(state)
        result.seconds = time.perf_counter() - start
        display.start_step("report")
        from pt2trt.report import write_report

        result.report_html, result.report_json = write_report(result, opts.outdir)
    finally:
        display.stop()
    return result


def _run_step(
    name: str, title: str, fn: Callable[[steps.State], steps.Outcome], state: steps.State, display: _Display
) -> StepRecord:
    record = StepRecord(name, title)
    display.start_step(title)
    t0 = time.perf_counter()
    try:
        record.status, record.line, record.command, record.data = fn(state)
    except Pt2trtError as exc:
        record.status, record.line, record.error, record.hint = FAILED, str(exc), exc.message, exc.hint
        record.data = {"_error": exc}
    record.seconds = time.perf_counter() - t0
    display.end_step(record)
    return record


def _facts(state: steps.State) -> dict[str, Any]:
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
        mark = {"passed": "[green]ok[/]", "warning": "[yellow]ok[/]", "skipped": "[dim]--[/]"}.get(
            record.status, "[red]FAIL[/]"
        )
        self.progress.console.print(f"{mark} {record.title:<24} {record.seconds:6.1f} s  {record.line}", soft_wrap=True)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
