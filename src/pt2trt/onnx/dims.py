"""Dims as a user sees them, spelled one way everywhere (inspect, lint findings, build plans, verify/bench/serve
messages, the SVG): a static size is its number, a dynamic dim is the name a user chose (``batch``, ``height``) or
``?``. A JSON report keeps the file's own spelling; only text shown to a person goes through here.

Exporters name the dims they could not keep static after their own symbols: the dynamo exporter writes ``s56`` and
expressions such as ``s56 - 5`` or ``2*s3``, the legacy exporter ``unk__42`` or ``Conv_123_dim_2`` (and pt2trt's
own ``input_dim2`` for an axis made dynamic without a label), paddle2onnx ``DynamicDimension.0`` or
``ConvTranspose_459_o0__d2``; a dim may also have no name at all, or a negative size (PaddlePaddle's ``-1``). Those
are all ``?``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: how an unnamed (or generated-name) dynamic dim is shown
DYNAMIC = "?"

_GENERATED = re.compile(r"\bunk__\d+\b|_dim_?\d+\b|\b[su]\d+\b|\bDynamicDimension\.\d+\b|_o\d+__d\d+\b|^dim\d+$")


def readable_dim(param: str | None) -> str:
    """``batch`` stays ``batch``; ``s56 - 5``, ``unk__42``, ``Conv_1_dim_2``, ``DynamicDimension.0`` and an empty
    name become ``?``."""
    if not param or _GENERATED.search(param):
        return DYNAMIC
    return param


def dim_label(dim: int | str | None) -> str:
    """One dim: a size (negative sizes are dynamic: ``?``), a name (readable or ``?``), or ``None`` (``?``)."""
    if isinstance(dim, int):
        return str(dim) if dim >= 0 else DYNAMIC
    return readable_dim(dim)


def shape_text(dims: Iterable[int | str | None]) -> str:
    """``batchx3x?x?``: the dims joined by ``x`` (``scalar`` for none)."""
    return "x".join(dim_label(d) for d in dims) or "scalar"


def dim_text(dim: object) -> str:
    """One ``TensorShapeProto.Dimension``: its value, its readable name, or ``?`` (negative values are dynamic)."""
    if dim.HasField("dim_value"):  # type: ignore[attr-defined]
        return dim_label(int(dim.dim_value))  # type: ignore[attr-defined]
    return readable_dim(dim.dim_param)  # type: ignore[attr-defined]
