"""``pt2trt sweep``, and ``pt2trt.sweep``: the sweep with convert's own options to check the manifest with.

:mod:`pt2trt.sweeping` sits below :mod:`pt2trt.cli` in the layers (it may not import convert's click command), so
the manifest's keys and values are checked through a :class:`~pt2trt.sweeping.convert_config.ConvertOptions` passed
in: :class:`ConvertCommand`, read from ``pt2trt convert`` itself (its config-file keys, click types and settings).
The CLI command and the Python API (:func:`sweep`, exported as ``pt2trt.sweep``) both pass it, so both refuse a bad
manifest at its line before anything runs; no table of convert's options is kept anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pt2trt.cli.options import Decorator, json_option, option_group, print_json

if TYPE_CHECKING:
    from pt2trt.settings.sweep import SweepSettings
    from pt2trt.sweeping.convert_config import Where
    from pt2trt.sweeping.outputs import SweepReport


class ConvertCommand:
    """convert's options as the sweep needs them (:class:`~pt2trt.sweeping.convert_config.ConvertOptions`), read
    from ``pt2trt convert``'s click command: a new convert option is a manifest key the day it exists."""

    def __init__(self) -> None:
        from pt2trt.cli.convert import command

        self.command = command

    def path_keys(self) -> dict[str, str]:
        """Keys whose values name files: MODEL and ``--pytorch`` (model specs); options that take a path
        (``click.Path``, or a FILE/DIR/DATA metavar); a path or a name when the metavar offers both (``FILE|NAME``,
        ``PRESET|FILE.yaml``)."""
        from pt2trt.cli.config_file import keys_of
        from pt2trt.sweeping.convert_config import MODEL, PATH, PATH_OR_NAME

        kinds: dict[str, str] = {}
        for key, param in keys_of(self.command).items():
            metavar = str(getattr(param, "metavar", None) or "")
            words = set(metavar.replace(".", "|").split("|"))
            if (isinstance(param, click.Argument) and param.name == "model") or metavar == "MODEL":
                kinds[key] = MODEL
            elif "|" in metavar and "FILE" in words:
                kinds[key] = PATH_OR_NAME
            elif isinstance(param.type, click.Path) or words & {"FILE", "DIR", "DATA", "PATH"}:
                kinds[key] = PATH
        return kinds

    def check(self, values: Mapping[str, Any], lines: Mapping[str, int], where: Where) -> None:
        """The entry's keys and shapes as ``convert --config`` reads them, then its values through convert's click
        types, callbacks and settings (nothing runs); the first problem is a usage error at its key's line."""
        from pt2trt.cli.config_file import config_values, key_of_error
        from pt2trt.cli.convert import settings_of
        from pt2trt.errors import Pt2trtError, UsageError
        from pt2trt.sweeping.convert_config import OWN_KEYS

        default_map = config_values(values, lines, self.command, where, also=OWN_KEYS)
        try:
            settings_of(default_map)
        except (click.ClickException, Pt2trtError) as exc:
            key = key_of_error(exc, self.command, values.keys())
            if isinstance(exc, click.BadParameter) and key:  # click says '--flag': name the manifest's key
                message = f"invalid value for '{key}': {exc.message}"
            else:
                message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
            raise UsageError(
                f"{where(lines.get(key) if key else None)}: {message.rstrip('.')}",
                f"Fix the value of '{key}'" if key else "Fix this model's options (pt2trt convert --help lists them)",
            ) from None


def sweep(
    manifest: str | Path, outdir: str | Path, settings: SweepSettings | None = None, *, progress: bool = True
) -> SweepReport:
    """``pt2trt sweep`` as a function: every model of ``manifest`` through ``convert`` into ``outdir/<name>/``, with
    ``index.html``, ``results.json`` and ``junit.xml``; returns the :class:`~pt2trt.sweeping.SweepReport`.

    The manifest is checked against convert's own options before anything runs, as by the CLI: it is
    :func:`pt2trt.sweeping.run.sweep` given :class:`ConvertCommand` (which is why it lives here, above
    ``pt2trt.sweeping`` in the layers).
    """
    from pt2trt.sweeping.run import sweep as run_sweep

    return run_sweep(manifest, outdir, settings, convert=ConvertCommand(), progress=progress)


