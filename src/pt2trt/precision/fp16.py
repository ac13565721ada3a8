"""FP16, mixed where it must be: decide which nodes stay in FP32, then let onnxconverter-common cast the rest.

A node is kept in FP32 when

* **range**: a tensor it produces or reads held magnitudes that, times the safety ``margin``, exceed FP16's largest
  finite value (65504) on the calibration data: the producer and every consumer stay FP32, so no Cast at their
  boundary overflows;
* **underflow**: most non-zero values of a tensor it produces fell below FP16's smallest normal number (2**-14),
  where FP16 keeps few or no significant bits;
* **weights**: one of its constant inputs holds a value beyond the FP16 range;
* **op**: its op type is known to overflow or lose accuracy in FP16 (Exp, Pow, Softmax/LogSoftmax, Log, Sqrt,
  Reciprocal and the normalisation ops, whose statistics are sums of squares);
* **reduction**: it sums or averages over at least ``reduction_limit`` elements (ReduceSum/Mean/..., GlobalAveragePool,
  CumSum): long FP16 sums lose the small terms and overflow;
* **divisor**: it divides by a value computed by a normalisation statistic (Sqrt, Reduce*, Pow) or observed small
  (below ``margin`` times FP16's smallest normal);
* **user**: ``--keep-fp32 NODE|MODULE``.

* **fixed**: control flow (``If``/``Loop``/``Scan``: subgraphs untouched), ops ONNX defines for float32 only, ops of
  other domains.

:mod:`pt2trt.precision.fp16_casts` then writes the model, with one Cast at each FP32/FP16 boundary; float32 graph
inputs and outputs are kept unless ``fp16_io``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from pt2trt.precision.fp16_casts import fp32_op_reason
from pt2trt.precision.names import Layer, NodeNames
from pt2trt.precision.statistics import FP16_MAX, FP16_MIN_NORMAL, Statistics

if TYPE_CHECKING:
    import onnx

SENSITIVE_OPS = {
    "Exp": "exponential overflows FP16 above 11",
    "Pow": "powers overflow FP16 quickly",
    "Softmax": "softmax input (exp) overflows in FP16",
    "LogSoftmax": "softmax input (exp) overflows in FP16",
    "Log": "log of FP16-rounded small values loses accuracy",
    "Sqrt": "normalisation statistic",
    "Reciprocal": "division by small values",
    "LayerNormalization": "normalisation statistics (mean of squares)",
    "GroupNormalization": "normalisation statistics (mean of squares)",
    "InstanceNormalization": "normalisation statistics (mean of squares)",
    "LpNormalization": "normalisation statistics (sum of squares)",
    "ReduceLogSumExp": "exponential sum overflows FP16",
}
REDUCTIONS = {
    "ReduceSum",
    "ReduceMean",
    "ReduceSumSquare",
    "ReduceL1",
    "ReduceL2",
    "ReduceProd",
    "GlobalAveragePool",
    "GlobalLpPool",
    "CumSum",
}
STATISTIC_OPS = {"Sqrt", "Pow", "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL2", "ReduceL1"}
DEFAULT_MARGIN = 2.0
DEFAULT_REDUCTION_LIMIT = 4096
UNDERFLOW_FRACTION = 0.5


def analyse_fp16(
    model: onnx.ModelProto,
    stats: Statistics,
    *,
    keep_fp32: Sequence[str] = (),
    margin: float = DEFAULT_MARGIN,
    reduction_limit: int = DEFAULT_REDUCTION_LIMIT,
) -> list[Layer]:
    """The nodes to keep in FP32, each with its first reason, in graph order."""
    names = NodeNames(model)
    graph = _Graph(model)
    reasons: dict[int, str] = {}

    def keep(found: Iterable[tuple[int, str]]) -> None:
        for i, reason in found:
            reasons.setdefault(i, reason)

    keep((i, f"--keep-fp32 {name}") for i, name in names.resolve(keep_fp32, "--keep-fp32").items())
    keep(_range_rules(graph, stats, margin))
    big_weights = _weights_beyond_fp16(model)
    for i, node in enumerate(model.graph.node):
        reason = _node_rule(node, graph, stats, margin, reduction_limit)
        if reason is not None:
            keep([(i, reason)])
        heavy = [t for t in node.input if t in big_weights]
        if heavy:
            keep([(i, f"weights: {heavy[0]} holds values beyond the FP16 range")])
    index = "index arithmetic: computes from integer values (shapes, counts), exact in FP16 only up to 2048"
    keep((i, index) for i in index_arithmetic(model))
    return [names.layer(i, reasons[i]) for i in sorted(reasons)]


class _Graph:
    """Each tensor's producing node and consuming nodes (by index)."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.consumers: dict[str, list[int]] = {}
        self.producer: dict[str, int] = {}
        for i, node in enumerate(model.graph.node):
            for t in node.input:
                self.consumers.setdefault(t, []).append(i)
            for t in node.output:
                self.producer[t] = i

    def users(self, tensor: str) -> list[int]:
        """The producer and every consumer of ``tensor``."""
        return [*([self.producer[tensor]] if tensor in self.producer else []), *self.consumers.get(tensor, [])]

    def producer_op(self, tensor: str) -> str | None:
        return self.model.graph.node[self.producer[tensor]].op_type if tensor in self.producer else None


