"""``pt2trt sweep``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pt2trt.cli.options import json_option, print_json


@click.command("sweep")
@click.argument("manifest", metavar="ZOO.yaml")
@click.option(
    "-o", "--output", "outdir", required=True, type=click.Path(file_okay=False), metavar="OUTDIR",
    help="Output folder: OUTDIR/<name>/ per model, index.html, results.json, junit.xml.",
)  # fmt: skip
@click.option(
    "--workers", type=click.IntRange(min=1), metavar="N",
    help="Models converted at once [default: the usable cores]; with --ray local, the cluster's CPUs (with --ray "
    "ADDRESS the cluster's resources decide).",
)  # fmt: skip
@click.option(
    "--ray", "ray_address", metavar="local|ADDRESS",
    help="Run on Ray: 'local' starts a cluster on this machine, ADDRESS (host:port) joins one (pip install "
    '"pt2trt[ray]").',
)  # fmt: skip
@click.option(
    "--baseline", type=click.Path(file_okay=False), metavar="PREV_OUTDIR",
    help="An earlier sweep's OUTDIR: new failures, metric drops and latency changes per model.",
)  # fmt: skip
@click.option(
    "--latency-threshold", type=click.FloatRange(min=0), default=0.10, show_default=True, metavar="R",
    help="With --baseline: a median must move by more than this ratio and the runs' own spread to count.",
)  # fmt: skip
@click.option(
    "--metric-drop", type=click.FloatRange(min=0), default=0.01, show_default=True, metavar="D",
    help="With --baseline: the drop of an agreement or task metric (absolute) that counts as a regression.",
)  # fmt: skip
@click.option("--fail-on-regression", is_flag=True, help="With --baseline: exit 1 when any model regressed.")
@click.option("--resume", is_flag=True, help="Keep the models already done in OUTDIR; run the others.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr; only the summary.")
@click.option("-f", "--force", is_flag=True, help="Run every model again, replacing OUTDIR's earlier sweep.")
@json_option
def command(
    manifest: str,
    outdir: str,
    workers: int | None,
    ray_address: str | None,
    baseline: str | None,
    latency_threshold: float,
    metric_drop: float,
    fail_on_regression: bool,
    resume: bool,
    quiet: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Convert every model of ZOO.yaml (convert's options as keys, see docs/sweep.md) into OUTDIR/<name>/, on local
    worker processes or a Ray cluster. Exit 0 when every model passed, 1 when any failed, 2 on usage errors.

    \b
    pt2trt sweep examples/zoo.yaml -o out/zoo --workers 2
    pt2trt sweep examples/zoo.yaml -o out/zoo-2 --ray local --baseline out/zoo
    """
    from pt2trt.errors import CheckFailed, UsageError
    from pt2trt.sweeping import Thresholds, sweep

    if resume and force:
        raise UsageError("--resume and --force contradict each other", "Keep the models done (--resume) or not")
    if fail_on_regression and baseline is None:
        raise UsageError("--fail-on-regression needs --baseline", "Pass the OUTDIR of an earlier sweep")
    report = sweep(
        manifest,
        outdir,
        progress=not quiet and not as_json,
        check_args=check_convert_args,
        workers=workers,
        ray=ray_address,
        baseline=Path(baseline) if baseline else None,
        resume=resume,
        force=force,
        thresholds=Thresholds(latency=latency_threshold, metric_drop=metric_drop),
    )
    if as_json:
        print_json(report.to_dict())
    else:
        _print_summary(report)
    if not report.passed:
        failed = [m.name for m in report.models if not m.passed]
        raise CheckFailed(f"{len(failed)} model(s) failed: {', '.join(failed)}", "index.html shows each one's step")
    if fail_on_regression and report.regressions:
        raise CheckFailed(f"regressions: {', '.join(report.regressions)}", "index.html shows what changed")


def check_convert_args(argv: list[str]) -> tuple[str, str | None] | None:
    """Parse ``argv`` with ``pt2trt convert``'s own options (nothing runs): the first problem and its flag."""
    from pt2trt.cli.convert import command as convert
    from pt2trt.errors import Pt2trtError

    try:
        with convert.make_context("convert", list(argv)):
            pass
    except click.ClickException as exc:
        param = getattr(exc, "param", None)
        flags = [o for o in getattr(param, "opts", []) if o.startswith("--")]
        return exc.format_message(), flags[0] if flags else None
    except Pt2trtError as exc:  # convert's --input parser raises pt2trt's own usage error
        return str(exc), "--input" if "--input" in exc.message else None
    return None


def _print_summary(report: Any) -> None:
    width = max((len(m.name) for m in report.models), default=8)
    for m in report.models:
        click.echo(f"{m.name:<{width}}  {m.summary()}")
    if report.baseline is not None:
        click.echo(f"against the baseline {report.baseline}:")
        for m in report.models:
            verdict = report.verdicts.get(m.name)
            if verdict is not None:
                click.echo(f"  {m.name:<{width}}  {verdict.line()}")
    s = report.summary()
    parts = [f"{s['passed']}/{s['models']} passed"] + [
        f"{s[k]} {label}" for k, label in (("failed", "failed"), ("error", "could not run")) if s[k]
    ]
    if report.baseline is not None:
        parts.append(f"{s['regressions']} regression(s)")
    out = report.outdir
    click.echo(
        f"sweep: {', '.join(parts)} in {report.seconds:.1f} s; wrote {out / 'index.html'}, results.json, junit.xml"
    )
