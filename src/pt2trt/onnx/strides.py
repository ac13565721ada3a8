"""Which input sizes a graph can take: an estimate, per axis, of the multiples its height and width must be.

A detector or segmenter with dynamic height and width (PaddleOCR's DB, YOLO, FPN heads) fails when an upsampled map
meets a skip connection of another size: ``Add`` or ``Concat`` cannot broadcast 17 against 16. That happens where two
paths that went down to different depths meet again, and only when the size is not a multiple of the deepest
downsampling on the way. A classifier or a text recogniser that only goes down (strides (2, 1) for a text line)
takes any size.

:func:`estimate_strides` follows every tensor from the image input: its downsampling so far, per axis (Conv and pool
strides, ``Slice`` steps and ``SpaceToDepth`` divide; ``ConvTranspose``, ``DepthToSpace`` and ``Resize``/``Upsample``
with constant scales multiply back), and the deepest downsampling on its way. Where tensors of different histories
meet (an upsampled map and a skip connection), the size must be a multiple of the deepest of them. A resize to the
size of another tensor (``F.interpolate(x, size=skip.shape[-2:])``) takes that tensor's history: it always fits.

This is an estimate read from the graph, never a rule: pt2trt runs at the size asked, and only when the runtime
fails says which size the estimate suggests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: ops whose ``strides`` attribute downsamples the two spatial axes
_STRIDED = {"Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool"}
#: ops that combine several tensors element-wise or along channels: where sizes must agree
_MERGING = {"Add", "Sub", "Mul", "Div", "Concat", "Sum", "Max", "Min", "Mean", "Where", "PRelu"}
#: ops whose output describes a tensor rather than holding a map of the picture
_SHAPE_OPS = {"Shape", "Size"}
#: how far back to look for the ``Shape`` a runtime resize size is computed from
_SHAPE_SEARCH = 24

Axes = tuple[float, float]


@dataclass(frozen=True)
class _History:
    """A tensor's downsampling so far (height, width) and the deepest on its way."""

    stride: Axes
    peak: Axes


