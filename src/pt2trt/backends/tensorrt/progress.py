"""Build progress and cancellation through TensorRT's ``IProgressMonitor`` (TensorRT >= 10).

TensorRT calls ``phase_start(phase_name, parent_phase, num_steps)`` when a build phase begins (phases nest: a parent
phase names its enclosing one, or is None), ``step_complete(phase_name, step)`` after each step — returning False
cancels the build — and ``phase_finish(phase_name)``. :class:`BuildPhases` keeps that accounting and forwards it to a
display (a ``rich`` progress bar per phase, indented by depth); :func:`cancel_on_sigint` turns Ctrl-C into a
cancellation request that the next ``step_complete`` answers with False, so TensorRT stops cleanly and the build
returns no engine (nothing is written). TensorRT may call the monitor from several threads: the accounting is locked.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol


@dataclass
class Phase:
    name: str
    parent: str | None
    steps: int
    depth: int
    done: int = 0
    finished: bool = False


class PhaseDisplay(Protocol):
    def started(self, phase: Phase) -> None: ...
    def advanced(self, phase: Phase) -> None: ...
    def finished(self, phase: Phase) -> None: ...


@dataclass
class BuildPhases:
    """The phase accounting of an ``IProgressMonitor``; ``display`` (optional) shows it."""

    display: PhaseDisplay | None = None
    phases: dict[str, Phase] = field(default_factory=dict)
    history: list[Phase] = field(default_factory=list)
    cancel_requested: bool = False
    cancelled: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
        with self._lock:
            parent = self.phases.get(parent_phase) if parent_phase else None
            phase = Phase(phase_name, parent_phase, max(int(num_steps), 0), parent.depth + 1 if parent else 0)
            self.phases[phase_name] = phase  # a name is reused only after its previous phase finished
            self.history.append(phase)
            if self.display is not None:
                self.display.started(phase)

    def step_complete(self, phase_name: str, step: int) -> bool:
        """Record step ``step`` (0-based) of a phase; False (cancel the build) once a cancel was requested."""
        with self._lock:
            if self.cancel_requested:
                self.cancelled = True
                return False
            phase = self.phases.get(phase_name)
            if phase is not None:
                phase.done = max(phase.done, int(step) + 1)
                if self.display is not None:
                    self.display.advanced(phase)
            return True

    def phase_finish(self, phase_name: str) -> None:
        """May come before every step was reported (errors, cancellation): the phase just ends."""
        with self._lock:
            phase = self.phases.pop(phase_name, None)
            if phase is None:
                return
            phase.finished = True
            if self.display is not None:
                self.display.finished(phase)

    @property
    def active(self) -> list[str]:
        return list(self.phases)

    def summary(self) -> list[dict[str, Any]]:
        """Every phase seen, in start order: name, parent, steps done of steps, finished."""
        return [
            {"phase": p.name, "parent": p.parent, "steps": p.steps, "done": p.done, "finished": p.finished}
            for p in self.history
        ]


class RichPhaseDisplay:
    """One ``rich`` progress bar per active phase, children indented under their parent."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream, stderr=stream is None),
            transient=True,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> RichPhaseDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def started(self, phase: Phase) -> None:
        label = "  " * phase.depth + phase.name
        self.tasks[phase.name] = self.progress.add_task(label, total=phase.steps or None)

    def advanced(self, phase: Phase) -> None:
        if phase.name in self.tasks:
            self.progress.update(self.tasks[phase.name], completed=phase.done)

    def finished(self, phase: Phase) -> None:
        task = self.tasks.pop(phase.name, None)
        if task is not None:
            self.progress.remove_task(task)


def make_progress_monitor(trt: Any, phases: BuildPhases) -> Any:
    """A ``trt.IProgressMonitor`` forwarding to ``phases``; None where TensorRT has no such interface (8.6)."""
    base = getattr(trt, "IProgressMonitor", None)
    if base is None:
        return None

    class Monitor(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.phases = phases

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            phases.phase_start(phase_name, parent_phase, num_steps)

        def step_complete(self, phase_name: str, step: int) -> bool:
            return phases.step_complete(phase_name, step)

        def phase_finish(self, phase_name: str) -> None:
            phases.phase_finish(phase_name)

    return Monitor()


@contextlib.contextmanager
def cancel_on_sigint(phases: BuildPhases) -> Iterator[None]:
    """While inside: the first Ctrl-C asks the build to cancel at its next step; a second one interrupts at once.

    Only the main thread can install signal handlers; elsewhere this does nothing (Ctrl-C behaves as usual).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def request_cancel(signum: int, frame: object) -> None:
        if phases.cancel_requested:
            signal.default_int_handler(signum, frame)  # type: ignore[arg-type]
        phases.cancel_requested = True

    signal.signal(signal.SIGINT, request_cancel)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
