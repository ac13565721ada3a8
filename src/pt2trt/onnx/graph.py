"""The one reader of a graph's real inputs: the ``graph.input`` entries that are not initializers.

Exporters may list initializers among the inputs (``keep_initializers_as_inputs=True``); every tool that asks "what
does this model take?" reads it here. Dims are static sizes, or ``None``/a name for dynamic axes; negative sizes
(``dim_value: -1``, written by PaddlePaddle and others) count as dynamic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pt2trt.onnx.dtypes import dtype_name
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import onnx

Dim = int | str | None


def initializer_names(graph: onnx.GraphProto) -> set[str]:
    """Names of the graph's dense and sparse initializers."""
    return {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}


def real_inputs(model: onnx.ModelProto | onnx.GraphProto) -> list[onnx.ValueInfoProto]:
    """The inputs a caller must feed, in graph order (initializers listed as inputs left out)."""
    graph = model.graph if hasattr(model, "graph") else model
    constants = initializer_names(graph)
    return [value for value in graph.input if value.name not in constants]


def real_input_names(model: onnx.ModelProto | onnx.GraphProto) -> list[str]:
    return [value.name for value in real_inputs(model)]


def input_dims(value: onnx.ValueInfoProto) -> list[Dim]:
    """Each dim: its size when static and non-negative, else its symbolic name, else None."""
    dims: list[Dim] = []
    for d in value.type.tensor_type.shape.dim:
        static = d.HasField("dim_value") and d.dim_value >= 0
        dims.append(d.dim_value if static else (d.dim_param or None))
    return dims


def has_shape(value: onnx.ValueInfoProto) -> bool:
    """Whether the input declares a shape at all (rank known)."""
    return value.type.tensor_type.HasField("shape")


def onnx_input_specs(model: onnx.ModelProto) -> list[InputSpec]:
    """Specs for the graph's real inputs (initializers excluded); dynamic dims recorded by name with size 0."""
    specs = []
    for value in real_inputs(model):
        elem_type = value.type.tensor_type.elem_type
        dims = input_dims(value)
        dynamic = {axis: d or f"dim{axis}" for axis, d in enumerate(dims) if not isinstance(d, int)}
        shape = tuple(d if isinstance(d, int) else 0 for d in dims)
        specs.append(InputSpec(value.name, shape, dtype_name(elem_type) if elem_type else "float32", dynamic))
    return specs
