"""Models and faulty exporter extensions for the ``debug layers`` tests.

``GateNet`` runs a ``SoftplusGate`` module in the middle of a small Conv-BN network. ``faulty_softplus_symbolic``
(legacy exporter) and ``faulty_softplus_translation`` (dynamo exporter) export softplus as ``1.01 * Softplus(x)``:
the ONNX model then computes something slightly different from the eager forward, starting in ``gate``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from pt2trt.models import randomize_batchnorm

FAULT = 1.01


class SoftplusGate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(x)


class GateNet(nn.Module):
    """stem (Conv-BN-ReLU) -> gate -> conv/bn with a residual add -> mean -> fc."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.gate = SoftplusGate()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gate(self.stem(x))
        x = torch.relu(self.bn(self.conv(x))) + x
        return self.fc(x.mean((2, 3)))


class TwiceNet(nn.Module):
    """The same Conv-ReLU block called twice in a row (shared weights)."""

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(self.block(x))


class Merge(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class MixNet(nn.Module):
    """``merge`` takes one module output and one value computed in ``forward`` itself (``x * 3``)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.merge = Merge()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.merge(y, y * 3)


def mix_net() -> nn.Module:
    torch.manual_seed(0)
    return MixNet().eval()


def gate_net() -> nn.Module:
    """GateNet with fixed random weights and non-trivial BatchNorm statistics."""
    torch.manual_seed(0)
    return randomize_batchnorm(GateNet().eval())


def twice_net() -> nn.Module:
    torch.manual_seed(0)
    return TwiceNet().eval()


def faulty_softplus_symbolic(g, x, beta, threshold):  # torch passes the symbolic context and aten args
    return g.op("Mul", g.op("Softplus", x), g.op("Constant", value_t=torch.tensor(FAULT)))


@contextlib.contextmanager
def faulty_legacy_softplus() -> Iterator[None]:
    """Register the faulty symbolic for aten::softplus while the block runs (the registry is global)."""
    torch.onnx.register_custom_op_symbolic("aten::softplus", faulty_softplus_symbolic, 9)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::softplus", 9)


def faulty_softplus_translation(x, beta: float = 1.0, threshold: float = 20.0):
    from onnxscript import opset18 as op

    return op.Mul(op.Softplus(x), op.CastLike(FAULT, x))


def faulty_translation_table() -> dict:
    return {torch.ops.aten.softplus.default: faulty_softplus_translation}
