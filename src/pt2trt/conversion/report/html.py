"""``report.html`` (one self-contained file: every figure and picture a ``data:`` URI, styles inline, no script) and
``report.json``, from a convert result. Templates are Jinja2 files shipped in ``pt2trt/conversion/report/templates``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt import _version
from pt2trt.conversion.report import plots
from pt2trt.files import publish, staging_dir

if TYPE_CHECKING:
    from pt2trt.conversion.record import ConvertResult, ConvertResults

THUMBNAIL = 320  # longest side of the inline prediction pictures, pixels


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def svg_uri(svg: str | None) -> str | None:
    return data_uri(svg.encode("utf-8"), "image/svg+xml") if svg else None


def thumbnail_uri(path: Path, panels: int = 1) -> str | None:
    """A JPEG of at most ``THUMBNAIL`` pixels high and ``panels`` times that wide (a strip of pictures side by side
    keeps each picture's size), as a data URI (None if the picture cannot be read)."""
    try:
        from PIL import Image

        with Image.open(path) as opened:
            image = opened.convert("RGB")
            image.thumbnail((THUMBNAIL * panels, THUMBNAIL))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85)
    except (OSError, ImportError):
        return None
    return data_uri(buffer.getvalue(), "image/jpeg")


def _verification(results: ConvertResults) -> dict[str, Any] | None:
    verify = results.verify
    if verify is None:
        return None
    c = verify.comparison
    task = verify.task_comparison
    return {
        "passed": verify.passed,
        "rtol": c.rtol,
        "atol": c.atol,
        "inputs": ", ".join(str(s) for s in verify.inputs),
        "outputs": [t.to_dict() for t in c.tensors],
        "task": {"name": task.task, "criterion": task.criterion, "lines": task.summary()} if task else None,
    }


def _errors_vs_torch(bench: Any) -> dict[str, np.ndarray]:
    """|backend - torch| over every output element, from the bench's first (untimed) call on one input."""
    if bench is None:
        return {}
    torch = next((r for r in bench.ran if r.backend == "torch" and r.outputs), None)
    if torch is None:
        return {}
    errors = {}
    for r in bench.ran:
        if r is torch or not r.outputs or len(r.outputs) != len(torch.outputs):
            continue
        pairs = [(a, b) for a, b in zip(r.outputs, torch.outputs) if np.shape(a) == np.shape(b)]
        if pairs:
            errors[r.label] = np.concatenate([(np.asarray(a, np.float64) - b).ravel() for a, b in pairs])
    return errors


def _speed(results: ConvertResults) -> dict[str, Any] | None:
    """Every backend's latency at FP32 and at each reduced precision, and agreement against latency across them."""
    bench = results.bench
    if bench is None:
        return None
    reduced = results.bench_reduced
    rows = [(f"{r.label} fp32", r) for r in bench.results]
    points = [(f"{r.label} fp32", r.latency.median, 100.0) for r in bench.ran if r.backend != "torch" and r.latency]
    unknown = False
    for precision, report in reduced.items():
        rows += [(f"{r.label} {precision}", r) for r in report.results]
        agreement = _agreement_pct(results.precision.get(precision))
        unknown |= agreement is None
        if agreement is not None:
            points += [(f"{r.label} {precision}", r.latency.median, agreement) for r in report.ran if r.latency]
    table = [{**r.to_dict(), "label": label} for label, r in rows]
    dist = plots.latency_distributions([(label, r.samples_ms) for label, r in rows if r.status == "ok"])
    return {
        "fairness": bench.fairness(),
        "rows": table,
        "warnings": bench.warnings + [w for report in reduced.values() for w in report.warnings],
        "distribution": svg_uri(dist),
        "accuracy_latency": svg_uri(plots.accuracy_vs_latency(points)),
        "agreement_known": not unknown,
    }


def _agreement_pct(result: Any) -> float | None:
    """The reduced model's agreement with FP32 in percent, from its accuracy record when it gives one."""
    accuracy = getattr(result, "accuracy", None)
    if accuracy is None:
        return None
    value = accuracy.agreement  # the task's primary agreement (top-1 for classify), a fraction
    return None if value is None else 100.0 * float(value)


