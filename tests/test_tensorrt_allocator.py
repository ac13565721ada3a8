"""The TensorRT runner's output allocator, driven the way TensorRT drives an ``IOutputAllocator`` (CPU stand-in).

During ``execute_async_v3`` TensorRT calls ``reallocate_output_async(name, current_address, size, alignment,
stream)`` for each output routed to the allocator, writes the output at the returned address, then calls
``notify_shape(name, dims)``. :class:`FakeContext` does exactly that for a NonZero-like output whose size depends on
the data, with CPU torch tensors standing in for CUDA memory.
"""

from __future__ import annotations

import ctypes
import types

import numpy as np
import pytest

from pt2trt.backends.tensorrt.runner import OutputBuffers, has_dynamic_dims, make_output_allocator, view_output
from pt2trt.errors import Pt2trtError

torch = pytest.importorskip("torch")

ALIGNMENT = 64  # torch's CPU allocator aligns to 64 bytes; CUDA allocations to 256 or more


class FakeIOutputAllocator:
    """``tensorrt.IOutputAllocator`` as far as a Python subclass sees it: a base with an ``__init__``."""

    def __init__(self) -> None:
        self.base_initialised = True


FAKE_TRT = types.SimpleNamespace(IOutputAllocator=FakeIOutputAllocator)


class FakeContext:
    """Computes ``nonzero(x)`` (int64, shape Nx2) and hands it to the allocator as TensorRT would."""

    def __init__(self) -> None:
        self.allocators: dict[str, object] = {}
        self.addresses: list[int] = []

    def set_output_allocator(self, name: str, allocator: object) -> bool:
        self.allocators[name] = allocator
        return True

    def execute(self, x: np.ndarray) -> bool:
        result = np.ascontiguousarray(np.argwhere(x != 0).astype(np.int64))
        allocator = self.allocators["indices"]
        current = self.addresses[-1] if self.addresses else 0
        address = allocator.reallocate_output_async("indices", current, result.nbytes, ALIGNMENT, 0)
        if address == 0:
            return False
        self.addresses.append(address)
        ctypes.memmove(address, result.ctypes.data, result.nbytes)
        allocator.notify_shape("indices", result.shape)
        return True


def _cpu_allocator() -> OutputBuffers:
    return make_output_allocator(
        FAKE_TRT, lambda n: torch.empty(n, dtype=torch.uint8), lambda buffer: int(buffer.data_ptr())
    )


def _run(context: FakeContext, allocator: OutputBuffers, x: np.ndarray) -> torch.Tensor:
    assert context.execute(x)
    buffer, shape = allocator.result("indices")
    return view_output(buffer, shape, "int64").clone()


def test_allocator_grows_reuses_and_reports_shapes() -> None:
    allocator = _cpu_allocator()
    assert isinstance(allocator, FakeIOutputAllocator) and allocator.base_initialised
    context = FakeContext()
    context.set_output_allocator("indices", allocator)

    small = np.zeros((4, 4), np.float32)
    small[1, 2] = small[3, 0] = 1
    out = _run(context, allocator, small)
    np.testing.assert_array_equal(out.numpy(), [[1, 2], [3, 0]])
    assert allocator.shapes["indices"] == (2, 2) and allocator.allocations == 1

    large = np.ones((4, 4), np.float32)  # 16 hits: the buffer must grow
    out = _run(context, allocator, large)
    assert out.shape == (16, 2) and allocator.allocations == 2
    np.testing.assert_array_equal(out.numpy(), np.argwhere(large))
    grown = context.addresses[-1]

    out = _run(context, allocator, small)  # fits: same buffer, no new allocation
    assert context.addresses[-1] == grown and allocator.allocations == 2
    np.testing.assert_array_equal(out.numpy(), [[1, 2], [3, 0]])

    out = _run(context, allocator, np.zeros((4, 4), np.float32))  # no hits: an empty 0x2 result
    assert out.shape == (0, 2) and allocator.allocations == 2


def test_outputs_are_copies_not_views_of_the_reused_buffer() -> None:
    allocator = _cpu_allocator()
    context = FakeContext()
    context.set_output_allocator("indices", allocator)
    first = _run(context, allocator, np.eye(3, dtype=np.float32))
    _run(context, allocator, np.ones((3, 3), np.float32))
    np.testing.assert_array_equal(first.numpy(), [[0, 0], [1, 1], [2, 2]])


def test_failed_allocation_returns_null_and_keeps_the_error() -> None:
    def refuse(n: int) -> object:
        raise MemoryError(f"cannot allocate {n} bytes")

    allocator = make_output_allocator(FAKE_TRT, refuse, lambda b: 0)
    context = FakeContext()
    context.set_output_allocator("indices", allocator)
    assert context.execute(np.ones((2, 2), np.float32)) is False
    assert isinstance(allocator.error, MemoryError)
    with pytest.raises(Pt2trtError, match="no shape or memory"):
        allocator.result("indices")


def test_allocation_rounds_up_to_the_alignment() -> None:
    sizes: list[int] = []

    def allocate(n: int) -> torch.Tensor:
        sizes.append(n)
        return torch.empty(n, dtype=torch.uint8)

    allocator = OutputBuffers(allocate, lambda b: int(b.data_ptr()))
    allocator.reallocate_output("boxes", 0, 100, 64)
    assert sizes == [128] and allocator.sizes["boxes"] == 100
    allocator.reallocate_output("boxes", 0, 120, 64)  # 120 > the 100 asked for first: grows
    assert sizes == [128, 128]


def test_view_refuses_a_shape_larger_than_the_buffer() -> None:
    with pytest.raises(Pt2trtError, match="8-byte output buffer"):
        view_output(torch.empty(8, dtype=torch.uint8), (3,), "float32")


def test_dynamic_dims() -> None:
    assert has_dynamic_dims((-1, 4)) and not has_dynamic_dims((1, 1000))