def _range_rules(graph: _Graph, stats: Statistics, margin: float) -> Iterator[tuple[int, str]]:
    """The **range** and **underflow** rules: every user of a tensor observed beyond FP16's range, or mostly below
    its normal numbers."""
    for tensor, t in stats.tensors.items():
        if t.abs_max * margin > FP16_MAX:
            for i in graph.users(tensor):
                yield i, f"range: {tensor} reaches {t.abs_max:.4g} (FP16 max 65504, margin {margin:g})"
        elif t.nonzero and t.subnormal_fraction >= UNDERFLOW_FRACTION and tensor in graph.producer:
            for i in graph.users(tensor):
                yield i, f"underflow: {t.subnormal_fraction:.0%} of {tensor}'s values are below FP16's normal range"


def _weights_beyond_fp16(model: onnx.ModelProto) -> set[str]:
    from onnx import numpy_helper

    return {
        init.name
        for init in model.graph.initializer
        if init.data_type == 1 and np.abs(numpy_helper.to_array(init)).max(initial=0.0) > FP16_MAX
    }


def _node_rule(
    node: onnx.NodeProto, graph: _Graph, stats: Statistics, margin: float, reduction_limit: int
) -> str | None:
    """The **fixed**, **op**, **reduction** and **divisor** rules for one node: why it stays FP32, or None."""
    fixed = fp32_op_reason(node)
    if fixed is not None:
        return f"op: {fixed}"
    if node.op_type in SENSITIVE_OPS:
        return f"op: {SENSITIVE_OPS[node.op_type]}"
    if node.op_type in REDUCTIONS:
        extent = _reduced_extent(node, stats)
        if extent is not None and extent >= reduction_limit:
            return f"reduction over {extent} elements (limit {reduction_limit})"
        return None
    if node.op_type == "Div" and len(node.input) > 1:
        divisor = node.input[1]
        source = graph.producer_op(divisor)
        t = stats.tensors.get(divisor)
        if source in STATISTIC_OPS:
            return f"divisor: divides by a {source} statistic"
        if t is not None and t.count and t.abs_min_nonzero < FP16_MIN_NORMAL * margin:
            return f"divisor: {divisor} reaches {t.abs_min_nonzero:.3g}, below FP16's normal range"
    return None


INTEGER_TYPES = {2, 3, 4, 5, 6, 7, 12, 13}  # uint8, int8, uint16, int16, int32, int64, uint32, uint64


def index_arithmetic(model: onnx.ModelProto) -> list[int]:
    """Nodes computing in float from integer values: a Cast of an integer tensor to float, and every node whose float
    inputs all come from such values or constants. Exporters compute sizes and counts that way (torchvision's
    detectors: anchors, top-k lengths, box counts); in FP16 a count of 4347 becomes 4348 and a Reshape fails."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:  # a model shape inference cannot read: no node is found by this rule
        return []
    types = {v.name: v.type.tensor_type.elem_type for v in [*inferred.graph.value_info, *inferred.graph.input]}
    constants = {i.name for i in model.graph.initializer}
    constants |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    index: set[str] = set()
    found = []
    for i, node in enumerate(model.graph.node):
        if node.op_type == "Cast":
            source = types.get(node.input[0])
            if source in INTEGER_TYPES or node.input[0] in index:
                index.update(node.output)
                found.append(i)
            continue
        floats = [t for t in node.input if t and (types.get(t) == 1 or t in index)]
        if floats and all(t in index or t in constants for t in floats) and any(t in index for t in floats):
            index.update(t for t in node.output if types.get(t) == 1)
            found.append(i)
    return found


def _reduced_extent(node: onnx.NodeProto, stats: Statistics) -> int | None:
    """How many elements each output value sums, from the observed input and output shapes."""
    t_in = stats.tensors.get(node.input[0]) if node.input else None
    t_out = stats.tensors.get(node.output[0]) if node.output else None
    if t_in is None or t_out is None or not t_in.shape:
        return None
    if node.op_type == "CumSum":
        return max(t_in.shape)
    n_in, n_out = int(np.prod(t_in.shape)), int(np.prod(t_out.shape)) or 1
    return n_in // n_out


def named_copy(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose nodes all have names (the converter blocks nodes by name)."""
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for i, node in enumerate(copy.graph.node):
        if not node.name:
            node.name = f"{node.op_type}_{i}"
    return copy


def convert_fp16(
    model: onnx.ModelProto, keep: Sequence[str] = (), *, fp16_io: bool = False, block_ops: Sequence[str] = ()
) -> onnx.ModelProto:
    """The mixed FP16 model (:mod:`pt2trt.precision.fp16_casts`) with the nodes named in ``keep`` and the op types in
    ``block_ops`` left in FP32 (plus the ops that must stay FP32: control flow, float32-only ops)."""
    from pt2trt.precision.fp16_casts import write_fp16

    named = named_copy(model)
    wanted, blocked = set(keep), set(block_ops)
    indices = [i for i, n in enumerate(named.graph.node) if n.name in wanted or n.op_type in blocked]
    return write_fp16(named, indices, fp16_io=fp16_io)


def whole_graph_fp16(model: onnx.ModelProto, *, fp16_io: bool = False) -> onnx.ModelProto:
    """Every node in FP16 (what a plain cast does): the baseline the mixed conversion is measured against."""
    return convert_fp16(model, fp16_io=fp16_io)
