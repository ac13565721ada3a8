"""The runner interface every backend implements (after Polygraphy's runners).

A runner is activated once (load the model, create the session), then ``infer(feed)`` maps input names to numpy
arrays and returns output names to numpy arrays, in the model's output order. Use it as a context manager::

    with OnnxRuntimeRunner("model.onnx") as runner:
        outputs = runner.infer({"input": x})

Subclasses override the hooks ``_activate``, ``_infer`` and ``_deactivate`` and describe their I/O with
``input_metadata``/``output_names``; everything else lives here.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from pt2trt.errors import Pt2trtError


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

    @classmethod
    def from_path(cls, model: Any, **options: Any) -> Runner:
        """A runner for ``model`` (a path, or whatever the constructor takes first), given the ``options`` its
        constructor accepts; the others (meant for other backends) are left out."""
        import inspect

        parameters = inspect.signature(cls.__init__).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            options = {k: v for k, v in options.items() if k in parameters}
        return cls(model, **options)

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
