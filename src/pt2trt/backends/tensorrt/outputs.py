"""Outputs whose shape depends on the data (NonZero, NMS: detectors), for the TensorRT runner.

:class:`OutputBuffers` is the buffer logic of TensorRT's ``IOutputAllocator`` (``context.set_output_allocator``,
TensorRT >= 8.5, the same on 10 and 11): TensorRT asks for memory once it knows the size and reports the shape; buffers
are kept and reused across calls while they are large enough. Plain Python, so CPU tests check it with stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError

if TYPE_CHECKING:
    import torch


@dataclass
class OutputBuffers:
    """The buffer logic of an ``IOutputAllocator``: one device buffer per output, grown on demand, reused when it fits.

    TensorRT calls :meth:`reallocate_output_async` (10+; :meth:`reallocate_output` before) during
    ``execute_async_v3`` with the byte size it needs, then :meth:`notify_shape` with the output's real shape.
    ``allocate(nbytes)`` returns a buffer (a CUDA ``torch.uint8`` tensor in the runner), ``address(buffer)`` its
    device pointer. A failed allocation returns 0, which TensorRT reports as an execution failure; the error is kept
    in :attr:`error` for the runner to raise.
    """

    allocate: Callable[[int], Any]
    address: Callable[[Any], int]
    buffers: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    allocations: int = 0
    error: BaseException | None = None

    def reallocate_output(self, tensor_name: str, memory: int, size: int, alignment: int) -> int:
        """Return a device address with at least ``size`` bytes for ``tensor_name`` (``memory``: the current one)."""
        size = max(int(size), 1)
        if self.sizes.get(tensor_name, -1) >= size:
            return self.address(self.buffers[tensor_name])
        try:
            buffer = self.allocate(_round_up(size, max(int(alignment), 1)))
        except Exception as exc:  # an exception must not cross into TensorRT's C++ frame
            self.error = exc
            return 0
        self.buffers[tensor_name] = buffer
        self.sizes[tensor_name] = size
        self.allocations += 1
        pointer = self.address(buffer)
        if alignment and pointer % alignment:
            self.error = RuntimeError(f"allocation for '{tensor_name}' is not {alignment}-byte aligned")
            return 0
        return pointer

    def reallocate_output_async(self, tensor_name: str, memory: int, size: int, alignment: int, stream: int) -> int:
        """TensorRT 10+'s form; allocation is ordered on the runner's stream (torch's caching allocator)."""
        return self.reallocate_output(tensor_name, memory, size, alignment)

    def notify_shape(self, tensor_name: str, shape: Sequence[int]) -> None:
        self.shapes[tensor_name] = tuple(int(d) for d in shape)

    def result(self, tensor_name: str) -> tuple[Any, tuple[int, ...]]:
        """(buffer, shape) of an output after execution; a user error when TensorRT never reported it."""
        if tensor_name not in self.shapes or tensor_name not in self.buffers:
            raise Pt2trtError(
                f"TensorRT reported no shape or memory for output '{tensor_name}'",
                "Rebuild the engine with this TensorRT version, or run the ONNX with --backend onnxruntime",
            )
        return self.buffers[tensor_name], self.shapes[tensor_name]


def _round_up(size: int, alignment: int) -> int:
    return -(-size // alignment) * alignment


def make_output_allocator(trt: Any, allocate: Callable[[int], Any], address: Callable[[Any], int]) -> Any:
    """An ``trt.IOutputAllocator`` with :class:`OutputBuffers`' logic (the base class comes from ``trt``)."""

    class Allocator(OutputBuffers, trt.IOutputAllocator):
        def __init__(self) -> None:
            trt.IOutputAllocator.__init__(self)
            OutputBuffers.__init__(self, allocate, address)

    return Allocator()


def view_output(buffer: torch.Tensor, shape: Sequence[int], dtype: str) -> torch.Tensor:
    """The first bytes of an allocator's ``uint8`` buffer as a tensor of ``shape`` and ``dtype`` (no copy)."""
    import torch

    wanted = getattr(torch, dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * torch.empty((), dtype=wanted).element_size()
    if nbytes > buffer.numel():
        raise Pt2trtError(
            f"TensorRT reported shape {tuple(shape)} for a {buffer.numel()}-byte output buffer",
            "Rebuild the engine with this TensorRT version, or run the ONNX with --backend onnxruntime",
        )
    return buffer[:nbytes].view(wanted).reshape(tuple(shape))


def has_dynamic_dims(shape: Sequence[int]) -> bool:
    return any(int(d) < 0 for d in shape)
