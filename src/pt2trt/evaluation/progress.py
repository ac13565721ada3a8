"""Progress while models run: a rich bar per model on stderr, a caller's function, or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class Progress:
    """``with Progress(True) as p: bar = p.add(label, total); p.advance(bar, done)``."""

    def __init__(self, target: bool | Callable[[str, int, int], None]) -> None:
        self.fn = target if callable(target) else None
        self.enabled = target is True and sys.stderr.isatty()  # a bar in a log is noise
        self.bar: Any = None
        self.labels: dict[int, tuple[str, int]] = {}

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("eval {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )  # fmt: skip
            self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()

    def add(self, label: str, total: int) -> int:
        key = self.bar.add_task(label, total=total) if self.bar is not None else len(self.labels)
        self.labels[key] = (label, total)
        return key

    def advance(self, key: int, done: int) -> None:
        if self.bar is not None and (done % 8 == 0 or done == self.labels[key][1]):
            self.bar.update(key, completed=done)
        if self.fn is not None:
            label, total = self.labels[key]
            self.fn(label, done, total)
