"""``debug_layers``: find the first layer where two runs of a model part ways, named by its PyTorch module.

PyTorch vs ONNX Runtime: hooks record every module call of one PyTorch forward pass; the ONNX tensors those calls
map to (see :mod:`pt2trt.debug.mapping`) are exposed as extra outputs of a copy of the model run once in ONNX
Runtime on the same inputs; each call is compared in execution order, and the origin is the first call out of
tolerance whose inputs were all within tolerance.

When keeping every tensor would exceed ``max_memory`` (or with ``strategy="bisect"``) the origin is found by
bisection over the layer order instead, a few tensors per run (:mod:`pt2trt.debug.bisect`).

Two ONNX files (or one ONNX file against TensorRT) are compared by :mod:`pt2trt.debug.onnx_pair`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.debug.expose import is_onnx_file
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed
from pt2trt.settings import LayerSearch, ModelSource, RunInputs, Tolerance
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import onnx
    import torch

    from pt2trt.backends.torch import TorchRunner
    from pt2trt.debug.expose import RunnerFactory
    from pt2trt.debug.graph import GraphIndex
    from pt2trt.debug.hooks import ModuleCall, Trace
    from pt2trt.debug.report import LayerResult, LayersReport
    from pt2trt.pytorch.sources import LoadedModel

STRATEGIES = ("auto", "all", "bisect")
#: Default budget for the values kept on one side at once (the other side holds about as much again).
DEFAULT_MAX_MEMORY = 2_000_000_000
CANDIDATE_BACKENDS = ("onnxruntime", "tensorrt")


def debug_layers(
    reference: str | Path | torch.nn.Module | LoadedModel | ModelSource,
    candidate: str | Path | None = None,
    inputs: RunInputs | Sequence[InputSpec] | None = None,
    *,
    tolerance: Tolerance | None = None,
    search: LayerSearch | None = None,
) -> LayersReport:
    """Compare ``reference`` and ``candidate`` layer by layer; the report names the layer where they part ways.

    * ``reference`` a PyTorch model (spec, module, LoadedModel or :class:`~pt2trt.settings.ModelSource` with its
      weights), ``candidate`` its ONNX file: PyTorch vs ONNX Runtime, every submodule call against the ONNX tensors
      it maps to;
    * both ONNX files: ONNX Runtime vs ONNX Runtime, tensors matched by name, else by node topology;
    * ``reference`` an ONNX file, no ``candidate``, ``search.backend="tensorrt"``: ONNX Runtime vs TensorRT (needs a
      GPU; otherwise the report says why it was skipped), by bisection marking at most ``search.max_marked``
      tensors per engine.

    ``inputs`` (:class:`~pt2trt.settings.RunInputs` or a list of specs) are resolved as ``verify`` does;
    ``tolerance`` defaults to :class:`~pt2trt.settings.Tolerance`; ``search`` (:class:`~pt2trt.settings.LayerSearch`)
    is how the search runs.
    """
    s = search or LayerSearch()
    strategy, backend, max_memory = s.strategy, s.backend, s.max_memory
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy '{strategy}'", f"Use one of: {', '.join(STRATEGIES)}")
    if backend not in CANDIDATE_BACKENDS:
        raise UsageError(f"unknown backend '{backend}'", f"Use one of: {', '.join(CANDIDATE_BACKENDS)}")
    if max_memory <= 0:
        raise UsageError(f"max_memory must be positive, got {max_memory}", "Pass a positive memory budget")
    run = RunInputs.of(inputs)
    tol = tolerance or Tolerance()
    if isinstance(reference, ModelSource) and is_onnx_file(reference.spec):
        raise UsageError(
            "--weights applies to a PyTorch MODEL, not to an ONNX file",
            "Leave out --weights for an ONNX reference, or pass the PyTorch MODEL instead",
        )
    if is_onnx_file(reference):
        from pt2trt.debug.onnx_pair import debug_onnx_layers

        return debug_onnx_layers(
            reference,  # type: ignore[arg-type]
            candidate,
            run,
            tol,
            backend=backend,
            max_marked=s.max_marked,
            candidate_factory=s.candidate_factory,
        )
    if candidate is None:
        raise UsageError("no ONNX file given to compare the PyTorch model with", "Usage: debug layers MODEL MODEL.onnx")
    if not is_onnx_file(candidate):
        raise UsageError(f"{candidate} is not an .onnx file", "Usage: debug layers MODEL MODEL.onnx")
    if backend != "onnxruntime":
        raise UsageError(
            "TensorRT is compared against ONNX Runtime, not PyTorch",
            "Run: debug layers MODEL.onnx --backend tensorrt",
        )
    from pt2trt.backends.torch import TorchRunner

    side = _OnnxSide.load(Path(candidate), run)
    start = time.perf_counter()
    model = reference if not isinstance(reference, Path) else str(reference)
    runner = TorchRunner(model, side.specs, output_names=side.index.outputs)
    with runner:
        side.seconds["torch_load"] = time.perf_counter() - start
        session = _TorchSession(model, runner, side, tol, strategy, max_memory)
        return session.run()


@dataclass
class _OnnxSide:
    """The ONNX file, its graph index and the feed both sides run on."""

    path: Path
    proto: onnx.ModelProto
    source: Path | None
    index: GraphIndex
    exporter: str
    specs: list[InputSpec]
    feed: Feed
    factory: RunnerFactory
    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, onnx_path: Path, inputs: RunInputs) -> _OnnxSide:
        from pt2trt.debug.expose import load_model_file, onnxruntime_factory
        from pt2trt.debug.graph import GraphIndex
        from pt2trt.onnx.inputs import resolve_run_inputs
        from pt2trt.onnx.scopes import exporter_of

        start = time.perf_counter()
        proto, source = load_model_file(onnx_path)
        index = GraphIndex.build(proto)
        exporter = exporter_of(proto)
        if exporter is None:
            raise Pt2trtError(
                f"the nodes of {onnx_path} do not record which PyTorch module they came from",
                "Export it with `pt2trt export` (either exporter); tools that rename nodes lose that record",
            )
        specs, feed = resolve_run_inputs(proto, inputs)
        factory = onnxruntime_factory(inputs.provider_list)
        side = cls(onnx_path, proto, source, index, exporter, specs, feed, factory)
        side.seconds["load_onnx"] = time.perf_counter() - start
        return side


class _TorchSession:
    """One active PyTorch model, one ONNX file, one feed: traced and mapped once, then searched for the origin."""

    def __init__(
        self,
        model: str | torch.nn.Module | LoadedModel | ModelSource,
        runner: TorchRunner,
        onnx_side: _OnnxSide,
        tolerance: Tolerance,
        strategy: str,
        max_memory: int,
    ) -> None:
        from pt2trt.debug.mapping import map_calls
        from pt2trt.debug.module_matching import CallComparer
        from pt2trt.onnx.scopes import node_scopes

        assert runner.module is not None
        self.onnx = onnx_side
        self.seconds = onnx_side.seconds
        self.tolerance = tolerance
        self.strategy, self.max_memory = strategy, max_memory
        self.model_text = model if isinstance(model, str | Path) else getattr(model, "spec", type(model).__name__)
        self.module = runner.module
        self.forward = lambda: runner.infer({k: v.copy() for k, v in onnx_side.feed.items()})
        start = time.perf_counter()
        first = self._trace(
            record=lambda key: strategy != "bisect", max_bytes=None if strategy == "all" else max_memory
        )
        self.seconds["torch"] = time.perf_counter() - start
        self._first: Trace | None = first  # handed to run(), which frees it as soon as it can
        self.calls: list[ModuleCall] = first.calls
        if len(self.calls) < 2:
            raise Pt2trtError(
                f"{self.model_text} calls no submodules that hooks can see",
                "TorchScript and ExportedProgram models run as one graph; point MODEL at the Python nn.Module",
            )
        module_names = {name for name, _ in self.module.named_modules()}
        scopes = node_scopes(onnx_side.proto, onnx_side.exporter, module_names)
        self.mapping = map_calls(onnx_side.index, scopes, self.calls)
        if len(self.mapping.mapped) < 2:
            raise Pt2trtError(
                f"no node of {onnx_side.path} maps to a submodule of {self.model_text}",
                "Check that the ONNX file was exported from this model",
            )
        self.comparer = CallComparer(self.calls, self.mapping, onnx_side.index, tolerance.rtol, tolerance.atol)

    def run(self) -> LayersReport:
        """Compare everything in one run, or bisect when the values exceed ``max_memory`` (or when asked to)."""
        from pt2trt.debug.report import LayersReport, UnmatchedLayer

        first, self._first = self._first, None
        assert first is not None, "a session runs once"
        if self.strategy == "bisect" or first.stopped_recording:
            del first
            used, (origin, note) = "bisection", self._bisect(self.max_memory)
        else:
            used, (origin, note) = "all-at-once", self._all_at_once(first)
        calls, comparer, side = self.calls, self.comparer, self.onnx
        unmatched = [
            UnmatchedLayer(calls[i].name, calls[i].label, calls[i].cls, reason)
            for i, reason in sorted({**self.mapping.unmapped, **comparer.unpaired}.items())
        ]
        return LayersReport(
            reference=str(self.model_text),
            candidate=str(side.path),
            comparison="pytorch-vs-onnxruntime",
            strategy=used,
            inputs=side.specs,
            rtol=self.tolerance.rtol,
            atol=self.tolerance.atol,
            layers=sorted(comparer.results.values(), key=lambda r: r.order),
            unmatched=unmatched,
            origin=origin,
            origin_note=note,
            exporter=side.exporter,
            seconds=self.seconds,
            onnx_path=side.path,
        )

    def _trace(self, **recording: Any) -> Trace:
        from pt2trt.debug.hooks import CallRecorder

        return CallRecorder(self.module, **recording).run(self.forward, [str(s.name) for s in self.onnx.specs])

    def _all_at_once(self, trace: Trace) -> tuple[LayerResult | None, str]:
        from pt2trt.debug.report import choose_origin

        order = self.comparer.order
        start = time.perf_counter()
        values = self._run_onnx(self.comparer.tensors_for(order, with_inputs=True))
        self.seconds["onnxruntime"] = time.perf_counter() - start
        start = time.perf_counter()
        self.comparer.evaluate(order, trace, values, self.onnx.feed)
        self.comparer.judge_inputs(order)
        self.seconds["compare"] = time.perf_counter() - start
        return choose_origin(list(self.comparer.results.values()))

    def _bisect(self, max_memory: int) -> tuple[LayerResult | None, str]:
        from pt2trt.debug.bisect import bisect_origin

        origin, note, runs = bisect_origin(self.comparer, self._evaluate, max_memory)
        return origin, f"{note} (bisection: {runs} runs)" if note else f"bisection: {runs} runs"

    def _evaluate(self, indices: list[int], with_inputs: bool) -> None:
        """One bisection probe: trace and expose only these calls (with their inputs' producers), compare them."""
        calls, mapping, comparer = self.calls, self.mapping, self.comparer
        wanted = set(indices)
        judged: list[int] = []
        if with_inputs:
            for i in indices:
                wanted |= comparer.dependencies(i)
                judged += [i, *mapping.mapped[i].folded]  # a folded conv's loose inputs enter the same node
        keys = {calls[i].key for i in wanted}
        loose_keys = {calls[j].key for j in judged}
        start = time.perf_counter()
        trace = self._trace(record=keys.__contains__, record_loose=loose_keys.__contains__)
        if [c.key for c in trace.calls] != [c.key for c in calls]:
            raise Pt2trtError(
                f"{self.model_text} ran other modules on a second forward pass",
                "Bisection needs a forward pass whose module calls do not change between runs",
            )
        t1 = time.perf_counter()
        values = self._run_onnx(comparer.tensors_for(wanted, with_inputs=with_inputs))
        t2 = time.perf_counter()
        comparer.evaluate(wanted, trace, values, self.onnx.feed)
        for key, seconds in (("torch", t1 - start), ("onnxruntime", t2 - t1), ("compare", time.perf_counter() - t2)):
            self.seconds[key] = self.seconds.get(key, 0.0) + seconds

    def _run_onnx(self, names: set[str]) -> dict[str, np.ndarray]:
        from pt2trt.debug.expose import run_exposed

        side = self.onnx
        return run_exposed(side.proto, sorted(names), side.feed, side.factory, side.source)
