"""The settings of the graph tools: :class:`SimplifySettings` (``pt2trt simplify``) and :class:`EditSettings`
(``pt2trt edit``). Both prove their result with ONNX Runtime against the source model, so both carry what that run is
fed (:class:`~pt2trt.settings.RunInputs`) and how close is equal (:data:`~pt2trt.settings.EQUIVALENCE`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pt2trt.settings.comparison import EQUIVALENCE, RunInputs, Tolerance

#: ``--engine`` choices of simplify: onnxslim, onnxsim, or the smallest equivalent result of both (and their chain)
SIMPLIFY_ENGINES = ("both", "onnxslim", "onnxsim")


@dataclass(frozen=True)
class SimplifySettings:
    """``engine``: which simplifier(s) to try (:data:`SIMPLIFY_ENGINES`); ``inputs``: example shapes for dynamic axes
    with none recorded, the seed and the providers of the check; ``tolerance``: of the check. ``write_unchanged``:
    write the output even when no engine changed the graph (the CLI does when ``-o`` names it; by default an
    unchanged model is not copied to ``IN-sim.onnx``)."""

    engine: str = "both"
    inputs: RunInputs = field(default_factory=RunInputs)
    tolerance: Tolerance = EQUIVALENCE
    write_unchanged: bool = False


@dataclass(frozen=True)
class EditSettings:
    """``verify``: prove the edits that keep the model's meaning with ONNX Runtime (the checker and shape inference
    run either way); ``inputs`` and ``tolerance``: what that run is fed and how close is equal."""

    verify: bool = True
    inputs: RunInputs = field(default_factory=RunInputs)
    tolerance: Tolerance = EQUIVALENCE
