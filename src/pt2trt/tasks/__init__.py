"""Tasks: decoding, drawing and comparing labels, boxes or masks. One file per task plus one line in ``TASKS``.

This module imports nothing heavy (no numpy): the CLI reads ``--task`` choices from it at help time. A task class
(see :class:`pt2trt.tasks.base.Task`) owns its decoding, its drawing, its comparison metric, its CLI name and its
default preprocessing preset; :func:`register_task` adds one at runtime (plugins, tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pt2trt.registry import Registry

if TYPE_CHECKING:
    from pt2trt.settings.tasks import TaskSettings
    from pt2trt.tasks.base import Labels, Result, Task

#: task name -> "module:Class" (or the class itself); drives --task choices, drawing, comparison and errors.
TASKS: Registry[type[Task]] = Registry("task")
TASKS.register("classify", "pt2trt.tasks.classify:ClassifyTask")
TASKS.register("detect", "pt2trt.tasks.detect:DetectTask")
TASKS.register("segment", "pt2trt.tasks.segment:SegmentTask")


def register_task(name: str, target: str | type[Task]) -> None:
    """Register a task as ``name``: a ``"module:Class"`` string (imported on first use) or the class."""
    TASKS.register(name, target)


def unregister_task(name: str) -> None:
    """Remove a registered task (tests, plugins that unload)."""
    TASKS.unregister(name)


def task_names() -> list[str]:
    """The registered task names, in registration order."""
    return TASKS.names()


def task_class(name: str) -> type[Task]:
    """The task class registered as ``name``."""
    return TASKS.load(name)


def task_layouts() -> list[str]:
    """Every output layout of the registered tasks, "auto" first (imports the task classes)."""
    layouts = ["auto"]
    for name in TASKS:
        layouts += [layout for layout in task_class(name).layouts if layout not in layouts]
    return layouts


def make_task(task: str | Task | TaskSettings, settings: TaskSettings | None = None) -> Task:
    """A task object: ``task`` itself, or the task named ``task`` (or ``settings.task``) made from ``settings``
    (:meth:`Task.from_settings`: each task reads the options it has)."""
    from pt2trt.settings.tasks import TaskSettings
    from pt2trt.tasks.base import Task

    if isinstance(task, Task):
        return task
    if isinstance(task, TaskSettings):
        settings, task = task, task.task or "classify"
    return task_class(task).from_settings(settings or TaskSettings(task=task))


def task_for_result(result: Result) -> Task:
    """A task (default options) whose results are of ``result``'s type, for drawing a bare result."""
    for name in TASKS:
        cls = task_class(name)
        if isinstance(result, cls.result_type):
            return make_task(name)
    raise TypeError(f"cannot draw a {type(result).__name__}: no registered task produces it")


def __getattr__(name: str) -> Any:
    """``Labels``, ``Result`` and ``Task`` are imported on first use, so that this registry stays light."""
    if name in ("Labels", "Result", "Task"):
        from pt2trt.tasks import base

        return getattr(base, name)
    raise AttributeError(f"module 'pt2trt.tasks' has no attribute '{name}'")


__all__ = [
    "TASKS",
    "Labels",
    "Result",
    "Task",
    "make_task",
    "register_task",
    "task_class",
    "task_for_result",
    "task_layouts",
    "task_names",
    "unregister_task",
]
