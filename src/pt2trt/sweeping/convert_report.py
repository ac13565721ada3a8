"""The one reader of convert's ``report.json``: status, the failing step and its one-line reason, the agreement and
task metrics of each step, the latency of each backend.

Only this module knows the layout of convert's report (the ``steps`` list, each with ``name``, ``status``, ``line``,
``error`` and ``data``); the sweep stores what it returns in :class:`~pt2trt.sweeping.records.ModelResult`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pt2trt.sweeping.records import FAILED, PASSED, Latency, Metric

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
ENGINE_STEP = "engine"
BUILD_PLAN = "build-plan.json"

_HIGHER = ("agreement", "fraction", "iou", "accuracy", "cosine", "map", "f1", "precision", "recall")
_LOWER = ("error",)


def read_report(folder: Path) -> dict[str, Any] | None:
    """``report.json`` of a convert run in ``folder`` as a dict, None when convert did not write one."""
    path = folder / REPORT_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("steps"), list) else None


def outcome(report: dict[str, Any]) -> dict[str, Any]:
    """Status, failing step (name), reason (one line), the steps in short, metrics, latency and the engine record."""
    steps = [s for s in report["steps"] if isinstance(s, dict)]
    failed = next((s for s in steps if s.get("status") == FAILED), None)
    return {
        "status": PASSED if report.get("passed") and failed is None else FAILED,
        "step": failed.get("name") if failed else None,
        "reason": _one_line(failed.get("line") or failed.get("error") or "") if failed else "",
        "steps": [{"name": s.get("name"), "status": s.get("status"), "seconds": s.get("seconds")} for s in steps],
        "metrics": metrics(steps),
        "latency": latency(_step(steps, "bench")),
        "engine": _engine(_step(steps, ENGINE_STEP)),
    }


def _step(steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    step = next((s for s in steps if s.get("name") == name), None)
    data = step.get("data") if step else None
    return data if isinstance(data, dict) else {}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:400]


def metrics(steps: list[dict[str, Any]]) -> dict[str, Metric]:
    """``verify.*`` (worst output cosine, max abs error, task agreement), ``precision-P.*`` (agreement with FP32,
    task metrics, worst cosine) and ``eval.M.*`` (``--eval``: the task metrics of PyTorch, FP32 and each precision on
    labelled data), each with the samples it rests on."""
    found: dict[str, Metric] = {}
    for step in steps:
        name, data = step.get("name"), step.get("data")
        if not isinstance(name, str) or not isinstance(data, dict) or step.get("status") == "skipped":
            continue
        if name == "verify":
            task: dict[str, Any] = data["task"] if isinstance(data.get("task"), dict) else {}
            samples = task.get("images") if isinstance(task.get("images"), int) else 1
            _outputs(found, "verify", data.get("outputs"), samples, task.get("task"))
            _numbers(found, "verify", task, task.get("images"))
        elif name.startswith("precision-") and isinstance(data.get("accuracy"), dict):
            accuracy = data["accuracy"]
            samples = accuracy.get("samples") if isinstance(accuracy.get("samples"), int) else None
            task = accuracy["task"] if isinstance(accuracy.get("task"), dict) else {}
            _outputs(found, name, accuracy.get("outputs"), samples, task.get("task"))
            _numbers(found, name, task, samples)
        elif name == "eval" and isinstance(data.get("models"), list):
            _evaluations(found, data, steps)
    return found


def _evaluations(found: dict[str, Metric], data: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    """``eval.pytorch.top1``, ``eval.fp32.top1``, ``eval.fp16.top1``...: each scored model's task metrics (all of them
    higher-is-better: top-k, mAP, mIoU, pixel accuracy), named by what it is: the PyTorch reference, a reduced
    precision (its file is that precision step's output), else the FP32 model."""
    outputs = {
        str(step["data"]["output"]): step["name"].removeprefix("precision-")
        for step in steps
        if str(step.get("name", "")).startswith("precision-") and isinstance(step.get("data"), dict)
        and step["data"].get("output")
    }  # fmt: skip
    for row in data["models"]:
        if not isinstance(row, dict) or not isinstance(row.get("metrics"), dict):
            continue
        label = "pytorch" if row.get("backend") == "torch" else outputs.get(str(row.get("model")), "fp32")
        samples = row.get("images") if isinstance(row.get("images"), int) else None
        for key, value in row["metrics"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                found[f"eval.{label}.{key}"] = Metric(float(value), samples, True)


def _outputs(found: dict[str, Metric], prefix: str, outputs: Any, samples: int | None, task: Any) -> None:
    """The worst output: lowest cosine similarity (not for detectors: their raw outputs are sets of boxes whose order
    may change; the task's box matching judges them), largest max abs error."""
    rows = [o for o in outputs or [] if isinstance(o, dict)]
    cosines = [o["cosine_similarity"] for o in rows if isinstance(o.get("cosine_similarity"), (int, float))]
    cosines = [] if task == "detect" else cosines
    errors = [o["max_abs_error"] for o in rows if isinstance(o.get("max_abs_error"), (int, float))]
    if cosines:
        found[f"{prefix}.cosine"] = Metric(float(min(cosines)), samples, True)
    if errors:
        found[f"{prefix}.max_abs_error"] = Metric(float(max(errors)), samples, False)


def _numbers(found: dict[str, Metric], prefix: str, values: dict[str, Any], samples: int | None) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        lowered = key.lower()
        if any(word in lowered for word in _LOWER):
            found[f"{prefix}.{key}"] = Metric(float(value), samples, False)
        elif any(word in lowered for word in _HIGHER):
            found[f"{prefix}.{key}"] = Metric(float(value), samples, True)


def latency(bench: dict[str, Any]) -> dict[str, Latency]:
    """Each backend's latency summary (label -> :class:`Latency`) from bench data (``report.json`` or bench --json)."""
    out: dict[str, Latency] = {}
    for row in bench.get("results") or []:
        stats = row.get("latency_ms") if isinstance(row, dict) else None
        if (
            row.get("status") != "ok"
            or not isinstance(stats, dict)
            or not isinstance(stats.get("median"), (int, float))
        ):
            continue
        out[str(row.get("label") or row.get("backend"))] = Latency(
            median=float(stats["median"]),
            p90=stats.get("p90"),
            min=stats.get("min"),
            n=int(stats.get("n") or 0),
            cv_pct=stats.get("cv_pct"),
        )
    return out


def _engine(data: dict[str, Any]) -> dict[str, Any] | None:
    """Convert's own engine step: built here (TensorRT and a GPU present), or the plan it wrote instead."""
    if not data:
        return None
    if data.get("engine"):
        return {"status": "built", "by": "convert", "path": Path(str(data["engine"])).name}
    return {"status": "planned", "by": "convert", "command": data.get("command")}
