"""``pt2trt inspect``: versions, I/O, op histogram, parameters, metadata and ONNX Runtime compatibility."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.onnx.dims import readable_dim
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
        if self.shape is None:
            return "?"
        return "x".join(_dim_text(d) for d in self.shape) or "scalar"


def _dim_text(dim: int | str | None) -> str:
    """As a user would write it: generated names (``s56 - 5``, ``unk__3``) and negative values are ``?``."""
    if isinstance(dim, int):
        return str(dim) if dim >= 0 else "?"
    return readable_dim(dim)


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
    opsets = {(o.domain or "ai.onnx"): o.version for o in proto.opset_import}
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
    ops: Counter[str] = Counter(
        n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}" for n in graph.node
    )
    data_file = p.with_name(p.name + ".data")
    on_disk = handle.path is not None and handle.path.exists()
    return ModelInfo(
        path=p,
        file_bytes=p.stat().st_size + (data_file.stat().st_size if data_file.exists() else 0)
        if on_disk
        else proto.ByteSize(),
        ir_version=proto.ir_version,
        opsets=opsets,
        producer_name=proto.producer_name,
        producer_version=proto.producer_version,
        model_version=proto.model_version,
        graph_name=graph.name,
        inputs=[_tensor_info(v) for v in real_inputs(graph)],
        outputs=[_tensor_info(v) for v in graph.output],
        op_counts=dict(ops.most_common()),
        node_count=len(graph.node),
        parameter_count=params,
        parameter_bytes=nbytes,
        initializer_dtypes=by_dtype,
        initializers_as_inputs=[v.name for v in graph.input if v.name in initializers],
        external_data=any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer),
        metadata={e.key: e.value for e in proto.metadata_props},
        onnxruntime=ort_compatibility(
            proto.ir_version, opsets.get("ai.onnx"), opsets.get("ai.onnx.ml"), installed=onnxruntime.__version__
        ),
        nodes=[_node_info(n) for n in graph.node] if nodes else [],
        constant_parameters=constants,
    )


_FLOAT_TYPES = {"float16", "bfloat16", "float32", "float64"}


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
    if not ttype.HasField("shape"):
        return TensorInfo(value.name, dtype, None)
    shape: list[int | str | None] = []
    for d in ttype.shape.dim:
        if d.HasField("dim_value"):
            shape.append(d.dim_value)
        elif d.HasField("dim_param"):
            shape.append(d.dim_param)
        else:
            shape.append(None)
    return TensorInfo(value.name, dtype, shape)


def _node_info(node: Any) -> NodeInfo:
    from onnx import helper

    attrs: dict[str, Any] = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if hasattr(value, "dims"):  # TensorProto
            dtype = dtype_name(value.data_type)
            value = f"tensor {list(value.dims)} {dtype}"
        elif hasattr(value, "node"):  # GraphProto (If/Loop bodies)
            value = f"graph '{value.name}' ({len(value.node)} nodes)"
        elif isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        elif isinstance(value, float):
            value = _float32(value)
        elif isinstance(value, list):
            value = [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v for v in value]
            value = [_float32(v) if isinstance(v, float) else v for v in value]
            value = [v if isinstance(v, str | int | float) else str(type(v).__name__) for v in value]
        attrs[a.name] = value
    return NodeInfo(node.name, node.op_type, node.domain or "ai.onnx", list(node.input), list(node.output), attrs)


def _float32(value: float) -> float:
    """ONNX stores float attributes as float32: show 1e-05, not 9.999999747378752e-06."""
    import numpy as np

    return float(str(np.float32(value)))
