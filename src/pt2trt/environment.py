"""What a pt2trt process writes besides its outputs (nothing, by default), and how it ends on SIGTERM.

The libraries pt2trt drives write files of their own when they are left alone:

* ONNX Runtime (1.31 on Linux) keeps a telemetry store: a device id and a ~1.5 MB SQLite database under
  ``~/.cache/Microsoft/DeveloperTools/.onnxruntime`` and a session file in ``$TMPDIR``. ``ORT_DISABLE_TELEMETRY=1``
  turns all of it off, but only when it is set before ``onnxruntime`` is imported (ORT latches it at start-up).
* OpenVINO sends Google Analytics events through the ``openvino-telemetry`` package (on ``import openvino`` and on
  every ``ov.convert_model``) and writes ``~/intel/openvino_ga_cid`` and ``~/intel/stats``. OpenVINO falls back to
  its own no-op stub when that package cannot be imported, so pt2trt makes it unimportable in its process
  (``sys.modules["openvino_telemetry"] = None``, Python's way to block an import); conversion is unchanged.
* torch creates its compiler cache (``$TMPDIR/torchinductor_$USER``) as soon as ``torch._dynamo`` is imported,
  which the ONNX exporter does. pt2trt compiles no kernels, so that cache holds nothing worth keeping: it goes to a
  temporary folder removed when the process ends.
* matplotlib (the report's and ``debug``'s charts) writes a font cache under ``~/.cache/matplotlib`` and creates
  ``~/.config/matplotlib``. ``MPLCONFIGDIR`` goes to ``matplotlib/`` in pt2trt's cache folder (a temporary folder
  when the cache is off), so the charts also look the same whatever the user's ``matplotlibrc`` says.

:func:`prepare` sets these up before the libraries are imported: the CLI entry point and ``import pt2trt`` call it.
Variables the user set are kept as they are (``ORT_DISABLE_TELEMETRY=0``, ``TORCHINDUCTOR_CACHE_DIR=...``,
``MPLCONFIGDIR=...``).
``PT2TRT_TELEMETRY=1`` is the opt-in: the libraries then behave as they ship (telemetry included).

pt2trt's own cache (the exporter memory, :mod:`pt2trt.pytorch.exporter_memory`) lives in one folder,
:func:`cache_dir`: ``$PT2TRT_CACHE_DIR``, else ``$XDG_CACHE_HOME/pt2trt``, else ``~/.cache/pt2trt``;
``PT2TRT_CACHE_DIR=off`` turns it off. It holds ``exporters.json`` (written only when there is something to remember)
and ``matplotlib/`` (its font list, made once).

SIGTERM (what CI runners, ``timeout`` and Kubernetes send) takes the path of Ctrl-C: :func:`handle_sigterm` makes it
raise :class:`Terminated`, a ``KeyboardInterrupt``, so every ``finally`` runs (staging folders are removed, nothing is
left half-written) and the CLI exits with 143. A second SIGTERM ends the process at once.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

#: pt2trt's cache folder; ``off`` (or ``0``, ``none``, empty) disables the cache
CACHE_ENV = "PT2TRT_CACHE_DIR"
#: ``1`` lets the libraries send and store their telemetry as they ship (off by default)
TELEMETRY_ENV = "PT2TRT_TELEMETRY"
#: exit status of a process ended by SIGTERM (128 + 15), as a shell reports it
SIGTERM_EXIT = 128 + signal.SIGTERM

_OFF = ("", "off", "0", "none", "false", "no")
_ON = ("1", "on", "true", "yes")
_temporary: list[Path] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: raised in the main thread like Ctrl-C's ``KeyboardInterrupt``, so cleanup code runs."""


def cache_dir() -> Path | None:
    """pt2trt's cache folder, or None when ``PT2TRT_CACHE_DIR=off``."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in _OFF else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pt2trt"


def telemetry_allowed() -> bool:
    """Whether the user opted in to the libraries' telemetry (``PT2TRT_TELEMETRY=1``)."""
    return os.environ.get(TELEMETRY_ENV, "").strip().lower() in _ON


def prepare() -> None:
    """Telemetry off and torch's compiler cache in a temporary folder, unless the user chose otherwise.

    Call before onnxruntime and torch are imported (later calls change nothing the libraries already read).
    Idempotent.
    """
    if not telemetry_allowed():
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]  # OpenVINO uses its stub
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ and "torch._dynamo" not in sys.modules:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(_temporary_folder("torch"))
    if "MPLCONFIGDIR" not in os.environ and "matplotlib" not in sys.modules:
        cache = cache_dir()
        os.environ["MPLCONFIGDIR"] = str(cache / "matplotlib" if cache else _temporary_folder("matplotlib"))


def _temporary_folder(what: str) -> Path:
    """A folder name in ``$TMPDIR`` nobody can guess, not created here (the library makes it when it needs it);
    :func:`cleanup` removes it."""
    folder = Path(tempfile.gettempdir()) / f"pt2trt-{what}-{os.getpid()}-{secrets.token_hex(6)}"
    if not _temporary:
        atexit.register(cleanup)
    _temporary.append(folder)
    return folder


def cleanup() -> None:
    """Remove the temporary folders :func:`prepare` made (the CLI calls it before its fast exit, which skips
    ``atexit``)."""
    while _temporary:
        shutil.rmtree(_temporary.pop(), ignore_errors=True)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated()


def handle_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated` in the main thread (the CLI's entry point calls this; the API leaves
    the caller's signal handlers alone)."""
    signal.signal(signal.SIGTERM, _raise_terminated)
