"""How much a graph downsamples its image input: the largest cumulative stride of its convolutions and pools.

A detector or segmenter with dynamic height and width (PaddleOCR's DB, YOLO, FPN heads) usually needs both to be
multiples of that stride, or an ``Add`` of an upsampled map and a skip connection fails to broadcast.
"""

from __future__ import annotations

from typing import Any

_STRIDED = {"Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool"}
_UPSAMPLING = {"ConvTranspose"}


def max_stride(model: Any) -> int:
    """The largest product of strides from a graph input to any tensor (1 for a graph without strided ops).

    Transposed convolutions divide by their stride; resizes are ignored (their scales are often computed at run
    time), so the figure is an upper bound of what a size must be divisible by.
    """
    strides: dict[str, float] = {i.name: 1.0 for i in model.graph.input}
    largest = 1.0
    for node in model.graph.node:  # ONNX graphs are topologically sorted
        incoming = max((strides.get(name, 1.0) for name in node.input if name), default=1.0)
        factor = 1.0
        if node.op_type in _STRIDED or node.op_type in _UPSAMPLING:
            values = next((list(a.ints) for a in node.attribute if a.name == "strides"), [])
            step = max((v for v in values if v > 0), default=1)
            factor = 1.0 / step if node.op_type in _UPSAMPLING else float(step)
        value = incoming * factor
        largest = max(largest, value)
        for name in node.output:
            strides[name] = value
    return max(1, round(largest))
