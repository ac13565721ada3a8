"""``pt2trt inspect``: versions, I/O, op histogram, parameters, metadata and ONNX Runtime compatibility.

Everything :class:`ModelInfo` holds is JSON-safe, however broken the file: protobuf hands back ``bytes`` for a
string field that is not valid UTF-8 (a name, an op type, a metadata entry), so every text read from the model goes
through :func:`text` (invalid bytes become U+FFFD), and non-finite float attributes are written as the strings
``nan``, ``inf`` and ``-inf`` (JSON has no such numbers).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.onnx.dims import shape_text
from pt2trt.onnx.dtypes import dtype_name, itemsize
from pt2trt.onnx.graph import real_inputs
from pt2trt.onnx.model import ModelLike, OnnxModel
from pt2trt.onnx.ort_compat import OrtCompatibility, ort_compatibility


@dataclass
class TensorInfo:
    name: str
    dtype: str
    shape: list[int | str | None] | None

    @property
    def shape_text(self) -> str:
        """As a user would write it (:mod:`pt2trt.onnx.dims`): generated names and negative sizes are ``?``."""
        if self.shape is None:
            return "?"
        return shape_text(self.shape)


@dataclass
class NodeInfo:
    name: str
    op_type: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, Any]


@dataclass
class ModelInfo:
    """Everything ``inspect`` reports about one ONNX file."""

    path: Path
    file_bytes: int
    ir_version: int
    opsets: dict[str, int]
    producer_name: str
    producer_version: str
    model_version: int
    graph_name: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    op_counts: dict[str, int]
    node_count: int
    parameter_count: int  # initializers and floating-point Constant node tensors
    parameter_bytes: int
    initializer_dtypes: dict[str, dict[str, int]]
    initializers_as_inputs: list[str]
    external_data: bool
    metadata: dict[str, str]
    onnxruntime: OrtCompatibility
    nodes: list[NodeInfo] = field(default_factory=list)
    # weights held by Constant nodes (PaddlePaddle's exporter writes them so): counted in parameter_count too
    constant_parameters: dict[str, int] = field(default_factory=lambda: {"tensors": 0, "elements": 0, "bytes": 0})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values only (``json.dumps(info.to_dict(), allow_nan=False)`` works on any model)."""
        return {
            "path": str(self.path),
            "file_bytes": self.file_bytes,
            "ir_version": self.ir_version,
            "opsets": self.opsets,
            "producer_name": self.producer_name,
            "producer_version": self.producer_version,
            "model_version": self.model_version,
            "graph_name": self.graph_name,
            "inputs": [vars(t) for t in self.inputs],
            "outputs": [vars(t) for t in self.outputs],
            "op_counts": self.op_counts,
            "node_count": self.node_count,
            "parameter_count": self.parameter_count,
            "parameter_bytes": self.parameter_bytes,
            "initializer_dtypes": self.initializer_dtypes,
            "constant_parameters": self.constant_parameters,
            "initializers_as_inputs": self.initializers_as_inputs,
            "external_data": self.external_data,
            "metadata": self.metadata,
            "onnxruntime": self.onnxruntime.to_dict(),
            **({"nodes": [vars(n) for n in self.nodes]} if self.nodes else {}),
        }


def inspect_model(model: ModelLike, *, nodes: bool = False) -> ModelInfo:
    """Describe ``model``, a handle or a path (weights in external data files are not read)."""
    import onnx
    import onnxruntime

    handle = OnnxModel.of(model)
    proto = handle.proto
    p = handle.path or Path(handle.name)
    graph = proto.graph
    opsets = {text(o.domain or "ai.onnx"): o.version for o in proto.opset_import}
    initializers = {t.name: t for t in graph.initializer}
    params, nbytes = 0, 0
    by_dtype: dict[str, dict[str, int]] = {}
    for t in graph.initializer:
        count = 1
        for d in t.dims:
            count *= d
        dtype = dtype_name(t.data_type)
        size = count * itemsize(t.data_type)
        params += count
        nbytes += size
        entry = by_dtype.setdefault(dtype, {"tensors": 0, "elements": 0, "bytes": 0})
        entry["tensors"] += 1
        entry["elements"] += count
        entry["bytes"] += size
    constants = _constant_weights(graph)
    params += constants["elements"]
    nbytes += constants["bytes"]
    ops: Counter[str] = Counter(_op_name(n) for n in graph.node)
    data_file = p.with_name(p.name + ".data")
    on_disk = handle.path is not None and handle.path.exists()
    return ModelInfo(
        path=p,
        file_bytes=p.stat().st_size + (data_file.stat().st_size if data_file.exists() else 0)
        if on_disk
        else proto.ByteSize(),
        ir_version=proto.ir_version,
        opsets=opsets,
        producer_name=text(proto.producer_name),
        producer_version=text(proto.producer_version),
        model_version=proto.model_version,
        graph_name=text(graph.name),
        inputs=[_tensor_info(v) for v in real_inputs(graph)],
        outputs=[_tensor_info(v) for v in graph.output],
        op_counts=dict(ops.most_common()),
        node_count=len(graph.node),
        parameter_count=params,
        parameter_bytes=nbytes,
        initializer_dtypes=by_dtype,
        initializers_as_inputs=[text(v.name) for v in graph.input if v.name in initializers],
        external_data=any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer),
        metadata={text(e.key): text(e.value) for e in proto.metadata_props},
        onnxruntime=ort_compatibility(
            proto.ir_version, opsets.get("ai.onnx"), opsets.get("ai.onnx.ml"), installed=onnxruntime.__version__
        ),
        nodes=[_node_info(n) for n in graph.node] if nodes else [],
        constant_parameters=constants,
    )


