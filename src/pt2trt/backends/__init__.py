"""Backends as runners. One file per backend plus one line in ``RUNNERS``; classes are imported on demand.

A registry line names the runner class and the file suffixes it runs, so choosing a backend by suffix (and the
CLI's ``--backend`` choices) imports nothing heavy: this module imports no numpy and no runtime. A runner class
opens what it runs with :meth:`pt2trt.backends.base.Runner.from_path`; :func:`register_backend` adds one at runtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError
from pt2trt.registry import Registry, choose_hint

if TYPE_CHECKING:
    from pt2trt.backends.base import Runner, TensorMeta


#: backend name -> runner ("module:Class", imported to run) with the file suffixes it runs (``info``); drives
#: --backend choices, choosing by file type and error messages.
RUNNERS: Registry[type[Runner]] = Registry("backend")
RUNNERS.register("tensorrt", "pt2trt.backends.tensorrt.runner:TensorRTRunner", (".engine", ".plan", ".trt"))
RUNNERS.register("onnxruntime", "pt2trt.backends.onnxruntime:OnnxRuntimeRunner", (".onnx",))
RUNNERS.register("openvino", "pt2trt.backends.openvino.runner:OpenVinoRunner", (".xml",))
RUNNERS.register("torch", "pt2trt.backends.torch:TorchRunner", ())
RUNNERS.register("triton", "pt2trt.backends.triton:TritonRunner", ())  # a server: --backend triton, no suffix
#: the backend for anything whose suffix no backend claims (PyTorch specs: torchvision:resnet18, file.py:Name...)
FALLBACK = "torch"
#: TensorRT engine files (the suffixes of the "tensorrt" line)
ENGINE_SUFFIXES: tuple[str, ...] = RUNNERS["tensorrt"].info


def register_backend(name: str, target: str | type[Runner], suffixes: tuple[str, ...] | None = None) -> None:
    """Register a runner as ``name``: a ``"module:Class"`` string (imported on first use) or the class, with the
    file suffixes it runs (by default the class's ``suffixes``). A suffix goes to the backend registered last."""
    if suffixes is None and not isinstance(target, str):
        suffixes = target.suffixes
    RUNNERS.register(name, target, tuple(s.lower() for s in suffixes or ()))


def unregister_backend(name: str) -> None:
    """Remove a registered backend (tests, plugins that unload)."""
    RUNNERS.unregister(name)


def backend_names(auto: bool = False) -> list[str]:
    """The registered backend names, with "auto" first when ``auto``."""
    return (["auto"] if auto else []) + list(RUNNERS)


def suffixes_of(backend: str) -> tuple[str, ...]:
    """The file suffixes ``backend`` runs (empty for an unknown one)."""
    entry = RUNNERS.get(backend)
    return tuple(entry.info) if entry else ()


def is_engine_file(path: str | Path) -> bool:
    """Whether ``path`` is named like a TensorRT engine."""
    return Path(path).suffix.lower() in suffixes_of("tensorrt")


def resolve_backend(model: str | Path, backend: str = "auto") -> str:
    """The backend for ``model``: the one asked for, else the one whose suffixes hold the file's (.onnx ->
    onnxruntime, engine -> tensorrt, .xml -> openvino), else ``FALLBACK`` (torch). Imports no runner."""
    if backend != "auto":
        if backend not in RUNNERS:
            raise UsageError(f"unknown backend '{backend}'", choose_hint(backend, backend_names(auto=True)))
        return backend
    suffix = Path(str(model)).suffix.lower()
    for name, entry in reversed(RUNNERS.items()):
        if suffix in entry.info:
            return name
    return FALLBACK


def runner_class(backend: str) -> type[Runner]:
    """The runner class registered for ``backend``."""
    return RUNNERS.load(backend)


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
