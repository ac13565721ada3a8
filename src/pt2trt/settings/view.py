"""How a model is shown: what ``inspect`` reads, how the SVG is drawn, how Netron is served."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: boxes an SVG picture aims for when nodes are grouped (``view --svg --max-boxes``)
DEFAULT_MAX_BOXES = 30


@dataclass(frozen=True)
class InspectSettings:
    """What ``inspect`` reads: ``nodes`` (every node with its attributes, ONNX files); for an engine, the ``onnx``
    file it was built from (default: the one recorded beside it; its node scopes name the PyTorch modules) and the
    ``precision`` asked for (``fp32``, ``fp16``, ``int8``, ``fp16+int8``; default: recorded at build), to warn when
    it did not take."""

    nodes: bool = False
    onnx: Path | None = None
    precision: str | None = None


@dataclass(frozen=True)
class SvgSettings:
    """How ``view --svg`` draws: nodes grouped by PyTorch module and chains merged until about ``max_boxes`` boxes
    remain (``None``: every node)."""

    max_boxes: int | None = DEFAULT_MAX_BOXES


@dataclass(frozen=True)
class NetronSettings:
    """How ``view`` serves Netron: on 127.0.0.1 at ``port`` (0: any free port), opening a browser or not."""

    port: int = 0
    open_browser: bool = True
