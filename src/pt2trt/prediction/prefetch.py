"""Run a function over an iterable in worker threads, ahead of the consumer, keeping the order.

Image decoding and resizing (Pillow, OpenCV, numpy) release the GIL, so a couple of threads prepare the next
batch while the model runs on the current one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int = 2, ahead: int = 8) -> Iterator[R]:
    """``map(fn, items)`` computed by ``workers`` threads at most ``ahead`` items in advance, in input order.

    ``items`` itself is iterated in a feeder thread (so reading video frames overlaps too). An exception raised by
    ``fn`` or by ``items`` is re-raised in the consumer at the position where it happened. ``workers=0`` runs
    everything in the caller's thread.
    """
    if workers <= 0:
        yield from map(fn, items)
        return
    pending: queue.Queue[object] = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()

    def feed(pool: ThreadPoolExecutor) -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                _put(pool.submit(fn, item))
        except BaseException as exc:  # handed to the consumer, which raises it in order
            failed: Future[R] = Future()
            failed.set_exception(exc)
            _put(failed)
        finally:
            _put(_DONE)

    def _put(value: object) -> None:
        while not stop.is_set():
            try:
                pending.put(value, timeout=0.1)
                return
            except queue.Full:
                continue

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pt2trt-prefetch") as pool:
        feeder = threading.Thread(target=feed, args=(pool,), name="pt2trt-feeder", daemon=True)
        feeder.start()
        try:
            while True:
                value = pending.get()
                if value is _DONE:
                    break
                assert isinstance(value, Future)
                yield value.result()
        finally:
            stop.set()
            while True:  # unblock the feeder and drop work nobody will read
                try:
                    value = pending.get_nowait()
                except queue.Empty:
                    break
                if isinstance(value, Future):
                    value.cancel()
            feeder.join()
