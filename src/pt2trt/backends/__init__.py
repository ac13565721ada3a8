"""Backends as runners. One file per backend plus one line in ``RUNNERS``; classes are imported on demand.

A registry line names the runner class and the file suffixes it runs, so choosing a backend by suffix (and the
CLI's ``--backend`` choices) imports nothing heavy: this module imports no numpy and no runtime. A runner class
opens what it runs with :meth:`pt2trt.backends.base.Runner.from_path`; :func:`register_backend` adds one at runtime.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError

if TYPE_CHECKING:
    from pt2trt.backends.base import Runner, TensorMeta


class Backend(str):
    """One registry line: the runner as ``"module:Class"`` (a string, as registry values always were) with the file
    suffixes it runs, and the class itself when it was registered as a class."""

    suffixes: tuple[str, ...]
    runner: type[Runner] | None

    def __new__(cls, target: str, suffixes: tuple[str, ...] = (), runner: type[Runner] | None = None) -> Backend:
        line = super().__new__(cls, target)
        line.suffixes = tuple(s.lower() for s in suffixes)
        line.runner = runner
        return line


#: backend name -> runner and suffixes; drives --backend choices, choosing by file type and error messages.
RUNNERS: dict[str, Backend] = {
    "tensorrt": Backend("pt2trt.backends.tensorrt.runner:TensorRTRunner", (".engine", ".plan", ".trt")),
    "onnxruntime": Backend("pt2trt.backends.onnxruntime:OnnxRuntimeRunner", (".onnx",)),
    "openvino": Backend("pt2trt.backends.openvino.runner:OpenVinoRunner", (".xml",)),
    "torch": Backend("pt2trt.backends.torch:TorchRunner"),
    "triton": Backend("pt2trt.backends.triton:TritonRunner"),  # a server: chosen with --backend triton, no suffix
}
#: the backend for anything whose suffix no backend claims (PyTorch specs: torchvision:resnet18, file.py:Name...)
FALLBACK = "torch"
#: TensorRT engine files (the suffixes of the "tensorrt" line)
ENGINE_SUFFIXES = RUNNERS["tensorrt"].suffixes


def register_backend(name: str, target: str | type[Runner], suffixes: tuple[str, ...] | None = None) -> None:
    """Register a runner as ``name``: a ``"module:Class"`` string (imported on first use) or the class, with the
    file suffixes it runs (by default the class's ``suffixes``). A suffix goes to the backend registered last."""
    if isinstance(target, str):
        if ":" not in target:
            raise ValueError(f"backend target must be 'module:Class', got '{target}'")
        RUNNERS[name] = Backend(target, tuple(suffixes or ()))
    else:
        claimed = suffixes if suffixes is not None else target.suffixes
        RUNNERS[name] = Backend(f"{target.__module__}:{target.__qualname__}", tuple(claimed), target)


def unregister_backend(name: str) -> None:
    """Remove a registered backend (tests, plugins that unload)."""
    RUNNERS.pop(name, None)


def backend_names(auto: bool = False) -> list[str]:
    """The registered backend names, with "auto" first when ``auto``."""
    return (["auto"] if auto else []) + list(RUNNERS)


def suffixes_of(backend: str) -> tuple[str, ...]:
    """The file suffixes ``backend`` runs (empty for an unknown one)."""
    entry = RUNNERS.get(backend)
    return entry.suffixes if entry else ()


def is_engine_file(path: str | Path) -> bool:
    """Whether ``path`` is named like a TensorRT engine."""
    return Path(path).suffix.lower() in suffixes_of("tensorrt")


def resolve_backend(model: str | Path, backend: str = "auto") -> str:
    """The backend for ``model``: the one asked for, else the one whose suffixes hold the file's (.onnx ->
    onnxruntime, engine -> tensorrt, .xml -> openvino), else ``FALLBACK`` (torch). Imports no runner."""
    if backend != "auto":
        if backend not in RUNNERS:
            raise UsageError(f"unknown backend '{backend}'", _choose_hint(backend, backend_names(auto=True)))
        return backend
    suffix = Path(str(model)).suffix.lower()
    for name, entry in reversed(RUNNERS.items()):
        if suffix in entry.suffixes:
            return name
    return FALLBACK


def runner_class(backend: str) -> type[Runner]:
    """The runner class registered for ``backend``."""
    if backend not in RUNNERS:
        raise UsageError(f"unknown backend '{backend}'", _choose_hint(backend, backend_names()))
    line = RUNNERS[backend]
    if line.runner is not None:
        return line.runner
    module_name, _, cls = line.partition(":")
    return getattr(importlib.import_module(module_name), cls)


def _choose_hint(name: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, names, n=1)
    return f"Did you mean '{close[0]}'?" if close else f"Use one of: {', '.join(names)}"


def __getattr__(name: str) -> Any:
    """``Runner`` and ``TensorMeta`` are imported on first use, so that this registry stays light."""
    if name in ("Runner", "TensorMeta"):
        from pt2trt.backends import base

        return getattr(base, name)
    raise AttributeError(f"module 'pt2trt.backends' has no attribute '{name}'")


__all__ = [
    "ENGINE_SUFFIXES",
    "FALLBACK",
    "RUNNERS",
    "Backend",
    "Runner",
    "TensorMeta",
    "backend_names",
    "is_engine_file",
    "register_backend",
    "resolve_backend",
    "runner_class",
    "suffixes_of",
    "unregister_backend",
]