#: task figures the precision table leaves out: counts the agreement line already says, and the comparator's workings
_COUNTED = ("detections_", "matched", "unmatched_", "at_decision_boundary", "boundary_", "unexplained_", "allowed_",
            "agreeing_fraction", "top1_agreement", "pixel_agreement", "images")  # fmt: skip


def _precision(result_: ConvertResult) -> list[dict[str, Any]] | None:
    """One row per reduced precision asked for: its file, its agreement with FP32, what stayed in float, and the
    verdict of its convert step (``--min-agreement`` decides there, not only quantize's own checks)."""
    by_precision = result_.results.precision
    if not by_precision:
        return None
    rows = []
    for result in by_precision.values():
        step = result_.step(f"precision-{result.precision}")
        accuracy = result.accuracy
        task = accuracy.task.metrics if accuracy is not None and accuracy.task is not None else {}
        outputs = accuracy.outputs if accuracy is not None else []
        rows.append(
            {
                "precision": result.precision,
                "output": Path(result.output).name,
                "agreement": _agreement_pct(result),
                # the figure the verdict rests on, as a count with its interval (or each output's verdict)
                "agreement_text": accuracy.headline() if hasattr(accuracy, "headline") else None,
                "metrics": {k: v for k, v in task.items() if isinstance(v, int | float) and not k.startswith(_COUNTED)},
                "cosine": min((o.comparison.cosine_similarity or 0.0 for o in outputs), default=None),
                "max_abs": max((o.comparison.max_abs_error or 0.0 for o in outputs), default=None),
                "nonfinite": accuracy.new_nonfinite if accuracy is not None else None,
                "kept_fp32": [layer.label() if hasattr(layer, "label") else str(layer) for layer in result.kept_fp32],
                "excluded": [layer.label() if hasattr(layer, "label") else str(layer) for layer in result.excluded],
                "status": step.status if step is not None else ("passed" if accuracy.passed else "failed"),
                "reason": step.hint if step is not None and step.status == "failed" and step.hint else "",
                "floor": result_.settings.min_agreement,
            }
        )
    return rows


def _evaluation(results: ConvertResults) -> dict[str, Any] | None:
    """``--eval``: every model's task metric side by side (the first is the reference), the per-class figures that
    moved most, and the pictures whose answer changed."""
    report = results.evaluation
    if report is None:
        return None
    reference = report.reference
    rows = []
    for e in report.evaluations:
        deltas = {d.metric: d for d in e.deltas}
        cells = []
        for metric, value in e.metrics.items():
            d = deltas.get(metric)
            cells.append({
                "metric": metric, "value": value, "delta": None if d is None else d.delta,
                "p": None if d is None else d.p_value, "significant": False if d is None else d.significant,
            })  # fmt: skip
        rows.append({"label": _short(e.label), "reference": e.reference, "cells": cells, "changed": e.changed})
    by_class = {c.id: c for c in reference.per_class}
    moved: list[dict[str, Any]] = []
    for e in report.evaluations[1:]:
        for c in e.per_class:
            base = by_class.get(c.id)
            if base is not None and base.value is not None and c.value is not None and c.value != base.value:
                moved.append({"model": _short(e.label), "name": c.name, "reference": base.value, "value": c.value,
                              "support": c.support})  # fmt: skip
    moved.sort(key=lambda m: m["value"] - m["reference"])
    thumbnails = [
        {"model": _short(e.label), "uri": uri} for e in report.evaluations for path in e.saved[:6]
        if (uri := thumbnail_uri(Path(path), panels=3)) is not None  # truth, reference, model
    ]  # fmt: skip
    return {
        "task": report.task, "data": report.data, "images": report.images, "primary": report.primary,
        "max_drop": report.max_drop, "failures": report.failures, "rows": rows, "moved": moved[:12],
        "changed": thumbnails, "notes": report.notes,
    }  # fmt: skip


def _short(label: str) -> str:
    """``/long/path/model-fp16.onnx (onnxruntime)`` as ``model-fp16.onnx (onnxruntime)``: the files sit in OUTDIR."""
    return label.rsplit("/", 1)[-1]


def _predictions(results: ConvertResults) -> dict[str, Any] | None:
    per_backend = results.predict
    if not per_backend:
        return None
    backends = list(per_backend)
    names = [p.name for p in per_backend[backends[0]]]
    rows = []
    for i, name in enumerate(names):
        cells = []
        for b in backends:
            p = per_backend[b][i] if i < len(per_backend[b]) else None
            summary = json.dumps(p.result.to_dict(_labels()), default=str)[:160] if p else ""
            cells.append({"backend": b, "uri": thumbnail_uri(p.saved) if p and p.saved else None, "text": summary})
        rows.append({"image": name, "cells": cells})
    return {"backends": backends, "rows": rows}


