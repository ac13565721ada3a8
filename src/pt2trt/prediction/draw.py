"""Annotated images: each task draws its own results (``Task.draw``); the shared primitives are in
:mod:`pt2trt.tasks.draw` (re-exported here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pt2trt.tasks.base import Labels, Result
from pt2trt.tasks.draw import LEGEND_ROWS, PALETTE, color

if TYPE_CHECKING:
    from PIL import Image

    from pt2trt.tasks.base import Task


def annotate(image: Image.Image, result: Result, labels: Labels | None = None, task: Task | None = None) -> Image.Image:
    """A copy of ``image`` (the original picture) with ``result`` drawn on it by ``task`` (by default the registered
    task whose results have ``result``'s type)."""
    from pt2trt.tasks import task_for_result

    drawer = task if task is not None else task_for_result(result)
    return drawer.draw(image.convert("RGB"), result, labels or Labels())


__all__ = ["LEGEND_ROWS", "PALETTE", "annotate", "color"]
