"""What both kinds of ``debug layers`` runs share: which argument is an ONNX file, and the inputs to feed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pt2trt.feeds import Feed
from pt2trt.shapes import InputSpec


def is_onnx_file(spec: object) -> bool:
    return isinstance(spec, str | Path) and str(spec).lower().endswith(".onnx")


def resolve_feed(
    proto: object,
    inputs: Sequence[InputSpec] | None,
    *,
    data: Sequence[str | Path] | None,
    feed: Feed | None,
    batch: int | None,
    seed: int,
) -> tuple[list[InputSpec], Feed]:
    """Input specs and arrays, as ``verify`` chooses them: given arrays, data files, or seeded random values."""
    from pt2trt.feeds import load_feed, random_feed, specs_from_feed
    from pt2trt.verification.pytorch import onnx_input_specs, resolve_verify_inputs

    graph_names = [str(s.name) for s in onnx_input_specs(proto)]  # type: ignore[arg-type]
    if feed is None and data:
        feed = load_feed(data, graph_names)
    if feed is not None:
        specs = specs_from_feed(feed)
        specs.sort(key=lambda s: graph_names.index(str(s.name)) if s.name in graph_names else len(graph_names))
        return specs, dict(feed)
    specs = resolve_verify_inputs(proto, inputs, batch)  # type: ignore[arg-type]
    return specs, random_feed(specs, seed)
