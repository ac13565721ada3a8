"""The settings of a comparison run: :class:`Tolerance` (how close is equal) and :class:`RunInputs` (what to feed).

``verify``, ``debug_layers``, ``simplify``, ``edit`` and ``check_equivalence`` take both objects; the CLI fills them
from one option group each (``cli/options.py``). Ground floor: imports nothing heavy, so ``--help`` can show the
defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """Element-wise tolerance: a value passes when ``|candidate - reference| <= atol + rtol * |reference|``.

    With ``scaled`` (``verify``'s default) the absolute part grows with each output's scale: a value passes when
    ``|c - r| <= atol + rtol * (rms(r) + |r|)``. Reordered float32 sums leave errors proportional to the *tensor's*
    magnitude, so in a deep network with large activations a lone element near zero breaks the plain rule on a
    correct export (docs/comparison.md); a real error still moves most elements far past it. ``scaled=False`` is the
    plain ``numpy.allclose`` rule of the seeds' scripts (``verify --elementwise``).

    The default (``rtol=1e-3``, ``atol=1e-5``) is the one of ``verify``, ``debug layers`` and ``compare_outputs``:
    of the two defaults pt2trt had, the stricter won, because a looser default would let a real regression of small
    outputs pass unnoticed, and the stricter one already passes the exports of the field's models. Graph rewrites
    checked against their own source (``simplify``, ``edit``, ``check_equivalence``) use the named preset
    :data:`EQUIVALENCE` (``atol=1e-4``): Conv+BN fusion and constant folding reorder float arithmetic, so values near
    zero move by more than 1e-5 in a model that did not change.
    """

    rtol: float = 1e-3
    atol: float = 1e-5
    scaled: bool = True

    @classmethod
    def of(cls, tolerance: Tolerance | None, rtol: float | None = None, atol: float | None = None) -> Tolerance:
        """``tolerance`` (else the default) with the given ``rtol``/``atol`` keywords put over it."""
        base = tolerance if tolerance is not None else cls()
        return replace(
            base, rtol=base.rtol if rtol is None else float(rtol), atol=base.atol if atol is None else float(atol)
        )

    def to_dict(self) -> dict[str, float | bool]:
        return {"rtol": self.rtol, "atol": self.atol, "scaled": self.scaled}


#: The tolerance of a graph rewrite checked against its source (simplify, edit, check_equivalence): element-wise,
#: since a rewrite should leave every value where it was.
EQUIVALENCE = Tolerance(rtol=1e-3, atol=1e-4, scaled=False)


@dataclass(frozen=True)
class RunInputs:
    """What a run is fed: input specs, ``.npy``/``.npz`` files or ready arrays, batch size, seed, ORT providers.

    ``specs`` empty means "as recorded at export, else the graph's static shapes"; ``feed`` (arrays by input name)
    wins over ``data`` (files), which win over seeded random values of ``specs``. ``batch`` re-sizes dynamic batch
    axes; ``providers`` empty means ONNX Runtime's CPU provider.
    """

    specs: tuple[InputSpec, ...] = ()
    data: tuple[Path, ...] = ()
    feed: Mapping[str, np.ndarray] | None = None
    batch: int | None = None
    seed: int = 0
    providers: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        inputs: RunInputs | Sequence[InputSpec] | None,
        *,
        data: Sequence[str | Path] | None = None,
        feed: Mapping[str, np.ndarray] | None = None,
        batch: int | None = None,
        seed: int | None = None,
        providers: Sequence[str] | None = None,
    ) -> RunInputs:
        """``inputs`` as a :class:`RunInputs` (a list of specs becomes its ``specs``), the keywords put over it."""
        base = inputs if isinstance(inputs, RunInputs) else cls(specs=tuple(inputs or ()))
        changes: dict[str, Any] = {}
        if data:
            changes["data"] = tuple(Path(d) for d in data)
        if feed is not None:
            changes["feed"] = feed
        if batch is not None:
            changes["batch"] = batch
        if seed is not None:
            changes["seed"] = seed
        if providers:
            changes["providers"] = tuple(providers)
        return replace(base, **changes) if changes else base

    @property
    def spec_list(self) -> list[InputSpec] | None:
        """The specs as the resolvers take them: a list, or None when none were given."""
        return list(self.specs) or None

    @property
    def provider_list(self) -> list[str] | None:
        """The providers as the runners take them: a list, or None for the default."""
        return list(self.providers) or None


@dataclass(frozen=True)
class LayerSearch:
    """How ``debug layers`` searches for the first layer that parts ways.

    ``backend``: the candidate's runtime (``onnxruntime``; ``tensorrt`` compares one ONNX file on ONNX Runtime and
    TensorRT). ``strategy``: ``all`` exposes every mapped tensor in one run, ``bisect`` bisects over the layer order
    with bounded memory, ``auto`` starts with ``all`` and switches to ``bisect`` past ``max_memory`` bytes of values.
    ``max_marked``: with TensorRT, tensors marked as outputs per engine while bisecting. ``candidate_factory``: with
    TensorRT, runs the candidate side instead of building engines (tests).
    """

    backend: str = "onnxruntime"
    strategy: str = "auto"
    max_memory: int = 2_000_000_000
    max_marked: int = 8
    candidate_factory: Any = field(default=None, compare=False)
