"""``--plot``: error against layer depth, the origin marked. Needs matplotlib (imported only here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pt2trt.debug.report import LayersReport
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import check_writable, publish, staging_dir

_FLOOR = 1e-12  # exact matches are drawn here on the log scale


def check_plot_path(path: str | Path, *, force: bool = False) -> Path:
    """Validate ``--plot FILE`` before any work: matplotlib present, a format it writes, no silent overwrite."""
    if importlib.util.find_spec("matplotlib") is None:
        raise Pt2trtError("--plot needs matplotlib, which is not installed", "Install it with: pip install matplotlib")
    out = check_writable(path, force=force)
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    if out.suffix.lstrip(".").lower() not in formats:
        raise UsageError(f"cannot draw a plot as '{out.suffix or out.name}'", f"Use one of: .{', .'.join(formats)}")
    return out


def plot_report(report: LayersReport, path: str | Path, *, force: bool = False) -> Path:
    """Draw max abs error and the share of elements out of tolerance per layer; write ``path`` atomically."""
    out = check_plot_path(path, force=force)
    from matplotlib.figure import Figure

    layers = report.layers
    depth = list(range(len(layers)))
    worst = [layer.worst for layer in layers]
    errors = [max(w.max_abs_error or 0.0, _FLOOR) if w.max_abs_error is not None else _FLOOR for w in worst]
    outside = [w.outside_tolerance_pct or 0.0 for w in worst]
    colors = ["tab:green" if layer.passed else "tab:red" for layer in layers]

    fig = Figure(figsize=(max(8.0, min(0.12 * len(layers), 24.0)), 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    top.plot(depth, errors, color="0.6", linewidth=0.8)
    top.scatter(depth, errors, c=colors, s=14, zorder=3)
    top.set_yscale("log")
    top.set_ylabel("max abs error")
    top.set_title(f"{report.reference} vs {report.candidate} (rtol={report.rtol:g}, atol={report.atol:g})", fontsize=9)
    bottom.bar(depth, outside, color=colors, width=0.8)
    bottom.set_ylabel("% out of tolerance")
    bottom.set_xlabel("layer (execution order)")
    if report.origin is not None and report.origin in layers:
        x = layers.index(report.origin)
        for ax in (top, bottom):
            ax.axvline(x, color="tab:red", linestyle="--", linewidth=1)
        top.annotate(
            f"origin: {report.origin.label} ({report.origin.cls})",
            (x, errors[x]),
            xytext=(8, 8),
            textcoords="offset points",
            color="tab:red",
            fontsize=9,
        )
    with staging_dir(out) as tmp:
        staged = tmp / out.name
        fig.savefig(staged)
        publish(staged, out, replace=force)
    return out
