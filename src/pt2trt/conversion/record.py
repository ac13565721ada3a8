"""What ``convert`` records: the options, one :class:`StepRecord` per step, the results behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError
from pt2trt.shapes import InputSpec

PASSED, FAILED, SKIPPED, WARNING = "passed", "failed", "skipped", "warning"


@dataclass
class ConvertOptions:
    """Everything ``convert`` was asked to do (the CLI flags, one field each)."""

    model: str
    inputs: list[InputSpec]
    outdir: Path
    precision: str = "fp32"
    calib: str | None = None
    task: str | None = None
    trt_version: str = "10"
    images: Path | None = None
    exporter: str = "auto"
    opset: int | None = None
    simplify_engine: str = "onnxslim"
    rtol: float = 1e-3
    atol: float = 1e-5
    max_batch: int = 8
    backends: tuple[str, ...] = ("torch", "onnxruntime", "openvino")
    bench_duration: float = 0.3
    max_images: int = 6
    force: bool = False

    @property
    def precisions(self) -> list[str]:
        """The reduced precisions asked for (``fp16,int8`` -> both; ``fp32`` -> none), in the order given."""
        return [p for p in dict.fromkeys(s.strip() for s in self.precision.split(",")) if p and p != "fp32"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "inputs": [s.to_dict() for s in self.inputs],
            "outdir": str(self.outdir),
            "precision": self.precision,
            "calib": self.calib,
            "task": self.task,
            "trt_version": self.trt_version,
            "images": str(self.images) if self.images else None,
            "exporter": self.exporter,
            "opset": self.opset,
            "simplify_engine": self.simplify_engine,
            "rtol": self.rtol,
            "atol": self.atol,
            "max_batch": self.max_batch,
            "backends": list(self.backends),
            "bench_duration": self.bench_duration,
        }


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
class ConvertResult:
    """The steps in order, the objects they returned (``results[name]``), and the report files."""

    options: ConvertOptions
    steps: list[StepRecord] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
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

    def verdict(self) -> str:
        if self.passed:
            ran = [s for s in self.steps if s.status in (PASSED, WARNING)]
            return f"converted {self.options.model}: {len(ran)} steps passed in {self.seconds:.1f} s"
        failed = self.failed_step
        where = f"at {failed.title}" if failed else "before the first step"
        return f"conversion of {self.options.model} stopped {where}: {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict(),
            "passed": self.passed,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "options": self.options.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "facts": self.facts,
            "report_html": str(self.report_html) if self.report_html else None,
        }
