"""Capture everything a noisy library prints (Python and C level) while it runs."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Captured:
    text: str = ""


@contextlib.contextmanager
def capture_output(enabled: bool = True) -> Iterator[Captured]:
    """Redirect file descriptors 1 and 2 to a temporary file; the text is in the yielded object afterwards.

    Exporters print progress bars, graph dumps and warnings straight to the terminal; pt2trt keeps them out of the
    user's way and shows them on request (``--verbose``) or attaches them to the step's record.
    """
    result = Captured()
    if not enabled:
        yield result
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield result
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            log.seek(0)
            result.text = log.read().decode("utf-8", errors="replace")
