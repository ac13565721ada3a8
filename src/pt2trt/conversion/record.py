"""What ``convert`` records: one :class:`StepRecord` per step, the typed results behind them, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError
from pt2trt.settings import ConvertSettings

if TYPE_CHECKING:
    from pt2trt.backends.tensorrt.build import BuildResult
    from pt2trt.backends.tensorrt.lint import TrtCompatReport
    from pt2trt.backends.tensorrt.plan import BuildPlan
    from pt2trt.bench import BenchReport
    from pt2trt.debug.report import LayersReport
    from pt2trt.editing.simplify import SimplifyResult
    from pt2trt.evaluation.results import EvalReport
    from pt2trt.onnx.check import CheckReport
    from pt2trt.precision.api import QuantizeResult
    from pt2trt.prediction.predict import Prediction
    from pt2trt.pytorch.export import ExportResult
    from pt2trt.verification.pytorch import VerifyResult
    from pt2trt.view.svg import SvgResult

PASSED, FAILED, SKIPPED, WARNING = "passed", "failed", "skipped", "warning"
#: a step that does not apply to this model (an ONNX MODEL has nothing to export), with the reason as its line
NOT_APPLICABLE = "n/a"


@dataclass
class StepRecord:
    """One step as run: status, time, the closing line its own command prints, and how to run it alone."""

    name: str
    title: str
    status: str = SKIPPED
    seconds: float = 0.0
    line: str = ""
    command: str = ""
    error: str | None = None
    hint: str | None = None
    artifacts: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "line": self.line,
            "command": self.command,
            "error": self.error,
            "hint": self.hint,
            "artifacts": self.artifacts,
            "data": self.data,
        }


@dataclass
class ConvertResults:
    """The object each step returned (None, or empty: the step did not run)."""

    export: ExportResult | None = None
    check: CheckReport | None = None
    simplify: SimplifyResult | None = None
    verify: VerifyResult | None = None
    debug: LayersReport | None = None
    lint: TrtCompatReport | None = None
    precision: dict[str, QuantizeResult] = field(default_factory=dict)
    evaluation: EvalReport | None = None
    plan: BuildPlan | None = None
    engine: BuildResult | None = None
    bench: BenchReport | None = None
    bench_reduced: dict[str, BenchReport] = field(default_factory=dict)
    predict: dict[str, list[Prediction]] = field(default_factory=dict)
    graph: SvgResult | None = None


@dataclass
class ConvertResult:
    """The steps in order, what they returned (:class:`ConvertResults`), and the report files."""

    model: str
    outdir: Path
    settings: ConvertSettings
    steps: list[StepRecord] = field(default_factory=list)
    results: ConvertResults = field(default_factory=ConvertResults)
    error: Pt2trtError | None = None
    seconds: float = 0.0
    report_html: Path | None = None
    report_json: Path | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # inspect of the final model, for the report

    @property
    def failed_step(self) -> StepRecord | None:
        return next((s for s in self.steps if s.status == FAILED), None)

    @property
    def passed(self) -> bool:
        return self.error is None and self.failed_step is None

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else (self.error.exit_code if self.error is not None else 1)

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)

    def failed_title(self) -> str:
        failed = self.failed_step
        return failed.title if failed is not None else "convert"

    def verdict(self) -> str:
        if self.passed:
            ran = [s for s in self.steps if s.status in (PASSED, WARNING)]
            warned = sum(s.status == WARNING for s in ran)
            said = f" ({warned} with a warning)" if warned else ""
            return f"converted {self.model}: {len(ran)} steps passed{said} in {self.seconds:.1f} s"
        failed = self.failed_step
        where = f"at {failed.title}" if failed else "before the first step"
        failures = [s for s in self.steps if s.status == FAILED]
        if self.steps and self.steps[-1].status != SKIPPED and self.steps[-1] not in failures:
            titles = ", ".join(s.title for s in failures)
            return f"conversion of {self.model} failed ({titles}); the other steps ran: {self.error}"
        return f"conversion of {self.model} stopped {where}: {self.error}"

    def options(self) -> dict[str, Any]:
        """What convert was asked, as ``convert --config`` reads it back: MODEL, the output folder and the effective
        configuration (the CLI's keys; a run from the API records these two only)."""
        return {"model": self.model, "output": str(self.outdir), **self.settings.config}

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict(),
            "passed": self.passed,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "options": self.options(),
            "steps": [s.to_dict() for s in self.steps],
            "facts": self.facts,
            "report_html": str(self.report_html) if self.report_html else None,
        }
