"""Progress on stderr: one line per finished model, the overall count with an estimate of the time left."""

from __future__ import annotations

import time
from typing import Any

from pt2trt.sweeping.records import ModelResult


def estimate(elapsed: float, finished: int, remaining: int) -> float | None:
    """Seconds left at the rate models finished so far (parallel runs included), None before the first."""
    if finished <= 0:
        return None
    return elapsed / finished * remaining


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    whole = round(seconds)
    minutes = f"{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{whole // 3600}:{minutes}" if whole >= 3600 else f"{whole // 60}:{whole % 60:02d}"


class Display:
    """``[3/7] passed  resnet18   41.2 s  ...  (2 running, about 1:20 left)``; a live bar when stderr is a terminal."""

    def __init__(self, total: int, kept: int, enabled: bool, width: int = 16) -> None:
        self.total, self.done, self.run_done, self.width = total, kept, 0, width
        self.todo = total - kept
        self.start = time.perf_counter()
        self.enabled = enabled
        self.console: Any = None
        self.progress: Any = None
        self.task: Any = None
        if enabled:
            from rich.console import Console

            self.console = Console(stderr=True, highlight=False, soft_wrap=True)
            if self.console.is_terminal:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

                self.progress = Progress(
                    TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[left]}"), console=self.console, transient=True,
                )  # fmt: skip
                self.progress.start()
                self.task = self.progress.add_task("sweep", total=total, completed=kept, left="")

    def note(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text, markup=False)

    def finished(self, result: ModelResult) -> None:
        self.done += 1
        self.run_done += 1
        left = estimate(time.perf_counter() - self.start, self.run_done, self.todo - self.run_done)
        tail = "done" if self.done == self.total else f"about {clock(left)} left"
        if self.console is None:
            return
        mark = {"passed": "[green]passed[/]", "failed": "[red]failed[/]"}.get(result.status, "[red]error[/] ")
        head = f"[{self.done}/{self.total}] {mark} {result.name:<{self.width}} {result.seconds:6.1f} s"
        self.console.print(f"{head}  {_detail(result)}  [dim]({tail})[/]")
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done, left=tail)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _detail(result: ModelResult) -> str:
    from rich.markup import escape

    if not result.passed:
        return escape(f"{result.step}: {result.reason}"[:160])
    fastest = min(result.latency.items(), key=lambda kv: kv[1].median, default=None)
    speed = f"fastest {fastest[0]} {fastest[1].median:.3g} ms" if fastest else "no latency measured"
    return escape(f"{len(result.steps)} steps, {speed}")
