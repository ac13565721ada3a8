"""``sweep``: every model of a manifest through ``convert``, on local worker processes or a Ray cluster, with the
three outputs written as models finish, and a verdict per model against an earlier sweep.

    import pt2trt
    from pt2trt.settings import SweepSettings

    report = pt2trt.sweep("examples/zoo.yaml", "out/zoo", SweepSettings(workers=2))
    print(report.summary(), [m.summary() for m in report.models])

``pt2trt.sweep`` is :func:`pt2trt.cli.sweep.sweep`: this function with convert's own options (read from its click
command) to check the manifest with; this package sits below ``pt2trt.cli`` and takes them as an argument.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pt2trt.errors import UsageError
from pt2trt.settings.sweep import SweepSettings
from pt2trt.sweeping.baseline import compare, load_baseline
from pt2trt.sweeping.convert_config import ConvertOptions
from pt2trt.sweeping.manifest import Manifest, load_manifest
from pt2trt.sweeping.outputs import SweepReport, write_outputs
from pt2trt.sweeping.progress import Display
from pt2trt.sweeping.records import ModelResult
from pt2trt.sweeping.store import OutputFolder


def sweep(
    manifest: str | Path,
    outdir: str | Path,
    settings: SweepSettings | None = None,
    *,
    convert: ConvertOptions,
    progress: bool = True,
) -> SweepReport:
    """Convert every model of ``manifest`` into ``outdir/<name>/`` and write ``index.html``, ``results.json`` and
    ``junit.xml``. One failing model never stops the others: the returned report holds each model's status
    (``report.passed`` is False when any failed).

    ``convert`` says what convert's options are (:class:`~pt2trt.sweeping.convert_config.ConvertOptions`): the
    manifest's entries are checked with it. Problems with the settings, the manifest, the output folder, the
    baseline or Ray raise before any model runs.
    """
    opts = settings or SweepSettings()
    if opts.workers is not None and opts.workers < 1:
        raise UsageError(f"--workers {opts.workers} is not a number of processes", "Pass --workers 1 or more")
    if opts.resume and opts.force:
        raise UsageError("--resume and --force contradict each other", "Keep the models done (--resume) or not")
    plan = load_manifest(manifest, convert)
    store = OutputFolder(Path(outdir))
    store.check([e.name for e in plan.entries], resume=opts.resume, force=opts.force)
    before = load_baseline(opts.baseline) if opts.baseline is not None else None
    kept: dict[str, ModelResult] = {}
    if opts.resume:
        kept = {e.name: r for e in plan.entries if (r := store.resumable(e.name, e.fingerprint)) is not None}
    todo = [e for e in plan.entries if e.name not in kept]
    executor = _executor(opts) if todo else _Nothing()
    report = SweepReport(plan.path, store.outdir, "", [], baseline=opts.baseline, thresholds=opts.thresholds)
    report.resumed = list(kept)
    display = Display(len(plan.entries), len(kept), progress, max(len(e.name) for e in plan.entries))
    start = time.perf_counter()
    finished = dict(kept)
    try:
        with executor:
            report.executor = executor.describe()
            display.note(f"sweep of {len(plan.entries)} model(s) on {report.executor}" + _kept_note(kept))
            store.outdir.mkdir(parents=True, exist_ok=True)
            _refresh(report, plan, finished, before, start, store)
            for result in executor.run(todo, store):
                finished[result.name] = result
                display.finished(result)
                _refresh(report, plan, finished, before, start, store)
    finally:
        display.stop()
    store.finish()
    return report


def _executor(opts: SweepSettings) -> Any:
    if opts.ray is not None:
        from pt2trt.sweeping.ray_executor import RayExecutor, import_ray

        import_ray()  # the install hint before anything else happens
        return RayExecutor(opts.ray, opts.workers, opts.gpu_bench_duration)
    from pt2trt.sweeping.local import LocalExecutor

    return LocalExecutor(opts.workers)


class _Nothing:
    """The executor of a resumed sweep with every model done: starts nothing (no Ray cluster for no work)."""

    def __enter__(self) -> _Nothing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def describe(self) -> str:
        return "no executor (every model kept)"

    def run(self, entries: list[Any], store: OutputFolder) -> list[ModelResult]:
        return []


def _kept_note(kept: dict[str, ModelResult]) -> str:
    return f"; {len(kept)} kept from the earlier run (--resume)" if kept else ""


def _refresh(
    report: SweepReport,
    plan: Manifest,
    finished: dict[str, ModelResult],
    before: dict[str, ModelResult] | None,
    start: float,
    store: OutputFolder,
) -> None:
    """The outputs as they stand now (in manifest order), so that a sweep stopped half way leaves them current."""
    report.models = [finished[e.name] for e in plan.entries if e.name in finished]
    report.pending = [e.name for e in plan.entries if e.name not in finished]
    if before is not None:
        report.verdicts = {m.name: compare(m, before.get(m.name), report.thresholds) for m in report.models}
    report.seconds = time.perf_counter() - start
    write_outputs(report, store)
