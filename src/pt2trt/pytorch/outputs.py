"""Flatten nested model outputs (tuples, lists, dicts, namedtuples) into named tensors.

The order is the one both ONNX exporters use (depth first, dicts in insertion order), so the i-th flattened output
of the PyTorch model is the i-th output of the exported graph.
"""

from __future__ import annotations

from typing import Any


def flatten_outputs(obj: Any) -> list[tuple[tuple[str | int, ...], Any]]:
    """``(path, leaf)`` pairs; ``None`` leaves are dropped, as the exporters drop them."""
    out: list[tuple[tuple[str | int, ...], Any]] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if node is None:
            return
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, str(key)))
        elif hasattr(node, "_fields") and isinstance(node, tuple):  # namedtuple
            for key in getattr(node, "_fields"):  # noqa: B009 - a namedtuple's field names
                walk(getattr(node, key), (*path, key))
        elif isinstance(node, list | tuple):
            for i, value in enumerate(node):
                walk(value, (*path, i))
        else:
            out.append((path, node))

    walk(obj, ())
    return out


def output_names(paths: list[tuple[str | int, ...]]) -> list[str]:
    """Readable unique names for flattened outputs: ``output`` / ``output_1`` / ``boxes`` / ``out``.

    Dict keys give names (``{"boxes": ..}`` -> ``boxes``); indices are kept only where they tell outputs apart.
    """
    if len(paths) == 1 and not any(isinstance(p, str) for p in paths[0]):
        return ["output"]
    short = ["_".join(str(p) for p in path if isinstance(p, str)) for path in paths]
    if all(short) and len(set(short)) == len(short):
        return short
    full = ["_".join(str(p) for p in path) for path in paths]
    return [f"output_{name}" if not any(isinstance(p, str) for p in path) else name for name, path in zip(full, paths)]
