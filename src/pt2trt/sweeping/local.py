"""The default executor: up to N ``pt2trt convert`` child processes on this machine at once."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from pt2trt.sweeping.child import Children, run_convert
from pt2trt.sweeping.manifest import Entry
from pt2trt.sweeping.outcome import model_result
from pt2trt.sweeping.records import ModelResult
from pt2trt.sweeping.store import OutputFolder


def default_workers() -> int:
    """The cores this process may use (each convert is mostly one busy thread; its bench uses them all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class LocalExecutor:
    """Runs each model as a child process, ``workers`` at a time; a killed child is run once more, then reported."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self.children = Children()

    def describe(self) -> str:
        return f"{self.workers} local worker process(es)"

    def __enter__(self) -> LocalExecutor:
        self._sigterm: Any = None
        if threading.current_thread() is threading.main_thread():  # SIGTERM (a cancelled CI job): stop cleanly too
            self._sigterm = signal.signal(signal.SIGTERM, _terminate)
        return self

    def __exit__(self, *exc: object) -> None:
        self.children.stop()  # a sweep stopped half way (Ctrl-C, SIGTERM, an error) leaves no convert running
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)

    def run(self, entries: list[Entry], store: OutputFolder) -> Iterator[ModelResult]:
        """Each entry's result as it finishes (its folder already in place in OUTDIR)."""
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pt2trt-sweep")
        pending: set[Future[ModelResult | None]] = {pool.submit(self._one, e, store) for e in entries}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    if result is None:  # the child was interrupted (Ctrl-C reached it too): stop the sweep
                        raise KeyboardInterrupt
                    yield result
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _one(self, entry: Entry, store: OutputFolder) -> ModelResult | None:
        workroot = store.work(entry.name)
        run = run_convert(
            entry.config, workroot, entry.name, on_start=self.children.add, stopped=self.children.stopping.is_set
        )
        if run.interrupted:
            return None
        where: dict[str, Any] = {"executor": "local", "host": socket.gethostname()}
        result = model_result(entry, run, workroot / entry.name, where)
        store.place(workroot, result)
        return result
