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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import torch

    from pt2trt.debug.hooks import ModuleCall, Trace
    from pt2trt.debug.report import LayerResult, LayersReport
    from pt2trt.pytorch.sources import LoadedModel

STRATEGIES = ("auto", "all", "bisect")
#: Default budget for the values kept on one side at once (the other side holds about as much again).
DEFAULT_MAX_MEMORY = 2_000_000_000
CANDIDATE_BACKENDS = ("onnxruntime", "tensorrt")


def is_onnx_file(spec: object) -> bool:
    return isinstance(spec, str | Path) and str(spec).lower().endswith(".onnx")


def debug_layers(
    reference: str | Path | torch.nn.Module | LoadedModel,
    candidate: str | Path | None = None,
    inputs: Sequence[InputSpec] | None = None,
    *,
    data: Sequence[str | Path] | None = None,
    feed: Feed | None = None,
    batch: int | None = None,
    rtol: float = 1e-3,
    atol: float = 1e-5,
    seed: int = 0,
    weights: str | Path | None = None,
    allow_pickle: bool = False,
    providers: Sequence[str] | None = None,
    backend: str = "onnxruntime",
    strategy: str = "auto",
    max_memory: int = DEFAULT_MAX_MEMORY,
) -> LayersReport:
    """Compare ``reference`` and ``candidate`` layer by layer; the report names the layer where they part ways.

    * ``reference`` a PyTorch model (spec, module or LoadedModel), ``candidate`` its ONNX file: PyTorch vs ONNX
      Runtime, every submodule call against the ONNX tensors it maps to;
    * both ONNX files: ONNX Runtime vs ONNX Runtime, tensors matched by name, else by node topology;
    * ``reference`` an ONNX file, no ``candidate``, ``backend="tensorrt"``: ONNX Runtime vs TensorRT (needs a GPU;
      otherwise the report says why it was skipped).

    ``strategy``: ``all`` exposes every mapped tensor in one run, ``bisect`` bisects over the layer order with
    bounded memory, ``auto`` starts with ``all`` and switches to ``bisect`` past ``max_memory`` bytes of values.
    """
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy '{strategy}'", f"Use one of: {', '.join(STRATEGIES)}")
    if backend not in CANDIDATE_BACKENDS:
        raise UsageError(f"unknown backend '{backend}'", f"Use one of: {', '.join(CANDIDATE_BACKENDS)}")
    if max_memory <= 0:
        raise UsageError(f"max_memory must be positive, got {max_memory}")
    common = {"data": data, "feed": feed, "batch": batch, "rtol": rtol, "atol": atol, "seed": seed}
    if is_onnx_file(reference):
        from pt2trt.debug.onnx_pair import debug_onnx_layers

        if weights is not None:
            raise UsageError("--weights applies to a PyTorch MODEL, not to an ONNX file")
        return debug_onnx_layers(reference, candidate, inputs, providers=providers, backend=backend, **common)
    if candidate is None:
        raise UsageError("no ONNX file given to compare the PyTorch model with", "Usage: debug layers MODEL MODEL.onnx")
    if not is_onnx_file(candidate):
        raise UsageError(f"{candidate} is not an .onnx file", "Usage: debug layers MODEL MODEL.onnx")
    if backend != "onnxruntime":
        raise UsageError(
            "TensorRT is compared against ONNX Runtime, not PyTorch",
            "Run: debug layers MODEL.onnx --backend tensorrt",
        )
    session = _TorchSession(
        reference,
        Path(candidate),
        inputs,
        weights=weights,
        allow_pickle=allow_pickle,
        providers=providers,
        **common,
    )
    return session.run(strategy, max_memory)