_FLOAT_TYPES = {"float16", "bfloat16", "float32", "float64"}


def text(value: str | bytes) -> str:
    """A string field of the model as text: protobuf returns ``bytes`` when the field is not valid UTF-8."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _op_name(node: Any) -> str:
    domain, op = text(node.domain), text(node.op_type)
    return op if domain in ("", "ai.onnx") else f"{domain}::{op}"


def _constant_weights(graph: Any) -> dict[str, int]:
    """Floating-point tensors of top-level Constant nodes: weights for exporters that write them as nodes."""
    totals = {"tensors": 0, "elements": 0, "bytes": 0}
    for node in graph.node:
        if node.op_type != "Constant" or node.domain not in ("", "ai.onnx"):
            continue
        tensor = next((a.t for a in node.attribute if a.name == "value" and a.HasField("t")), None)
        if tensor is None or dtype_name(tensor.data_type) not in _FLOAT_TYPES:
            continue
        count = 1
        for d in tensor.dims:
            count *= d
        totals["tensors"] += 1
        totals["elements"] += count
        totals["bytes"] += count * itemsize(tensor.data_type)
    return totals


def _tensor_info(value: Any) -> TensorInfo:
    ttype = value.type.tensor_type
    dtype = dtype_name(ttype.elem_type)
    name = text(value.name)
    if not ttype.HasField("shape"):
        return TensorInfo(name, dtype, None)
    shape: list[int | str | None] = []
    for d in ttype.shape.dim:
        if d.HasField("dim_value"):
            shape.append(d.dim_value)
        elif d.HasField("dim_param"):
            shape.append(text(d.dim_param))
        else:
            shape.append(None)
    return TensorInfo(name, dtype, shape)


def _node_info(node: Any) -> NodeInfo:
    attrs = {text(a.name): _attribute_value(a) for a in node.attribute}
    inputs, outputs = [text(t) for t in node.input], [text(t) for t in node.output]
    domain = text(node.domain) or "ai.onnx"
    return NodeInfo(text(node.name), text(node.op_type), domain, inputs, outputs, attrs)


def _attribute_value(attribute: Any) -> Any:
    """An attribute as plain JSON: numbers, text, lists of them, or a short description of a tensor or graph."""
    from onnx import AttributeProto

    kind = attribute.type
    if kind == AttributeProto.FLOAT:
        return _float32(attribute.f)
    if kind == AttributeProto.INT:
        return attribute.i
    if kind == AttributeProto.STRING:
        return text(attribute.s)
    if kind == AttributeProto.FLOATS:
        return [_float32(v) for v in attribute.floats]
    if kind == AttributeProto.INTS:
        return list(attribute.ints)
    if kind == AttributeProto.STRINGS:
        return [text(v) for v in attribute.strings]
    if kind == AttributeProto.TENSOR:
        return _tensor_text(attribute.t)
    if kind == AttributeProto.TENSORS:
        return [_tensor_text(t) for t in attribute.tensors]
    if kind == AttributeProto.GRAPH:
        return _graph_text(attribute.g)
    if kind == AttributeProto.GRAPHS:
        return [_graph_text(g) for g in attribute.graphs]
    known = kind in AttributeProto.AttributeType.values()
    return AttributeProto.AttributeType.Name(kind).lower().replace("_", " ") if known else f"attribute type {kind}"


def _graph_text(graph: Any) -> str:
    return f"graph '{text(graph.name)}' ({len(graph.node)} nodes)"


def _tensor_text(tensor: Any) -> str:
    return f"tensor {list(tensor.dims)} {dtype_name(tensor.data_type)}"


def _float32(value: float) -> float | str:
    """ONNX stores float attributes as float32: show 1e-05, not 9.999999747378752e-06 (``nan``, ``inf`` and
    ``-inf`` as text: JSON has no such numbers)."""
    import math

    import numpy as np

    if not math.isfinite(value):
        return str(value)
    return float(str(np.float32(value)))
