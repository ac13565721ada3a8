"""``--baseline PREV_OUTDIR``: this sweep against an earlier one, model by model (matched by name).

A **regression** is a model that passed before and fails now, a metric that should be high (an agreement, a
cosine, a task score) dropped by more than ``metric_drop``, or a backend whose median latency grew beyond its noise
band. The band is noise-aware: ``max(latency threshold, spread)`` where the spread is the larger of the two runs' own
``(p90 - median) / median`` from convert's bench, so a backend that jitters by 30 % within one run is not called
slower for a 20 % move of its median. Faster (beyond the same band), fixed and new models are reported, not flagged.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError
from pt2trt.settings.sweep import Thresholds
from pt2trt.sweeping.records import Latency, ModelResult

REGRESSION, IMPROVED, SAME, NEW, STILL_FAILING = "regression", "improved", "no change", "new", "still failing"


@dataclass
class Finding:
    kind: str  # new failure, fixed, still failing, metric drop, metric gain, slower, faster
    regression: bool
    text: str


@dataclass
class Verdict:
    """One model against the baseline."""

    name: str
    verdict: str  # regression, improved, no change, new, still failing
    findings: list[Finding] = field(default_factory=list)
    latency: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> before, after, ratio, band, change
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> before, after, delta

    @property
    def regression(self) -> bool:
        return self.verdict == REGRESSION

    def detail(self) -> str:
        """The regressions (else the other findings, else what was compared), in one line."""
        regressions = [f.text for f in self.findings if f.regression]
        others = [f.text for f in self.findings if not f.regression]
        return "; ".join(regressions or others) or _same_detail(self)

    def line(self) -> str:
        return f"{self.verdict}: {self.detail()}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"line": self.line(), "detail": self.detail()}


def _same_detail(verdict: Verdict) -> str:
    if not verdict.latency and not verdict.metrics:
        return "nothing to compare"
    parts = [f"{len(verdict.metrics)} metric(s) within the drop threshold"] if verdict.metrics else []
    if verdict.latency:
        parts.append(f"latency of {len(verdict.latency)} backend(s) within noise")
    return ", ".join(parts)


def load_baseline(folder: str | Path) -> dict[str, ModelResult]:
    """The models of the earlier sweep in ``folder`` (its results.json), by name."""
    path = Path(folder) / "results.json"
    if not Path(folder).is_dir():
        raise Pt2trtError(f"baseline {folder} is not a folder", "Pass the OUTDIR of an earlier pt2trt sweep")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        models = [ModelResult.from_dict(m) for m in data["models"]]
    except FileNotFoundError:
        raise Pt2trtError(
            f"baseline {folder} has no results.json", "Pass the OUTDIR of an earlier pt2trt sweep"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Pt2trtError(
            f"cannot read the baseline's {path}: {exc}"[:300], "Pass the OUTDIR of a finished pt2trt sweep"
        ) from None
    return {m.name: m for m in models}


def compare(current: ModelResult, before: ModelResult | None, thresholds: Thresholds) -> Verdict:
    """``current`` against its earlier run ``before`` (None: a model new to the zoo)."""
    verdict = Verdict(current.name, SAME)
    if before is None:
        verdict.verdict = NEW
        return verdict
    if before.passed and not current.passed:
        verdict.findings.append(Finding("new failure", True, f"newly {current.summary()}"))
    elif not before.passed and current.passed:
        verdict.findings.append(Finding("fixed", False, f"passes now (was {before.summary()})"))
    elif not before.passed and not current.passed:
        verdict.verdict = STILL_FAILING
        verdict.findings.append(Finding("still failing", False, current.summary()))
    _metrics(verdict, current, before, thresholds)
    loads = (before.where.get("load"), current.where.get("load"))
    for label in sorted(current.latency.keys() & before.latency.keys()):
        _latency(verdict, label, before.latency[label], current.latency[label], thresholds, loads)
    if verdict.verdict != STILL_FAILING:
        if any(f.regression for f in verdict.findings):
            verdict.verdict = REGRESSION
        elif verdict.findings:
            verdict.verdict = IMPROVED
    elif any(f.regression for f in verdict.findings):
        verdict.verdict = REGRESSION
    return verdict


def _metrics(verdict: Verdict, current: ModelResult, before: ModelResult, thresholds: Thresholds) -> None:
    for key in sorted(current.metrics.keys() & before.metrics.keys()):
        now, then = current.metrics[key], before.metrics[key]
        delta = now.value - then.value
        verdict.metrics[key] = {"before": then.value, "after": now.value, "delta": delta, "samples": now.samples}
        if not now.higher_is_better:
            continue  # errors are judged by convert's own tolerances; shown, not flagged
        samples = f" on {now.samples} sample(s)" if now.samples else ""
        text = f"{key} {then.value:.4g} -> {now.value:.4g} ({delta:+.4g}{samples})"
        if delta < -thresholds.metric_drop:
            verdict.findings.append(Finding("metric drop", True, text))
        elif delta > thresholds.metric_drop:
            verdict.findings.append(Finding("metric gain", False, text))


def latency_change(before: Latency, after: Latency, threshold: float) -> tuple[float, float, str]:
    """(ratio of medians, band, "slower" / "faster" / "same"): a change only beyond ``max(threshold, spread)``."""
    ratio = after.median / before.median if before.median > 0 else float("inf")
    spreads = [s for s in (before.spread, after.spread) if s is not None]
    band = max([threshold, *spreads])
    if ratio > 1 + band:
        return ratio, band, "slower"
    if ratio < 1 / (1 + band):
        return ratio, band, "faster"
    return ratio, band, "same"


def _latency(
    verdict: Verdict, label: str, before: Latency, after: Latency, thresholds: Thresholds, loads: tuple[Any, Any]
) -> None:
    ratio, band, change = latency_change(before, after, thresholds.latency)
    verdict.latency[label] = {
        "before": before.median, "after": after.median, "ratio": ratio, "band": band, "change": change,
    }  # fmt: skip
    if change == "same":
        return
    known = all(isinstance(x, (int, float)) for x in loads)
    load = f"; machine load {loads[0]:g} then, {loads[1]:g} now" if known else ""
    text = (
        f"{label} {change} {before.median:.4g} -> {after.median:.4g} ms (x{ratio:.2f}, beyond the noise band "
        f"x{1 + band:.2f}; medians over {before.n} and {after.n} inferences{load})"
    )
    verdict.findings.append(Finding(change, change == "slower", text))
