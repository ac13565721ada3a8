"""``pt2trt eval``'s tables: one per metric (reference first, deltas with their significance), then per class."""

from __future__ import annotations

from typing import Any

#: per-class figures are shown as a table up to this many classes (all of them are in --json)
MAX_CLASS_ROWS = 30
METRIC_TITLES = {
    "top1": "top-1 accuracy",
    "top5": "top-5 accuracy",
    "map": "mAP@[.5:.95]",
    "map50": "mAP@.5",
    "map75": "mAP@.75",
    "miou": "mean IoU",
    "pixel_accuracy": "pixel accuracy",
}
CLASS_FIGURE = {"classify": "top-1 accuracy", "detect": "AP@[.5:.95]", "segment": "IoU"}
SUPPORT = {"classify": "images", "detect": "boxes", "segment": "pixels"}


def percent(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.2f}%"


def significance(delta: Any) -> str:
    """How sure the difference is: McNemar's flips, or the bootstrap interval, with the p-value."""
    if delta is None or delta.test == "none":
        return ""
    mark = "[bold]significant[/bold]" if delta.significant else "not significant"
    if delta.test == "mcnemar":
        worse, better = delta.flipped
        return f"McNemar p={delta.p_value:.3g} ({worse} worse, {better} better): {mark}"
    low, high = (100 * delta.low, 100 * delta.high) if delta.low == delta.low else (float("nan"),) * 2
    return f"bootstrap 95% [{low:+.2f}, {high:+.2f}] pts, p={delta.p_value:.3g} ({delta.rounds} draws): {mark}"


def print_report(out: Any, report: Any) -> None:
    from rich.table import Table

    out.print(f"eval {report.task} on {report.data}", soft_wrap=True)
    metrics = list(report.reference.metrics)
    for metric in metrics:
        table = Table(title=METRIC_TITLES.get(metric, metric), title_justify="left")
        for column in ("model", "backend", "images", "value", "Δ points", "significance"):
            table.add_column(column, justify="right" if column in ("images", "value", "Δ points") else "left")
        for evaluation in report.evaluations:
            delta = evaluation.delta(metric)
            change = delta.delta if delta is not None else None
            shown = "reference" if evaluation.reference else ("-" if change is None else f"{100 * change:+.2f}")
            table.add_row(
                evaluation.model, evaluation.backend, str(evaluation.images), percent(evaluation.metrics[metric]),
                shown, significance(delta),
            )  # fmt: skip
        out.print(table)
    _per_class(out, report)
    _changed(out, report)
    _verdict(out, report)


def _per_class(out: Any, report: Any) -> None:
    from rich.table import Table

    rows = report.reference.per_class
    if not rows or len(rows) > MAX_CLASS_ROWS:
        if rows:
            out.print(f"per class: {len(rows)} classes, in --json", soft_wrap=True)
        return
    table = Table(title=f"per class: {CLASS_FIGURE[report.task]}", title_justify="left")
    table.add_column("class")
    table.add_column(SUPPORT[report.task], justify="right")
    for i, _ in enumerate(report.evaluations):
        table.add_column(f"#{i + 1}" if i else "#1 (reference)", justify="right")
    values = [{c.id: c.value for c in e.per_class} for e in report.evaluations]
    for row in rows:
        name = str(row.id) if row.name == str(row.id) else f"{row.id} {row.name}"
        table.add_row(name, str(row.support), *(percent(v.get(row.id)) for v in values))
    out.print(table)
    if len(report.evaluations) > 1:
        out.print("  " + ", ".join(f"#{i + 1} {e.label}" for i, e in enumerate(report.evaluations)), soft_wrap=True)


def _changed(out: Any, report: Any) -> None:
    for evaluation in report.evaluations[1:]:
        saved = f", drawn in {_folder(evaluation.saved[0])}" if evaluation.saved else ""
        out.print(
            f"{evaluation.label}: {evaluation.changed} of {evaluation.images} images answered differently from the "
            f"reference{saved}",
            soft_wrap=True,
        )


def _folder(path: str) -> str:
    from pathlib import Path

    return str(Path(path).parent)


def _verdict(out: Any, report: Any) -> None:
    if report.max_drop is None:
        return
    others = len(report.evaluations) - 1
    if report.passed:
        out.print(
            f"[green]passed[/green]: {report.primary} of {others} model(s) within {report.max_drop:g} points of the "
            f"reference, on {report.images} images",
            soft_wrap=True,
        )
    for line in report.failures:
        out.print(f"[red]FAILED[/red]: {line}, on {report.images} images", soft_wrap=True)
