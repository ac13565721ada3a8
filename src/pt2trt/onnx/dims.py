"""Symbolic dims as a user would write them.

Exporters name the dims they could not keep static after their own symbols: the dynamo exporter writes ``s56`` and
expressions such as ``s56 - 5`` or ``2*s3``, the legacy exporter ``unk__42`` or ``Conv_123_dim_2``, paddle2onnx
``DynamicDimension.0`` or ``ConvTranspose_459_o0__d2``. Names a user chose
(``batch``, ``height``) stay; anything built from a generated symbol is shown as ``?``.
"""

from __future__ import annotations

import re

_GENERATED = re.compile(r"\bunk__\d+\b|_dim_\d+\b|\b[su]\d+\b|\bDynamicDimension\.\d+\b|_o\d+__d\d+\b")


def readable_dim(param: str | None) -> str:
    """``batch`` stays ``batch``; ``s56 - 5``, ``unk__42``, ``Conv_1_dim_2`` and an empty name become ``?``."""
    if not param or _GENERATED.search(param):
        return "?"
    return param


def dim_text(dim: object) -> str:
    """One ``TensorShapeProto.Dimension``: its value, its readable name, or ``?`` (negative values are dynamic)."""
    if dim.HasField("dim_value"):  # type: ignore[attr-defined]
        value = dim.dim_value  # type: ignore[attr-defined]
        return str(value) if value >= 0 else "?"
    return readable_dim(dim.dim_param)  # type: ignore[attr-defined]