def sweep_options() -> Decorator:
    """--workers, --ray, --baseline, --latency-threshold, --metric-drop, --resume, --force -> ``settings:
    SweepSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import SweepSettings, Thresholds

        return SweepSettings(
            workers=v["workers"], ray=v["ray_address"], baseline=Path(v["baseline"]) if v["baseline"] else None,
            resume=v["resume"], force=v["force"],
            thresholds=Thresholds(latency=v["latency_threshold"], metric_drop=v["metric_drop"]),
        )  # fmt: skip

    return option_group(
        "settings",
        [
            click.Option(
                ["--workers"], type=click.IntRange(min=1), metavar="N",
                help="Models converted at once [default: the usable cores]; with --ray local, the cluster's CPUs "
                "(with --ray ADDRESS the cluster's resources decide).",
            ),
            click.Option(
                ["--ray", "ray_address"], metavar="local|ADDRESS",
                help="Run on Ray: 'local' starts a cluster on this machine, ADDRESS (host:port) joins one (pip install "
                '"pt2trt[ray]").',
            ),
            click.Option(
                ["--baseline"], type=click.Path(file_okay=False), metavar="PREV_OUTDIR",
                help="An earlier sweep's OUTDIR: new failures, metric drops and latency changes per model.",
            ),
            click.Option(
                ["--latency-threshold"], type=click.FloatRange(min=0), default=0.10, show_default=True, metavar="R",
                help="With --baseline: a median must move by more than this ratio and the runs' own spread to count.",
            ),
            click.Option(
                ["--metric-drop"], type=click.FloatRange(min=0), default=0.01, show_default=True, metavar="D",
                help="With --baseline: the drop of an agreement or task metric (absolute) that counts as a "
                "regression.",
            ),
            click.Option(["--resume"], is_flag=True, help="Keep the models already done in OUTDIR; run the others."),
            click.Option(["-f", "--force"], is_flag=True,
                         help="Run every model again, replacing OUTDIR's earlier sweep."),
        ],
        make,
    )  # fmt: skip


@click.command("sweep")
@click.argument("manifest", metavar="ZOO.yaml")
@click.option(
    "-o", "--output", "outdir", required=True, type=click.Path(file_okay=False), metavar="OUTDIR",
    help="Output folder: OUTDIR/<name>/ per model, index.html, results.json, junit.xml.",
)  # fmt: skip
@sweep_options()
@click.option("--fail-on-regression", is_flag=True, help="With --baseline: exit 1 when any model regressed.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr; only the summary.")
@json_option
def command(
    manifest: str, outdir: str, settings: SweepSettings, fail_on_regression: bool, quiet: bool, as_json: bool
) -> None:
    """Convert every model of ZOO.yaml into OUTDIR/<name>/, on local worker processes or a Ray cluster. Each model
    is a `pt2trt convert --config` file plus its name: every convert option is a key (pt2trt convert --help lists
    them; docs/sweep.md). Exit 0 when every model passed, 1 when any failed, 2 on usage errors.

    \b
    pt2trt sweep examples/zoo.yaml -o out/zoo --workers 2
    pt2trt sweep examples/zoo.yaml -o out/zoo-2 --ray local --baseline out/zoo
    """
    from pt2trt.errors import CheckFailed, UsageError

    if fail_on_regression and settings.baseline is None:
        raise UsageError("--fail-on-regression needs --baseline", "Pass the OUTDIR of an earlier sweep")
    report = sweep(manifest, outdir, settings, progress=not quiet and not as_json)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_summary(report)
    if not report.passed:
        failed = [m.name for m in report.models if not m.passed]
        raise CheckFailed(f"{len(failed)} model(s) failed: {', '.join(failed)}", "index.html shows each one's step")
    if fail_on_regression and report.regressions:
        raise CheckFailed(f"regressions: {', '.join(report.regressions)}", "index.html shows what changed")


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
