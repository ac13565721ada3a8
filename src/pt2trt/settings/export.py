"""How a PyTorch model becomes ONNX: exporter, opset, names, dynamic axes, what is recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: ``--exporter`` choices: torch.onnx's dynamo exporter, the legacy TorchScript one, or dynamo falling back to legacy
EXPORTERS = ("auto", "dynamo", "legacy")


@dataclass(frozen=True)
class ExportSettings:
    """The options of ``pt2trt export`` (and of convert's export step).

    ``dynamic_batch`` makes dim 0 of every input dynamic and ``dynamic`` (``NAME:AXIS[=LABEL],...``) chosen axes;
    ``output_names`` name the outputs in order (default: from the output structure); ``external_data=None`` stores
    weights in ``OUT.onnx.data`` only when the model is too big for one protobuf; ``preprocess`` (a preset name, a
    YAML file or a :class:`~pt2trt.imaging.preprocess.Preprocess`) is recorded in the ONNX metadata;
    ``custom_translation_table`` (dynamo only) maps torch ops to your own ONNX translations.
    """

    exporter: str = "auto"
    opset: int | None = None
    output_names: tuple[str, ...] = ()
    dynamic_batch: bool = False
    dynamic: tuple[str, ...] = ()
    constant_folding: bool = True
    external_data: bool | None = None
    preprocess: str | Path | Any | None = None
    seed: int = 0
    custom_translation_table: Mapping[Callable[..., Any], Callable[..., Any]] | None = field(default=None, hash=False)
