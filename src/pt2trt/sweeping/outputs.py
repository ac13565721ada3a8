"""The sweep's three outputs: ``results.json`` (everything, read back by ``--baseline``), ``index.html`` (one row per
model, self-contained like convert's report.html) and ``junit.xml`` (one test case per model, for CI).
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt import _version
from pt2trt.settings.sweep import Thresholds
from pt2trt.sweeping.baseline import Verdict
from pt2trt.sweeping.records import ERROR, FAILED, PASSED, ModelResult
from pt2trt.sweeping.store import OutputFolder

FORMAT = "pt2trt-sweep/1"


@dataclass
class SweepReport:
    """Everything the outputs show: the models in manifest order, their verdicts against a baseline, the run."""

    manifest: Path
    outdir: Path
    executor: str
    models: list[ModelResult]
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    baseline: Path | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    seconds: float = 0.0
    resumed: list[str] = field(default_factory=list)  # models kept from an earlier run (--resume)
    pending: list[str] = field(default_factory=list)  # models not finished yet (outputs written while running)
    started: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))

    def count(self, status: str) -> int:
        return sum(1 for m in self.models if m.status == status)

    @property
    def regressions(self) -> list[str]:
        return [name for name, v in self.verdicts.items() if v.regression]

    @property
    def passed(self) -> bool:
        return not self.pending and all(m.passed for m in self.models)

    def summary(self) -> dict[str, Any]:
        return {
            "models": len(self.models) + len(self.pending),
            "passed": self.count(PASSED),
            "failed": self.count(FAILED),
            "error": self.count(ERROR),
            "not finished": len(self.pending),
            "regressions": len(self.regressions) if self.baseline else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "pt2trt": _version.__version__,
            "manifest": str(self.manifest),
            "outdir": str(self.outdir),
            "executor": self.executor,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
            "baseline": {"path": str(self.baseline), "thresholds": vars(self.thresholds)} if self.baseline else None,
            "resumed": self.resumed,
            "pending": self.pending,
            "models": [
                m.to_dict() | ({"verdict": self.verdicts[m.name].to_dict()} if m.name in self.verdicts else {})
                for m in self.models
            ],
        }


def write_outputs(report: SweepReport, store: OutputFolder) -> dict[str, Path]:
    """``results.json``, ``junit.xml`` and ``index.html`` in OUTDIR, each written atomically."""
    return {
        "results": store.write_text("results.json", json.dumps(report.to_dict(), indent=2) + "\n"),
        "junit": store.write_text("junit.xml", junit_xml(report)),
        "index": store.write_text("index.html", index_html(report)),
    }


def junit_xml(report: SweepReport) -> str:
    """One ``<testcase>`` per model: ``<failure type=STEP message=REASON>`` for a failed check, ``<error>`` when convert
    could not run or finish; with a baseline, a regression is a ``<failure type="regression">`` too."""
    suite_name = report.manifest.stem
    failures = report.count(FAILED) + sum(1 for m in report.models if m.passed and m.name in report.regressions)
    root = ET.Element("testsuites", name="pt2trt sweep", tests=str(len(report.models)))
    suite = ET.SubElement(
        root, "testsuite", name=suite_name, tests=str(len(report.models)), failures=str(failures),
        errors=str(report.count(ERROR)), skipped="0", time=f"{report.seconds:.3f}", timestamp=report.started[:19],
    )  # fmt: skip
    root.set("failures", suite.get("failures", "0"))
    root.set("errors", suite.get("errors", "0"))
    root.set("time", suite.get("time", "0"))
    for m in report.models:
        case = ET.SubElement(suite, "testcase", classname=f"pt2trt.sweep.{suite_name}", name=m.name)
        case.set("time", f"{m.seconds:.3f}")
        case.set("file", str(report.manifest))
        case.set("line", str(m.line))
        details = [f"model: {m.model}", f"report: {m.report or '-'}", f"log: {m.log or '-'}"]
        if m.status != PASSED:
            tag = "failure" if m.status == FAILED else "error"
            message = f"{m.step}: {m.reason}" if m.step else m.reason
            node = ET.SubElement(case, tag, message=message, type=m.step or m.status)
            node.text = "\n".join([message, *details])
        verdict = report.verdicts.get(m.name)
        if verdict is not None and verdict.regression and m.passed:
            node = ET.SubElement(case, "failure", message=verdict.line(), type="regression")
            node.text = "\n".join(f.text for f in verdict.findings if f.regression)
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join([*details, *([f"baseline: {verdict.line()}"] if verdict else [])])
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def index_context(report: SweepReport) -> dict[str, Any]:
    """What index.html shows, as plain data (also what the tests inspect)."""
    backends = sorted({label for m in report.models for label in m.latency})
    rows = []
    for m in report.models:
        verdict = report.verdicts.get(m.name)
        rows.append(
            {
                "result": m.to_dict(),
                "summary": m.summary(),
                "verdict": verdict.to_dict() if verdict else None,
                "latency": {b: m.latency[b].median if b in m.latency else None for b in backends},
                "changes": verdict.latency if verdict else {},
                "metrics": _metric_cells(m, verdict),
            }
        )
    return {
        "title": f"pt2trt sweep: {report.manifest.name}",
        "report": report.to_dict(),
        "summary": report.summary(),
        "backends": backends,
        "rows": rows,
        "regressions": report.regressions,
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _metric_cells(m: ModelResult, verdict: Verdict | None) -> list[dict[str, Any]]:
    cells = []
    for key, metric in sorted(m.metrics.items()):
        change = verdict.metrics.get(key) if verdict else None
        cells.append(
            {"key": key, "value": metric.value, "samples": metric.samples, "delta": change["delta"] if change else None,
             "higher_is_better": metric.higher_is_better}
        )  # fmt: skip
    return cells


def index_html(report: SweepReport) -> str:
    from pt2trt.conversion.report.html import render_template

    return render_template("pt2trt.sweeping", "index.html.j2", index_context(report), number=".4g")
