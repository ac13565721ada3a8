"""Rank quantized layers by the error they add, with the layer-wise comparison of ``debug layers`` (ONNX vs ONNX).

Each layer's error is ``1 - cosine similarity`` between its FP32 and INT8 outputs on a few calibration samples;
what a layer *adds* is its error minus the largest error among the tensors it reads. The layer adding the most is
the one to keep in float first.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pt2trt.feeds import Feed
from pt2trt.precision.int8 import QUANTIZED_OPS


@dataclass(frozen=True)
class Ranked:
    node: str
    op: str
    module: str | None
    added_error: float
    error: float


def rank_layers(reference: Path, candidate: Path, feed: Feed, skip: Collection[str] = ()) -> list[Ranked]:
    """Quantizable nodes of ``reference`` (not in ``skip``), worst first, by the output error each one adds."""
    from pt2trt.debug.onnx_pair import debug_onnx_layers
    from pt2trt.settings import RunInputs, Tolerance

    report = debug_onnx_layers(
        reference, candidate, RunInputs(feed=feed), Tolerance(rtol=1e-2, atol=1e-3), backend="onnxruntime"
    )
    error: dict[str, float] = {}
    for layer in report.layers:
        for tensor, comparison in zip(layer.onnx_tensors, layer.tensors):
            cosine = comparison.cosine_similarity
            error[tensor] = 1.0 - cosine if cosine is not None else 1.0
    import onnx

    model = onnx.load(str(reference), load_external_data=False)
    labels = {n.name or f"{n.op_type}_{i}": n for i, n in enumerate(model.graph.node)}
    ranked = []
    for layer in report.layers:
        node = labels.get(layer.name)
        if node is None or node.op_type not in QUANTIZED_OPS or layer.name in skip:
            continue
        out = max((error.get(t, 0.0) for t in node.output), default=0.0)
        inputs = max((error.get(t, 0.0) for t in node.input), default=0.0)
        ranked.append(Ranked(layer.name, node.op_type, layer.module, out - inputs, out))
    return sorted(ranked, key=lambda r: -r.added_error)