@dataclass(frozen=True)
class StrideEstimate:
    """What the graph's height and width seem to need.

    ``multiple`` (height, width): the sizes must be multiples of these where paths of different depths meet (1, 1:
    any size); ``deepest``: the largest downsampling of any tensor; ``exact``: False when a resize's factor could not
    be read (computed at run time from something other than a tensor's shape), so the figures are upper bounds.
    """

    multiple: tuple[int, int] = (1, 1)
    deepest: tuple[int, int] = (1, 1)
    exact: bool = True

    def fits(self, size: tuple[int, int]) -> bool:
        return size[0] % self.multiple[0] == 0 and size[1] % self.multiple[1] == 0

    def fit(self, size: tuple[int, int]) -> tuple[int, int]:
        """``size`` (height, width) rounded up to the multiples."""
        return (-(-size[0] // self.multiple[0]) * self.multiple[0], -(-size[1] // self.multiple[1]) * self.multiple[1])

    def describe(self) -> str:
        """``multiples of 32 (height) x 4 (width)``, or ``any size`` when no paths of different depths meet."""
        h, w = self.multiple
        if (h, w) == (1, 1):
            return "any size"
        bound = "" if self.exact else ", an upper bound"
        return f"multiples of {h} (height) x {w} (width){bound}"


def estimate_strides(model: Any) -> StrideEstimate:
    """The :class:`StrideEstimate` of an ONNX ``ModelProto`` (graphs are topologically sorted)."""
    graph = model.graph
    constants = _constants(graph)
    producers = {name: node for node in graph.node for name in node.output}
    history: dict[str, _History] = {i.name: _History((1.0, 1.0), (1.0, 1.0)) for i in graph.input}
    for init in graph.initializer:
        history.pop(init.name, None)
    multiple, deepest, exact = [1.0, 1.0], [1.0, 1.0], True
    for node in graph.node:
        incoming = [history[name] for name in node.input if name in history]
        if not incoming or node.op_type in _SHAPE_OPS:
            continue
        if node.op_type in _MERGING and len({(h.stride, h.peak) for h in incoming}) > 1:
            for axis in (0, 1):
                multiple[axis] = max(multiple[axis], *(h.peak[axis] for h in incoming))
        merged = _History(
            tuple(max(h.stride[a] for h in incoming) for a in (0, 1)),  # type: ignore[arg-type]
            tuple(max(h.peak[a] for h in incoming) for a in (0, 1)),  # type: ignore[arg-type]
        )
        result, known = _step(node, merged, constants, producers, history)
        exact = exact and known
        for axis in (0, 1):
            deepest[axis] = max(deepest[axis], result.stride[axis])
        for name in node.output:
            history[name] = result
    return StrideEstimate(_whole(multiple), _whole(deepest), exact)


def max_stride(model: Any) -> int:
    """The larger of the two multiples :func:`estimate_strides` finds (1: any size)."""
    return max(estimate_strides(model).multiple)


def _whole(axes: list[float]) -> tuple[int, int]:
    return (max(1, round(axes[0])), max(1, round(axes[1])))


def _step(
    node: Any, incoming: _History, constants: dict[str, list[float]], producers: dict[str, Any], history: dict
) -> tuple[_History, bool]:
    """The history of ``node``'s outputs, and whether its factor was known."""
    op = node.op_type
    factor: Axes | None = (1.0, 1.0)
    if op in _STRIDED or op == "ConvTranspose":
        values = _attribute(node, "strides")
        if len(values) == 2:
            factor = (float(values[0]), float(values[1]))
            if op == "ConvTranspose":
                factor = (1 / factor[0], 1 / factor[1])
    elif op in ("SpaceToDepth", "DepthToSpace"):
        block = float(next(iter(_attribute(node, "blocksize")), 1))
        factor = (block, block) if op == "SpaceToDepth" else (1 / block, 1 / block)
    elif op == "Slice":
        factor = _slice_steps(node, constants)
    elif op in ("Resize", "Upsample"):
        scales = _resize_scales(node, constants)
        if scales is None:
            target = _shape_source(node, producers)
            if target is not None and target in history:
                return history[target], True
            return incoming, False
        factor = (1 / scales[0], 1 / scales[1]) if scales[0] > 0 and scales[1] > 0 else None
    if factor is None:
        return incoming, False
    stride = (incoming.stride[0] * factor[0], incoming.stride[1] * factor[1])
    peak = (max(incoming.peak[0], stride[0]), max(incoming.peak[1], stride[1]))
    return _History(stride, peak), True


def _attribute(node: Any, name: str) -> list[int]:
    for attribute in node.attribute:
        if attribute.name == name:
            return list(attribute.ints) if attribute.ints else [int(attribute.i)]
    return []


def _constants(graph: Any) -> dict[str, list[float]]:
    """Small constant tensors (initializers and ``Constant`` nodes) by name, flattened."""
    from onnx import numpy_helper

    values: dict[str, list[float]] = {}
    for init in graph.initializer:
        if math.prod(init.dims) <= 8:
            values[init.name] = [float(v) for v in numpy_helper.to_array(init).reshape(-1)]
    for node in graph.node:
        if node.op_type == "Constant":
            tensor = next((a.t for a in node.attribute if a.name == "value" and a.HasField("t")), None)
            if tensor is not None and math.prod(tensor.dims) <= 8:
                values[node.output[0]] = [float(v) for v in numpy_helper.to_array(tensor).reshape(-1)]
    return values


def _resize_scales(node: Any, constants: dict[str, list[float]]) -> Axes | None:
    """The (height, width) scales of a Resize/Upsample on an NCHW map, when they are constants."""
    if node.op_type == "Upsample" and len(node.input) < 2:
        scales = [float(v) for a in node.attribute if a.name == "scales" for v in a.floats]  # opset 7
    else:  # Upsample-9 and Resize-10: (X, scales); Resize-11+: (X, roi, scales, sizes)
        name = node.input[1] if node.op_type == "Upsample" or len(node.input) == 2 else node.input[2]
        scales = constants.get(name, []) if name else []
    return (scales[2], scales[3]) if len(scales) == 4 else None  # else sizes: constant, or computed at run time


def _slice_steps(node: Any, constants: dict[str, list[float]]) -> Axes:
    """``x[..., ::2, ::2]`` (YOLOv5's Focus) downsamples: the steps of a Slice on axes 2 and 3."""
    if len(node.input) < 5 or not node.input[4]:
        return (1.0, 1.0)
    steps = constants.get(node.input[4], [])
    axes = constants.get(node.input[3], list(range(len(steps)))) if node.input[3] else list(range(len(steps)))
    found = {int(a): abs(s) for a, s in zip(axes, steps)}
    return (float(found.get(2, found.get(-2, 1.0))), float(found.get(3, found.get(-1, 1.0))))


def _shape_source(node: Any, producers: dict[str, Any]) -> str | None:
    """The tensor whose ``Shape`` a runtime resize size is computed from, if any (not the resized tensor's own)."""
    sizes = [name for name in node.input[1:] if name]
    stack, seen = list(sizes), set[str]()
    while stack and len(seen) < _SHAPE_SEARCH:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        producer = producers.get(name)
        if producer is None:
            continue
        if producer.op_type == "Shape":
            if producer.input[0] != node.input[0]:  # the batch and channels often come from the resized tensor
                return str(producer.input[0])
            continue
        stack.extend(i for i in producer.input if i)
    return None
