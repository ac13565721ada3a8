"""The report's figures, drawn with matplotlib as SVG text. Without matplotlib every function returns None and the
report says so (``MISSING``); matplotlib is the ``plot`` extra, not a dependency.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

MISSING = 'figures need matplotlib, which is not installed: pip install "pt2trt[plot]" and run convert again'


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "pt2trt"  # deterministic ids: the same run gives the same file
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text (smaller, searchable)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def latency_distributions(rows: Sequence[tuple[str, Sequence[float]]]) -> str | None:
    """One horizontal box plot per backend (label, latencies in ms), median marked, outliers shown."""
    rows = [(label, list(v)) for label, v in rows if len(v)]
    if not available() or not rows:
        return None
    fig = _figure(8.0, 0.5 * len(rows) + 1.4)
    ax = fig.subplots()
    labels = [label for label, _ in rows]
    ax.boxplot([v for _, v in rows], orientation="horizontal", tick_labels=labels, whis=(1, 99), showfliers=True,
               flierprops={"markersize": 2, "alpha": 0.4})  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("latency per inference (ms, log scale); whiskers p1-p99")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def accuracy_vs_latency(points: Sequence[tuple[str, float, float]]) -> str | None:
    """(label, median latency ms, agreement %) per precision and backend."""
    if not available() or not points:
        return None
    fig = _figure(6.5, 3.6)
    ax = fig.subplots()
    for label, latency, agreement in points:
        ax.scatter([latency], [agreement], s=36)
        ax.annotate(label, (latency, agreement), xytext=(5, 4), textcoords="offset points", fontsize=8)
    ax.set_xlabel("median latency (ms)")
    ax.set_ylabel("agreement with FP32 (%)")
    low = min(p[2] for p in points)
    ax.set_ylim(min(low - 2, 95), 100.8)
    ax.grid(alpha=0.3)
    return _svg(fig)


def error_histogram(errors: dict[str, np.ndarray]) -> str | None:
    """Histogram of |backend - PyTorch| per backend over every output element (log-spaced bins)."""
    if not available() or not errors:
        return None
    fig = _figure(7.0, 3.4)
    ax = fig.subplots()
    floor = 1e-12
    flat = {k: np.maximum(np.abs(v).ravel().astype(np.float64), floor) for k, v in errors.items() if v.size}
    if not flat:
        return None
    high = max(float(v.max()) for v in flat.values())
    bins = np.logspace(np.log10(floor), np.log10(max(high, floor * 10)) + 0.1, 50)
    for label, values in flat.items():
        ax.hist(values, bins=bins, histtype="step", linewidth=1.4, label=label)
    ax.set_xscale("log")
    ax.set_xlabel(f"absolute error vs PyTorch (exact matches drawn at {floor:g})")
    ax.set_ylabel("elements")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _svg(fig)


def layer_errors(report: Any) -> str | None:
    """``debug layers``: max abs error along depth by PyTorch module, the origin marked (as ``--plot`` draws it)."""
    if not available() or not getattr(report, "layers", None):
        return None
    layers = report.layers
    worst = [layer.worst for layer in layers]
    errors = [max(w.max_abs_error or 0.0, 1e-12) if w.max_abs_error is not None else 1e-12 for w in worst]
    colors = ["tab:green" if layer.passed else "tab:red" for layer in layers]
    fig = _figure(max(7.0, min(0.12 * len(layers), 14.0)), 3.6)
    ax = fig.subplots()
    depth = list(range(len(layers)))
    ax.plot(depth, errors, color="0.6", linewidth=0.8)
    ax.scatter(depth, errors, c=colors, s=14, zorder=3)
    ax.set_yscale("log")
    ax.set_ylabel("max abs error")
    ax.set_xlabel("PyTorch module (execution order)")
    if report.origin is not None and report.origin in layers:
        x = layers.index(report.origin)
        ax.axvline(x, color="tab:red", linestyle="--", linewidth=1)
        ax.annotate(f"origin: {report.origin.label} ({report.origin.cls})", (x, errors[x]), xytext=(8, 8),
                    textcoords="offset points", color="tab:red", fontsize=9)  # fmt: skip
    return _svg(fig)
