"""How one model's run turned out: the child's ending and convert's ``report.json`` made into a ModelResult."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pt2trt.sweeping import convert_report
from pt2trt.sweeping.child import LOG, ChildRun
from pt2trt.sweeping.manifest import Entry
from pt2trt.sweeping.records import ERROR, ModelResult


def model_result(entry: Entry, run: ChildRun, folder: Path, where: dict[str, Any]) -> ModelResult:
    """The result of ``entry`` whose convert ran as ``run`` and wrote ``folder`` (laid out as OUTDIR/NAME/)."""
    if run.load is not None:
        where = where | {"load": run.load}
    result = ModelResult(
        name=entry.name,
        model=entry.model,
        line=entry.line,
        status=ERROR,
        seconds=round(run.seconds, 3),
        started=run.started,
        finished=run.finished,
        attempts=run.attempts,
        where=where,
        log=f"{entry.name}/{LOG}",
        fingerprint=entry.fingerprint,
    )
    report = convert_report.read_report(folder)
    if report is not None and run.returncode in (0, 1):
        found = convert_report.outcome(report)
        result.status, result.step, result.reason = found["status"], found["step"], found["reason"]
        result.steps, result.metrics, result.latency = found["steps"], found["metrics"], found["latency"]
        result.engine = found["engine"]
        result.report = f"{entry.name}/{convert_report.REPORT_HTML}"
        if run.killed:
            result.reason = (result.reason + f" (after {len(run.killed)} killed attempt(s))").strip()
        return result
    if run.returncode < 0:
        result.step = "worker"
        result.reason = (
            f"the convert process was killed by {run.killed[-1]} on each of {run.attempts} attempts "
            f"(retried {run.attempts - 1} time(s)); see {result.log}"
        )
    else:
        result.step = "convert"
        why = run.error_line or f"convert exited with code {run.returncode} without a report"
        result.reason = f"{why} (see {result.log})"
    return result


def lost_result(entry: Entry, step: str, reason: str, where: dict[str, Any]) -> ModelResult:
    """A model whose run left nothing to read (its Ray worker died, twice): status error at ``step``."""
    return ModelResult(
        name=entry.name, model=entry.model, line=entry.line, status=ERROR, step=step,
        reason=" ".join(reason.split())[:400], where=where, fingerprint=entry.fingerprint,
    )  # fmt: skip
