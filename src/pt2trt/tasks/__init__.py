"""Tasks: decoding raw outputs into labels, boxes or masks. One file per task plus one line in ``TASKS``."""

from __future__ import annotations

import importlib
from typing import Any

from pt2trt.errors import UsageError
from pt2trt.tasks.base import Labels, Result, Task

#: task name -> "module:Class"; drives --task choices and error messages.
TASKS: dict[str, str] = {
    "classify": "pt2trt.tasks.classify:ClassifyTask",
    "detect": "pt2trt.tasks.detect:DetectTask",
    "segment": "pt2trt.tasks.segment:SegmentTask",
}


def task_class(name: str) -> type[Task]:
    """The task class registered as ``name``."""
    if name not in TASKS:
        import difflib

        close = difflib.get_close_matches(name, list(TASKS), n=1)
        hint = f"Did you mean '{close[0]}'?" if close else f"Use one of: {', '.join(TASKS)}"
        raise UsageError(f"unknown task '{name}'", hint)
    module_name, _, cls = TASKS[name].partition(":")
    return getattr(importlib.import_module(module_name), cls)


def make_task(task: str | Task, **options: Any) -> Task:
    """A task object from its name and options (options a task does not take are ignored)."""
    if isinstance(task, Task):
        return task
    import inspect

    cls = task_class(task)
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in options.items() if k in accepted and v is not None})


__all__ = ["TASKS", "Labels", "Result", "Task", "make_task", "task_class"]