def _labels() -> Any:
    from pt2trt.tasks import Labels

    return Labels()


def _debug(results: ConvertResults) -> dict[str, Any] | None:
    report = results.debug
    if report is None:
        return None
    failed = [
        {"label": layer.label, "cls": layer.cls, "max_abs": layer.worst.max_abs_error} for layer in report.failed[:12]
    ]
    origin = report.origin
    return {
        "origin": origin.label if origin else None,
        "origin_cls": origin.cls if origin else None,
        "note": report.origin_note,
        "failed": failed,
        "plot": svg_uri(plots.layer_errors(report)),
        "skipped": report.skipped,
    }


def context(result: ConvertResult, outdir: Path) -> dict[str, Any]:
    """Everything the template shows, as plain data (also what the tests inspect)."""
    results = result.results
    graph = outdir / "model.svg"
    facts = result.facts or {}
    ops = sorted((facts.get("op_counts") or {}).items(), key=lambda kv: -kv[1])
    lint = results.lint
    verification = _verification(results)
    errors = _errors_vs_torch(results.bench)
    return {
        "title": f"pt2trt convert: {result.model}",
        "verdict": result.verdict(),
        "passed": result.passed,
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": _version.__version__,
        "options": result.options(),
        "steps": [s.to_dict() for s in result.steps],
        "failed": result.failed_step.to_dict() if result.failed_step else None,
        "facts": facts,
        "ops": ops,
        "lint": lint.to_dict() | {"summary": lint.summary()} if lint is not None else None,
        "verification": verification,
        "error_histogram": svg_uri(plots.error_histogram(errors)),
        "debug": _debug(results),
        "precision": _precision(result),
        "evaluation": _evaluation(results),
        "speed": _speed(results),
        "graph": data_uri(graph.read_bytes(), "image/svg+xml") if graph.is_file() else None,
        "predictions": _predictions(results),
        "commands": [(s.title, s.command) for s in result.steps if s.command],
        "plots_missing": None if plots.available() else plots.MISSING,
    }


def render_template(package: str, name: str, ctx: dict[str, Any], number: str = ".3g") -> str:
    """``package``'s ``templates/name`` rendered with ``ctx``: HTML escaped, block tags trimmed, and a ``num`` filter
    (``number`` format by default, ``-`` for None). convert's report and sweep's index share it."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, spec=number: "-" if v is None else format(v, spec)
    return env.get_template(name).render(**ctx)


def render(ctx: dict[str, Any]) -> str:
    return render_template("pt2trt.conversion.report", "report.html.j2", ctx)


def write_report(result: ConvertResult, outdir: str | Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.json`` into ``outdir`` atomically; their paths."""
    out = Path(outdir)
    html_path, json_path = out / "report.html", out / "report.json"
    ctx = context(result, out)
    text = render(ctx)
    data = result.to_dict() | {"report_html": str(html_path)}
    with staging_dir(html_path) as tmp:
        (tmp / "report.html").write_text(text, encoding="utf-8")
        (tmp / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        replace = result.settings.force  # convert --force
        publish(tmp / "report.json", json_path, replace=replace)
        publish(tmp / "report.html", html_path, replace=replace)
    _write_figures(ctx, out)
    return html_path, json_path


def _write_figures(ctx: dict[str, Any], out: Path) -> None:
    """The report's figures also as files under ``figures/`` (for slides and CI artifacts)."""
    figures = {
        "latency.svg": (ctx["speed"] or {}).get("distribution"),
        "accuracy-vs-latency.svg": (ctx["speed"] or {}).get("accuracy_latency"),
        "errors.svg": ctx["error_histogram"],
        "debug-layers.svg": (ctx["debug"] or {}).get("plot"),
    }
    present = {name: uri for name, uri in figures.items() if uri}
    if not present:
        return
    folder = out / "figures"
    folder.mkdir(exist_ok=True)
    for name, uri in present.items():
        (folder / name).write_bytes(base64.b64decode(uri.split(",", 1)[1]))
