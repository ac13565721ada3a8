"""How a model is served by Triton Inference Server: the core model's config, and the ensemble around it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.settings.tasks import PreprocessSettings, TaskSettings

#: ``--kind`` choices: the instance group's device
INSTANCE_KINDS = ("gpu", "cpu")
#: ``--core`` choices: the model's own backend, or ONNX Runtime inside a Python-backend model (CPU-only servers)
CORES = ("native", "python")


@dataclass(frozen=True)
class ServeSettings:
    """How the core model is served (the flags of ``pt2trt triton``).

    ``name`` is the model's name in the repository (``None``: the model file's name without suffix); ``max_batch``
    ``None`` is 8 for a dynamic batch, bounded by an engine's profile. ``kind``: the instance group's device;
    ``tensorrt_accelerator``: ONNX on GPU through TensorRT's execution accelerator. ``triton_release`` (e.g.
    ``24.12``) and ``tensorrt_version`` (the server's TensorRT, for a release not in the table) check an engine's
    TensorRT. ``core``: ``native`` (the model's own backend) or ``python`` (ONNX Runtime in a Python-backend model).
    """

    name: str | None = None
    max_batch: int | None = None
    instances: int = 1
    kind: str = "gpu"
    dynamic_batching: bool = False
    preferred: tuple[int, ...] = ()
    max_queue_delay_us: int = 0
    tensorrt_accelerator: bool = False
    triton_release: str | None = None
    tensorrt_version: str | None = None
    core: str = "native"


def _classify() -> TaskSettings:
    return TaskSettings(task="classify")


@dataclass(frozen=True)
class EnsembleSettings:
    """What the pre/post models of ``--ensemble`` do: the task and its decoding, the preprocessing (given, else the
    one recorded in the model, else the task's preset: said aloud), and the class names (a file or a built-in
    name)."""

    task: TaskSettings = field(default_factory=_classify)
    preprocess: PreprocessSettings = field(default_factory=PreprocessSettings)
    labels: str | Path | Any | None = None
