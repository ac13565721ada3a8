"""Which PyTorch model: its spec, the weights to load into it, and whether unpickling (running code) is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSource:
    """A PyTorch model to load: ``spec`` (``torchvision:resnet18``, ``file.py:Name``, ``model.ts``...), a
    ``weights`` file (a state_dict, ``torch.load(weights_only=True)``) and ``allow_pickle`` (unpickle whole modules:
    runs code from the file, trusted files only)."""

    spec: str
    weights: Path | None = None
    allow_pickle: bool = False

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True)
class WeightsSettings:
    """``--weights`` and ``--allow-pickle``: what to load into a PyTorch model spec."""

    weights: Path | None = None
    allow_pickle: bool = False

    def source(self, spec: str) -> str | ModelSource:
        """``spec`` with these weights: a :class:`ModelSource`, or the spec itself when there is nothing to load."""
        if self.weights is None and not self.allow_pickle:
            return spec
        return ModelSource(spec, self.weights, self.allow_pickle)
