"""The one registry shape of pt2trt: commands, tasks, backends and edits are each a :class:`Registry`.

A registry maps a name to an :class:`Entry`: the ``"module:attr"`` of what it registers (imported on first use, so
reading a registry for ``--help`` or a choice imports nothing heavy), or the object itself, plus what the table knows
without importing it (``info``: a backend's file suffixes, a command's help text, an edit's parser). An unknown name
is a usage error with a "did you mean"; a malformed target is a ``ValueError`` (a programming error).
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Generic, TypeVar

from pt2trt.errors import UsageError

T = TypeVar("T")


class Entry(str, Generic[T]):
    """One registry line: its ``"module:attr"`` target (the string itself), the object when it was registered as one,
    and ``info``, what the table says about it without importing it."""

    name: str
    obj: T | None
    info: Any

    def __new__(cls, name: str, target: str | T, info: Any = None) -> Entry[T]:
        if isinstance(target, str):
            if ":" not in target:
                raise ValueError(f"registry target must be 'module:Class', got '{target}'")
            line = super().__new__(cls, target)
            line.obj = None
        else:
            qualname = getattr(target, "__qualname__", type(target).__qualname__)
            line = super().__new__(cls, f"{getattr(target, '__module__', '?')}:{qualname}")
            line.obj = target
        line.name = name
        line.info = info
        return line

    def load(self) -> T:
        """The registered object, importing its module on first use."""
        if self.obj is not None:
            return self.obj
        module_name, _, attr = self.partition(":")
        value: T = getattr(importlib.import_module(module_name), attr)
        return value


class Registry(dict[str, Entry[T]]):
    """name -> :class:`Entry`, in registration order; ``kind`` names what it holds in messages ("task", "backend")."""

    def __init__(self, kind: str, entries: dict[str, Entry[T]] | None = None) -> None:
        super().__init__(entries or {})
        self.kind = kind

    def register(self, name: str, target: str | T, info: Any = None) -> Entry[T]:
        """Add (or replace) ``name``: a ``"module:attr"`` string or the object itself."""
        self[name] = entry = Entry(name, target, info)
        return entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` if present (tests, plugins that unload)."""
        self.pop(name, None)

    def names(self) -> list[str]:
        return list(self)

    def entry(self, name: str) -> Entry[T]:
        """The entry of ``name``; an unknown name is a usage error that suggests the closest one."""
        if name not in self:
            raise UsageError(f"unknown {self.kind} '{name}'", choose_hint(name, self.names()))
        return self[name]

    def load(self, name: str) -> T:
        """The object registered as ``name`` (imported on first use)."""
        return self.entry(name).load()


def choose_hint(name: str, names: list[str]) -> str:
    """``Did you mean 'x'?`` for a near miss, else the list of choices."""
    close = difflib.get_close_matches(name, names, n=1)
    return f"Did you mean '{close[0]}'?" if close else f"Use one of: {', '.join(names)}"
