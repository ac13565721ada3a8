"""``report.html`` (one self-contained file: every figure and picture a ``data:`` URI, styles inline, no script) and
``report.json``, from a convert result. Templates are Jinja2 files shipped in ``pt2trt/report/templates``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt import _version
from pt2trt.files import publish, staging_dir
from pt2trt.report import plots

THUMBNAIL = 320  # longest side of the inline prediction pictures, pixels


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def svg_uri(svg: str | None) -> str | None:
    return data_uri(svg.encode("utf-8"), "image/svg+xml") if svg else None


def thumbnail_uri(path: Path) -> str | None:
    """A JPEG of at most ``THUMBNAIL`` pixels a side, as a data URI (None if the picture cannot be read)."""
    try:
        from PIL import Image

        with Image.open(path) as opened:
            image = opened.convert("RGB")
            image.thumbnail((THUMBNAIL, THUMBNAIL))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85)
    except (OSError, ImportError):
        return None
    return data_uri(buffer.getvalue(), "image/jpeg")


def _verification(results: dict[str, Any]) -> dict[str, Any] | None:
    verify = results.get("verify")
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


def _speed(results: dict[str, Any]) -> dict[str, Any] | None:
    """Every backend's latency at FP32 and at each reduced precision, and agreement against latency across them."""
    bench = results.get("bench")
    if bench is None:
        return None
    reduced: dict[str, Any] = results.get("bench_reduced") or {}
    rows = [(f"{r.label} fp32", r) for r in bench.results]
    points = [(f"{r.label} fp32", r.latency.median, 100.0) for r in bench.ran if r.backend != "torch"]
    unknown = False
    for precision, report in reduced.items():
        rows += [(f"{r.label} {precision}", r) for r in report.results]
        agreement = _agreement_pct((results.get("precision") or {}).get(precision))
        unknown |= agreement is None
        if agreement is not None:
            points += [(f"{r.label} {precision}", r.latency.median, agreement) for r in report.ran]
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


def _precision(results: dict[str, Any]) -> list[dict[str, Any]] | None:
    """One row per reduced precision asked for: its file, its agreement with FP32, what stayed in float."""
    by_precision = results.get("precision")
    if not by_precision:
        return None
    rows = []
    for result in by_precision.values():
        accuracy = result.accuracy
        task = accuracy.task.metrics if accuracy is not None and accuracy.task is not None else {}
        outputs = accuracy.outputs if accuracy is not None else []
        rows.append(
            {
                "precision": result.precision,
                "output": Path(result.output).name,
                "agreement": _agreement_pct(result),
                "metrics": {k: v for k, v in task.items() if isinstance(v, int | float)},
                "cosine": min((o.comparison.cosine_similarity or 0.0 for o in outputs), default=None),
                "max_abs": max((o.comparison.max_abs_error or 0.0 for o in outputs), default=None),
                "nonfinite": accuracy.new_nonfinite if accuracy is not None else None,
                "kept_fp32": [layer.label() if hasattr(layer, "label") else str(layer) for layer in result.kept_fp32],
                "excluded": [layer.label() if hasattr(layer, "label") else str(layer) for layer in result.excluded],
                "passed": getattr(accuracy, "passed", None),
            }
        )
    return rows


def _predictions(results: dict[str, Any]) -> dict[str, Any] | None:
    per_backend = results.get("predict")
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


def _debug(results: dict[str, Any]) -> dict[str, Any] | None:
    report = results.get("debug")
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


def context(result: Any, outdir: Path) -> dict[str, Any]:
    """Everything the template shows, as plain data (also what the tests inspect)."""
    results = result.results
    graph = outdir / "model.svg"
    facts = result.facts or {}
    ops = sorted((facts.get("op_counts") or {}).items(), key=lambda kv: -kv[1])
    lint = results.get("lint")
    verification = _verification(results)
    errors = _errors_vs_torch(results.get("bench"))
    return {
        "title": f"pt2trt convert: {result.options.model}",
        "verdict": result.verdict(),
        "passed": result.passed,
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": _version.__version__,
        "options": result.options.to_dict(),
        "steps": [s.to_dict() for s in result.steps],
        "failed": result.failed_step.to_dict() if result.failed_step else None,
        "facts": facts,
        "ops": ops,
        "lint": lint.to_dict() | {"summary": lint.summary()} if lint is not None else None,
        "verification": verification,
        "error_histogram": svg_uri(plots.error_histogram(errors)),
        "debug": _debug(results),
        "precision": _precision(results),
        "speed": _speed(results),
        "graph": data_uri(graph.read_bytes(), "image/svg+xml") if graph.is_file() else None,
        "predictions": _predictions(results),
        "commands": [(s.title, s.command) for s in result.steps if s.command],
        "plots_missing": None if plots.available() else plots.MISSING,
    }


def render(ctx: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pt2trt.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, spec=".3g": "-" if v is None else format(v, spec)
    return env.get_template("report.html.j2").render(**ctx)


def write_report(result: Any, outdir: str | Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.json`` into ``outdir`` atomically; their paths."""
    out = Path(outdir)
    html_path, json_path = out / "report.html", out / "report.json"
    ctx = context(result, out)
    text = render(ctx)
    data = result.to_dict() | {"report_html": str(html_path)}
    with staging_dir(html_path) as tmp:
        (tmp / "report.html").write_text(text, encoding="utf-8")
        (tmp / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        replace = bool(getattr(getattr(result, "options", None), "force", False))  # convert --force
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
