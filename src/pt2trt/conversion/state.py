"""What the steps of ``convert`` hand on to each other, and how a step reports: :class:`State` and ``Outcome``.

Each step is a small adapter: it takes the run's :class:`State`, calls one public API with settings objects, keeps
the returned object in ``state.results`` (typed: :class:`~pt2trt.conversion.record.ConvertResults`) and returns
``(status, closing line, command to reproduce, data for report.json)``. A failure is the API's own
:class:`~pt2trt.errors.Pt2trtError` (or one raised by the step for a failed check, with a hint).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.conversion.record import ConvertResults
from pt2trt.errors import Pt2trtError
from pt2trt.onnx.model import OnnxModel
from pt2trt.settings import ConvertSettings
from pt2trt.shapes import InputSpec

Outcome = tuple[str, str, str, dict[str, Any]]  # status, closing line, command, data
Step = tuple[str, str, Callable[["State"], Outcome]]  # name, title, the step


class StepFailed(Pt2trtError):
    """A step's check ran and said no: the one-line reason and hint, and what was measured (kept in report.json, so
    that a failed precision's agreement is still on record for the report and a sweep's baseline)."""

    def __init__(self, message: str, hint: str | None, data: dict[str, Any]) -> None:
        super().__init__(message, hint)
        self.data = data


@dataclass
class State:
    """The run so far: what was asked, the PyTorch model (when there is one), the ONNX models, every result."""

    model: str
    outdir: Path
    settings: ConvertSettings
    progress: Callable[[str], None] = lambda text: None  # a sub-step note for the progress display
    loaded: Any = None  # the PyTorch model (a LoadedModel), exported or named by --pytorch
    exported: OnnxModel | None = None  # model.onnx: exported, or the ONNX MODEL copied
    final: OnnxModel | None = None  # the FP32 model every later step uses (simplified when proven equivalent)
    inputs: list[InputSpec] = field(default_factory=list)  # the model's inputs with example sizes
    reduced: dict[str, OnnxModel] = field(default_factory=dict)  # precision -> reduced ONNX, in the order asked
    rejected: set[str] = field(default_factory=set)  # precisions that failed their check (no engine from them)
    results: ConvertResults = field(default_factory=ConvertResults)

    @property
    def onnx_source(self) -> bool:
        """Whether MODEL is an ONNX file (nothing to export; PyTorch only with --pytorch)."""
        return is_onnx_path(self.model)

    def model_file(self) -> OnnxModel:
        """The FP32 ONNX every later step uses."""
        assert self.final is not None, "the ONNX model is made by the first steps"
        return self.final


def is_onnx_path(model: str) -> bool:
    return Path(model).suffix.lower() == ".onnx"


def cmd(*args: object) -> str:
    """The ``pt2trt`` command that runs a step alone."""
    return shlex.join(["pt2trt", *(str(a) for a in args)])


def shapes_text(specs: list[InputSpec]) -> list[str]:
    args = []
    for s in specs:
        args += ["--input", f"{s.name + ':' if s.name else ''}{'x'.join(map(str, s.shape))}:{s.dtype}"]
    return args
