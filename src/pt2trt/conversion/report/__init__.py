"""The HTML report of ``convert``: one self-contained file, Jinja2 templates, matplotlib figures as inline SVG."""

from __future__ import annotations

from pt2trt.conversion.report.html import context, render, write_report

__all__ = ["context", "render", "write_report"]
