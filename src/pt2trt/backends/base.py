"""The runner interface every backend implements (after Polygraphy's runners).

A runner is activated once (load the model, create the session), then ``infer(feed)`` maps input names to numpy
arrays and returns output names to numpy arrays, in the model's output order. Use it as a context manager::

    with OnnxRuntimeRunner("model.onnx") as runner:
        outputs = runner.infer({"input": x})

Subclasses override the hooks ``_activate``, ``_infer`` and ``_deactivate`` and describe their I/O with
``input_metadata``/``output_names``; everything else lives here. A runner also says what it runs (``source``: an ONNX
model, a TensorRT engine or a PyTorch model), whether it can run on this machine (:meth:`Runner.unavailable`),
how it is made from :class:`~pt2trt.settings.RunnerSettings` (:meth:`Runner.from_settings`) and how one call is
timed (:meth:`Runner.time`), so ``bench``, ``verify``, ``predict`` and ``convert`` take any registered backend.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from pt2trt.backends.timing import Progress, Timings, time_calls
from pt2trt.errors import Pt2trtError
from pt2trt.settings.runner import Loop, RunnerSettings
from pt2trt.shapes import InputSpec

#: what a runner runs: an ONNX model (handle or path), a TensorRT engine, or a PyTorch model
SOURCES = ("onnx", "engine", "pytorch")


@dataclass(frozen=True)
class TensorMeta:
    """Name, dtype (numpy spelling) and shape of one input or output; dynamic dims are strings or None."""

    name: str
    dtype: str
    shape: tuple[int | str | None, ...]


class Runner(ABC):
    """Base class of all backends: activation state, feed validation and timing."""

    backend: str = "base"
    #: file suffixes this runner runs (lower case, with the dot); the registry line in ``pt2trt.backends`` holds them
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: True when the runner needs the caller's input specs (``inputs=``): a PyTorch module has no input shapes
    needs_input_specs: ClassVar[bool] = False
    #: what it runs (one of :data:`SOURCES`): ``bench`` and ``convert`` give each backend the model of its kind
    source: ClassVar[str] = "onnx"
    #: the timing modes it has (``latency``: one call at a time; ``throughput``: requests kept in flight)
    modes: ClassVar[tuple[str, ...]] = ("latency",)

    @classmethod
    def from_settings(cls, model: Any, settings: RunnerSettings, inputs: Sequence[InputSpec] | None = None) -> Runner:
        """A runner for ``model`` with the :class:`~pt2trt.settings.RunnerSettings` this backend reads; ``inputs``
        for a runner that ``needs_input_specs``. The default takes the model alone: override it to read settings."""
        return cls(model)

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this backend cannot run on this machine (a library or a device missing), or None when it can."""
        return None

    #: the timing mode of this instance (see :attr:`modes`)
    mode: str = "latency"

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.backend
        self.is_active = False
        self.last_inference_seconds: float | None = None
        self._input_names: list[str] | None = None  # cached per activation for the feed check

    # -- lifecycle -------------------------------------------------------------------------------------------
    def activate(self) -> Runner:
        if not self.is_active:
            self._activate()
            self.is_active = True
            self._input_names = None
        return self

    def deactivate(self) -> None:
        if self.is_active:
            self._deactivate()
            self.is_active = False

    def __enter__(self) -> Runner:
        return self.activate()

    def __exit__(self, *exc: Any) -> None:
        self.deactivate()

    # -- inference -------------------------------------------------------------------------------------------
    def infer(self, feed: Mapping[str, np.ndarray], *, check: bool = True) -> dict[str, np.ndarray]:
        """Run once. ``check=False`` skips the name check (hot loops after a first checked call)."""
        if not self.is_active:
            raise RuntimeError(f"{type(self).__name__} must be activated before infer() (use it in a with block)")
        if check:
            self._check_feed(feed)
        start = time.perf_counter()
        outputs = self._infer(feed)
        self.last_inference_seconds = time.perf_counter() - start
        return outputs

    def _check_feed(self, feed: Mapping[str, np.ndarray]) -> None:
        if self._input_names is None:
            self._input_names = [m.name for m in self.input_metadata()]
        expected = self._input_names
        missing = [n for n in expected if n not in feed]
        extra = [n for n in feed if n not in expected]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(extra)}")
            raise Pt2trtError(
                f"inputs do not match the model ({'; '.join(parts)})", f"Inputs are: {', '.join(expected)}"
            )

    # -- timing ----------------------------------------------------------------------------------------------
    def prepared_call(self, feed: Mapping[str, np.ndarray]) -> Callable[[], object]:
        """One inference on ``feed`` with everything that is not inference (conversions, checks) done beforehand."""
        return functools.partial(self._infer, feed)

    def time(self, feed: Mapping[str, np.ndarray], loop: Loop, progress: Progress | None = None) -> Timings:
        """Time inferences on ``feed``: warm-up, then ``loop``'s iterations and duration, one call at a time."""
        return time_calls(self.prepared_call(feed), loop, progress)

    def timing_settings(self) -> dict[str, Any]:
        """What this runner used (versions, threads, device) for the record of a timing."""
        return {}

    @property
    def label(self) -> str:
        """The backend's name, with its timing mode when that is not the default."""
        return self.backend if self.mode == "latency" else f"{self.backend} ({self.mode})"

    # -- hooks -----------------------------------------------------------------------------------------------
    @abstractmethod
    def _activate(self) -> None: ...

    @abstractmethod
    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def _deactivate(self) -> None:  # noqa: B027 - optional hook
        """Release resources; the default keeps nothing."""

    @abstractmethod
    def input_metadata(self) -> list[TensorMeta]:
        """The model's inputs (only valid once active)."""

    @abstractmethod
    def output_names(self) -> list[str]:
        """The model's outputs in order (only valid once active)."""
