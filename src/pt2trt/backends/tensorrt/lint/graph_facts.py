"""What the lint knows about a graph: element types (after shape inference), constants (initializers, Constant
nodes, what constant folding would produce) and their values, which tensors are consumed; If/Loop bodies included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import onnx

_NOT_CONSTANT_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
                     "Bernoulli", "Loop", "If", "Scan"}  # fmt: skip


class GraphFacts:
    """What the checks need: constants and their values, inferred types, consumers, the opset."""

    def __init__(self, model: onnx.ModelProto) -> None:
        from onnx import shape_inference

        self.model = model
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        try:
            inferred = shape_inference.infer_shapes(model)
        except Exception:  # a model shape inference cannot handle is still linted, with fewer type facts
            inferred = model
        g = inferred.graph
        self.types = {v.name: v.type for v in [*g.input, *g.value_info, *g.output]}
        self.initializers = {t.name: t for t in self._all_initializers()}
        self.values: dict[str, Any] = {}
        self.constants: set[str] = set(self.initializers)
        for node in self.walk():  # If/Loop bodies too: a body's Constant feeds the body's nodes
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                self.constants.update(node.output)
                value = next((a.t for a in node.attribute if a.name == "value"), None)
                array = _array(value) if value is not None else None
                if array is not None:
                    self.values[node.output[0]] = array
            elif self._foldable(node):
                self.constants.update(node.output)
        self.consumed = {i for n in self.walk() for i in n.input} | {o.name for o in model.graph.output}

    def _foldable(self, node: onnx.NodeProto) -> bool:
        """True when constant folding would replace the node: Shape of a static tensor, or all inputs constant."""
        if node.op_type == "Shape":
            return self._static(node.input[0])
        return (
            node.op_type not in _NOT_CONSTANT_OPS
            and bool(node.input)
            and all(not i or i in self.constants for i in node.input)
        )

    def _static(self, name: str) -> bool:
        t = self.types.get(name)
        if t is None or not t.tensor_type.HasField("shape"):
            return False
        return all(d.HasField("dim_value") for d in t.tensor_type.shape.dim)

    def _all_initializers(self) -> Iterator[onnx.TensorProto]:
        yield from self.model.graph.initializer
        for node in self.walk():
            for attr in node.attribute:
                yield from (t for g in [attr.g, *attr.graphs] for t in g.initializer)

    def walk(self) -> Iterator[onnx.NodeProto]:
        """Every node, including those inside If/Loop/Scan bodies."""
        from onnx import helper

        stack = list(reversed(self.model.graph.node))
        while stack:
            node = stack.pop()
            yield node
            for attr in node.attribute:
                value = helper.get_attribute_value(attr)
                graphs = value if isinstance(value, list) else [value]
                for sub in graphs:
                    if hasattr(sub, "node"):
                        stack.extend(reversed(sub.node))

    def value(self, name: str) -> np.ndarray | None:

        if name in self.values:
            return self.values[name]
        tensor = self.initializers.get(name)
        if tensor is None or tensor.data_location == 1:  # external data is not read
            return None
        return _array(tensor)

    def rank(self, name: str) -> int | None:
        t = self.types.get(name)
        if t is None or not t.tensor_type.HasField("shape"):
            return None
        return len(t.tensor_type.shape.dim)


def _array(tensor: onnx.TensorProto) -> np.ndarray | None:
    """A constant's values, or None when the tensor cannot be read (an undefined or unknown element type, dims that
    do not match its data): the lint then judges the node without the value, and ``check`` reports the tensor."""
    from onnx import numpy_helper

    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError, KeyError, MemoryError, OverflowError):
        return None
