"""A click choice read from a registry when it is needed (parsing, ``--help``, completion), never copied by hand.

A task or backend registered at runtime (``register_task``, ``register_backend``) appears in the choices, in
``--help`` and in the "did you mean" of a wrong value. The registries import nothing heavy, so neither does this.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

import click


class RegistryChoice(click.Choice):
    """``click.Choice`` over ``names()``, evaluated each time it is read."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        self._names = names
        super().__init__((), case_sensitive=True)

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, value: Sequence[Any]) -> None:
        """click.Choice.__init__ sets the choices; they come from the registry instead."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        message = super().get_invalid_choice_message(value, ctx)
        close = difflib.get_close_matches(str(value), self.choices, n=1)
        return f"{message} Did you mean '{close[0]}'?" if close else message


def task_choice() -> RegistryChoice:
    """The registered tasks (``pt2trt.tasks.TASKS``)."""
    from pt2trt.tasks import task_names

    return RegistryChoice(task_names)


def layout_choice() -> RegistryChoice:
    """Every registered task's output layouts after "auto" (imports the task classes when read)."""
    from pt2trt.tasks import task_layouts

    return RegistryChoice(task_layouts)


def backend_choice() -> RegistryChoice:
    """The registered backends (``pt2trt.backends.RUNNERS``) after "auto"."""
    from pt2trt.backends import backend_names

    return RegistryChoice(lambda: backend_names(auto=True))