class _TorchSession:
    """One PyTorch model, one ONNX file, one feed: the passes and runs that ``debug_layers`` needs."""

    def __init__(
        self,
        model: str | Path | torch.nn.Module | LoadedModel,
        onnx_path: Path,
        inputs: Sequence[InputSpec] | None,
        *,
        data: Sequence[str | Path] | None,
        feed: Feed | None,
        batch: int | None,
        rtol: float,
        atol: float,
        seed: int,
        weights: str | Path | None,
        allow_pickle: bool,
        providers: Sequence[str] | None,
    ) -> None:
        from pt2trt.debug.expose import load_model_file, onnxruntime_factory
        from pt2trt.debug.graph import GraphIndex
        from pt2trt.onnx.scopes import exporter_of

        self.seconds: dict[str, float] = {}
        start = time.perf_counter()
        self.onnx_path = onnx_path
        self.proto, self.source = load_model_file(onnx_path)
        self.index = GraphIndex.build(self.proto)
        self.exporter = exporter_of(self.proto)
        if self.exporter is None:
            raise Pt2trtError(
                f"the nodes of {onnx_path} do not record which PyTorch module they came from",
                "Export it with `pt2trt export` (either exporter); tools that rename nodes lose that record",
            )
        self.specs, self.feed = resolve_feed(self.proto, inputs, data=data, feed=feed, batch=batch, seed=seed)
        self.rtol, self.atol = rtol, atol
        self.factory = onnxruntime_factory(providers)
        self.model_text = model if isinstance(model, str | Path) else getattr(model, "spec", type(model).__name__)
        self.model = model
        self.weights, self.allow_pickle = weights, allow_pickle
        self.seconds["load_onnx"] = time.perf_counter() - start

    def run(self, strategy: str, max_memory: int) -> LayersReport:
        """Trace and map once, then compare everything in one run, or bisect when values exceed ``max_memory``."""
        from pt2trt.backends.torch import TorchRunner
        from pt2trt.debug.report import LayersReport, UnmatchedLayer

        start = time.perf_counter()
        runner = TorchRunner(
            self.model,
            self.specs,
            output_names=self.index.outputs,
            weights=self.weights,
            allow_pickle=self.allow_pickle,
        )
        with runner:
            assert runner.module is not None
            self.module = runner.module
            self.forward = lambda: runner.infer({k: v.copy() for k, v in self.feed.items()})
            self.seconds["torch_load"] = time.perf_counter() - start
            start = time.perf_counter()
            first = self._trace(
                record=lambda key: strategy != "bisect", max_bytes=None if strategy == "all" else max_memory
            )
            self.seconds["torch"] = time.perf_counter() - start
            self._map(first.calls)
            if strategy == "bisect" or first.stopped_recording:
                del first
                used, (origin, note) = "bisection", self._bisect(max_memory)
            else:
                used, (origin, note) = "all-at-once", self._all_at_once(first)
        calls, comparer = self.calls, self.comparer
        unmatched = [
            UnmatchedLayer(calls[i].name, calls[i].label, calls[i].cls, reason)
            for i, reason in sorted({**self.mapping.unmapped, **comparer.unpaired}.items())
        ]
        return LayersReport(
            reference=str(self.model_text),
            candidate=str(self.onnx_path),
            comparison="pytorch-vs-onnxruntime",
            strategy=used,
            inputs=self.specs,
            rtol=self.rtol,
            atol=self.atol,
            layers=sorted(comparer.results.values(), key=lambda r: r.order),
            unmatched=unmatched,
            origin=origin,
            origin_note=note,
            exporter=self.exporter,
            seconds=self.seconds,
            onnx_path=self.onnx_path,
        )

    def _trace(self, **recording: Any) -> Trace:
        from pt2trt.debug.hooks import CallRecorder

        return CallRecorder(self.module, **recording).run(self.forward, [str(s.name) for s in self.specs])

    def _map(self, calls: list[ModuleCall]) -> None:
        from pt2trt.debug.comparer import CallComparer
        from pt2trt.debug.mapping import map_calls
        from pt2trt.onnx.scopes import node_scopes

        if len(calls) < 2:
            raise Pt2trtError(
                f"{self.model_text} calls no submodules that hooks can see",
                "TorchScript and ExportedProgram models run as one graph; point MODEL at the Python nn.Module",
            )
        module_names = {name for name, _ in self.module.named_modules()}
        self.calls = calls
        self.mapping = map_calls(self.index, node_scopes(self.proto, self.exporter, module_names), calls)
        if len(self.mapping.mapped) < 2:
            raise Pt2trtError(
                f"no node of {self.onnx_path} maps to a submodule of {self.model_text}",
                "Check that the ONNX file was exported from this model",
            )
        self.comparer = CallComparer(calls, self.mapping, self.index, self.rtol, self.atol)

    def _all_at_once(self, trace: Trace) -> tuple[LayerResult | None, str]:
        from pt2trt.debug.report import choose_origin

        order = self.comparer.order
        start = time.perf_counter()
        values = self._run_onnx(self.comparer.tensors_for(order, with_inputs=True))
        self.seconds["onnxruntime"] = time.perf_counter() - start
        start = time.perf_counter()
        self.comparer.evaluate(order, trace, values, self.feed)
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
        comparer.evaluate(wanted, trace, values, self.feed)
        for key, seconds in (("torch", t1 - start), ("onnxruntime", t2 - t1), ("compare", time.perf_counter() - t2)):
            self.seconds[key] = self.seconds.get(key, 0.0) + seconds

    def _run_onnx(self, names: set[str]) -> dict[str, np.ndarray]:
        from pt2trt.debug.expose import run_exposed

        return run_exposed(self.proto, sorted(names), self.feed, self.factory, self.source)


def resolve_feed(
    proto: object,
    inputs: Sequence[InputSpec] | None,
    *,
    data: Sequence[str | Path] | None,
    feed: Feed | None,
    batch: int | None,
    seed: int,
) -> tuple[list[InputSpec], Feed]:
    """Input specs and arrays, as ``verify`` chooses them: given arrays, data files, or seeded random values."""
    from pt2trt.feeds import load_feed, random_feed, specs_from_feed
    from pt2trt.verification.pytorch import onnx_input_specs, resolve_verify_inputs

    graph_names = [str(s.name) for s in onnx_input_specs(proto)]  # type: ignore[arg-type]
    if feed is None and data:
        feed = load_feed(data, graph_names)
    if feed is not None:
        specs = specs_from_feed(feed)
        specs.sort(key=lambda s: graph_names.index(str(s.name)) if s.name in graph_names else len(graph_names))
        return specs, dict(feed)
    specs = resolve_verify_inputs(proto, inputs, batch)  # type: ignore[arg-type]
    return specs, random_feed(specs, seed)
