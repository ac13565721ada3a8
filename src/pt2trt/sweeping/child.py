"""One model = one ``pt2trt convert`` child process: a crash or a kill of one model cannot take the sweep down.

A child killed by a signal (the OOM killer, a stray ``kill``) is run once more from a clean folder; killed again, it is
reported with the signal. Every other ending is final: exit 0 (passed), 1 (a check failed, or a user error), 2 (a usage
error). The child's stdout and stderr go to ``NAME/convert.log``. Used by the local executor (one thread per running
child) and inside each Ray task, so both executors run models the same way.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.sweeping import convert_config

LOG = "convert.log"
INTERRUPTED = 130  # the CLI's exit code after Ctrl-C


@dataclass
class ChildRun:
    """How the child(ren) of one model ended."""

    returncode: int
    attempts: int
    seconds: float
    killed: list[str] = field(default_factory=list)  # the signal of each killed attempt
    error_line: str = ""  # the last "pt2trt: error: ..." line of the log
    started: float = 0.0  # wall clock (epoch seconds) of the first attempt's start and of the last one's end
    finished: float = 0.0
    stopped: bool = False  # the sweep itself was being stopped: the ending says nothing about the model
    load: float | None = None  # the machine's 1-minute load average when the child ended (context for latency)

    @property
    def interrupted(self) -> bool:
        return self.stopped or self.returncode in (INTERRUPTED, -signal.SIGINT)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def run_convert(
    config: str,
    workroot: Path,
    name: str,
    *,
    env: dict[str, str] | None = None,
    retries: int = 1,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> ChildRun:
    """Run ``pt2trt convert --config CONFIG -o NAME`` in ``workroot``, ``config`` (the entry's YAML) written there
    first; it writes ``workroot/NAME/``. Run once more per kill, up to ``retries``.

    ``on_start`` is told each child process (the local executor keeps them to stop them when the sweep is stopped);
    ``stopped()`` true after a child ended means the sweep stopped it: no retry, the run is ``interrupted``.
    """
    folder = workroot / name
    log_path = folder / LOG
    (workroot / convert_config.CONFIG).write_text(config, encoding="utf-8")
    killed: list[str] = []
    start, started = time.perf_counter(), time.time()
    attempt = 0
    while True:
        attempt += 1
        _clear(folder, keep=LOG)
        with open(log_path, "ab") as log:
            if attempt > 1:
                log.write(f"\npt2trt sweep: attempt {attempt}, after {killed[-1]}\n".encode())
                log.flush()
            proc = subprocess.Popen(
                convert_config.cli_command(convert_config.convert_argv(name)),
                cwd=workroot,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
            if on_start is not None:
                on_start(proc)
            returncode = _wait(proc)
        if stopped():
            return ChildRun(returncode, attempt, time.perf_counter() - start, killed, "", started, time.time(), True)
        if returncode >= 0 or returncode == -signal.SIGINT or attempt > retries:
            break
        killed.append(signal_name(returncode))
    if returncode < 0 and returncode != -signal.SIGINT:
        killed.append(signal_name(returncode))
    seconds = time.perf_counter() - start
    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return ChildRun(returncode, attempt, seconds, killed, _error_line(log_path), started, time.time(), load=load)


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """The child's exit code; if waiting is interrupted (Ctrl-C, a Ray task cancelled), the child is stopped first."""
    try:
        return proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def _clear(folder: Path, keep: str) -> None:
    """An empty ``folder`` but for the file ``keep`` (a killed attempt leaves half its artifacts)."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in folder.iterdir():
        if item.name == keep:
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


def _error_line(log_path: Path) -> str:
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in lines if line.startswith("pt2trt: error: ")]
    return errors[-1].removeprefix("pt2trt: error: ").strip() if errors else ""


class Children:
    """The child processes running now, to stop them all when the sweep itself is stopped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self.stopping = threading.Event()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs = [p for p in self._procs if p.poll() is None] + [proc]
        if self.stopping.is_set():  # started while the sweep was stopping
            proc.terminate()

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM each child still running, SIGKILL those still there after ``grace`` seconds."""
        self.stopping.set()
        with self._lock:
            running = [p for p in self._procs if p.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + grace
        for proc in running:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
