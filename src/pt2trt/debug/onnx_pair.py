"""Layer by layer between two ONNX models (ONNX Runtime on both), or one ONNX model on ONNX Runtime vs TensorRT.

Typical pairs: a model before and after ``simplify``, FP32 vs FP16-converted. Intermediate tensors are matched by
name; when fewer than half of them match (a tool renamed them), the remaining ones are matched by node topology:
the two graphs' sequences of op types are aligned and aligned nodes' outputs are paired. Pairs whose shapes turn
out to differ are dropped, not compared. Each layer is one node of the reference; the origin is the first node
out of tolerance whose inputs were within tolerance, named by the module its scope records when it has one.

For TensorRT the search bisects (:mod:`pt2trt.debug.marked`): each engine marks at most ``max_marked`` tensors as
network outputs (marking keeps TensorRT from fusing them away, so every extra mark makes the engine less like the
production one), and the report lists the tensors the production engine fused away.
"""

from __future__ import annotations

import difflib
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt.backends.base import Runner
from pt2trt.debug.expose import RunnerFactory, is_onnx_file, load_model_file, onnxruntime_factory, run_exposed
from pt2trt.debug.graph import GraphIndex
from pt2trt.debug.report import DIVERGED, OK, UNKNOWN, LayerResult, LayersReport, UnmatchedLayer, choose_origin
from pt2trt.debug.tolerance import compare_layer
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed
from pt2trt.onnx.inputs import resolve_run_inputs
from pt2trt.onnx.scopes import exporter_of, node_scopes
from pt2trt.settings import RunInputs, Tolerance
from pt2trt.shapes import InputSpec

_NAME_MATCH_ENOUGH = 0.5


def debug_onnx_layers(
    reference: str | Path,
    candidate: str | Path | None,
    inputs: RunInputs,
    tolerance: Tolerance,
    *,
    backend: str,
    max_marked: int = 8,
    candidate_factory: RunnerFactory | None = None,
) -> LayersReport:
    """Compare ``reference`` with ``candidate`` (ONNX Runtime) or with itself on TensorRT (``backend``).

    ``candidate_factory``: how to run the candidate side of ``backend="tensorrt"`` (default: build an engine from
    each marked copy); tests pass a stand-in.
    """
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    rtol, atol, providers = tolerance.rtol, tolerance.atol, inputs.provider_list
    ref_path = Path(reference)
    ref, ref_source = load_model_file(ref_path)
    specs, feed = resolve_run_inputs(ref, inputs)
    if backend == "tensorrt":
        if candidate is not None and Path(candidate).resolve() != ref_path.resolve():
            raise UsageError("--backend tensorrt compares one ONNX file on two runtimes", "Give only MODEL.onnx")
        report = _report(ref_path, f"{ref_path} (TensorRT)", "onnxruntime-vs-tensorrt", specs, rtol, atol)
        if candidate_factory is None:
            report.skipped = tensorrt_skip_reason()
            if report.skipped:
                return report
        return _bisect_marked(
            report, ref, ref_source, feed, providers, candidate_factory, max_marked, rtol, atol, seconds, start
        )
    else:
        if candidate is None:
            raise UsageError(
                "one ONNX file given: nothing to compare it with",
                "Give a second ONNX file, a PyTorch MODEL before it, or --backend tensorrt",
            )
        if not is_onnx_file(candidate):
            raise UsageError(f"{candidate} is not an .onnx file", "Compare an ONNX file with another ONNX file")
        cand, cand_source = load_model_file(candidate)
        report = _report(ref_path, str(candidate), "onnxruntime-vs-onnxruntime", specs, rtol, atol)
        cand_factory = onnxruntime_factory(providers)
    a, b = GraphIndex.build(ref), GraphIndex.build(cand)
    if sorted(a.inputs) != sorted(b.inputs):
        raise Pt2trtError(
            f"the models take different inputs ({', '.join(a.inputs)} vs {', '.join(b.inputs)})",
            "Compare two versions of the same model",
        )
    pairs = match_tensors(a, b)
    seconds["load"] = time.perf_counter() - start

    start = time.perf_counter()
    ref_values = run_exposed(ref, [p[0] for p in pairs], feed, onnxruntime_factory(providers), ref_source)
    seconds["reference"] = time.perf_counter() - start
    start = time.perf_counter()
    cand_values = run_exposed(cand, [p[1] for p in pairs], _cast_feed(feed, b), cand_factory, cand_source)
    seconds["candidate"] = time.perf_counter() - start

    start = time.perf_counter()
    exporter = exporter_of(ref)
    scopes = node_scopes(ref, exporter, None)
    by_node: dict[int, list[tuple[str, str, str]]] = {}
    for pair in pairs:
        by_node.setdefault(a.producer[pair[0]], []).append(pair)
    compared: dict[str, bool] = {}
    for node_index in sorted(by_node):
        node = ref.graph.node[node_index]
        tensors, names = [], []
        for ref_name, cand_name, how in by_node[node_index]:
            x, y = ref_values.get(ref_name), cand_values.get(cand_name)
            if x is None or y is None or np.shape(x) != np.shape(y):
                continue
            label = ref_name if ref_name == cand_name else f"{ref_name} ~ {cand_name} ({how})"
            result = compare_layer(label, x, y, rtol=rtol, atol=atol)
            tensors.append(result)
            names.append(ref_name)
            compared[ref_name] = result.passed
        if not tensors:
            continue
        scope = scopes[node_index]
        report.layers.append(
            LayerResult(
                name=a.node_label(node_index),
                label=a.node_label(node_index),
                cls=node.op_type,
                order=node_index,
                onnx_nodes=[a.node_label(node_index)],
                onnx_tensors=names,
                tensors=tensors,
                module=scope[-1][0] if scope else None,
            )
        )
    del ref_values, cand_values
    statuses = _InputStatus(a, compared)
    for layer in report.layers:
        layer.inputs_status = statuses.of_node(layer.order)
    done = {layer.order for layer in report.layers}
    report.unmatched = [
        UnmatchedLayer(a.node_label(i), a.node_label(i), n.op_type, "no tensor of the other model matches its outputs")
        for i, n in enumerate(ref.graph.node)
        if i not in done and n.op_type != "Constant" and not all(o in a.constants for o in n.output)
    ]
    report.origin, report.origin_note = choose_origin(report.layers)
    report.exporter = exporter
    seconds["compare"] = time.perf_counter() - start
    report.seconds = seconds
    return report


def _bisect_marked(
    report: LayersReport,
    model: object,
    source: Path | None,
    feed: Feed,
    providers: Sequence[str] | None,
    candidate_factory: RunnerFactory | None,
    max_marked: int,
    rtol: float,
    atol: float,
    seconds: dict[str, float],
    start: float,
) -> LayersReport:
    """ONNX Runtime vs TensorRT (or ``candidate_factory``), bisecting with at most ``max_marked`` marks per run."""
    from pt2trt.debug.marked import MarkedBisection, fused_away

    if max_marked < 1:
        raise UsageError(f"max_marked must be at least 1, got {max_marked}", "Pass --max-marked 1 or more")
    engines: list[set[str] | None] = []
    factory = candidate_factory or tensorrt_factory(engines.append)
    index = GraphIndex.build(model)  # type: ignore[arg-type]
    seconds["load"] = time.perf_counter() - start
    start = time.perf_counter()

    def probe(names: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        ref = run_exposed(model, names, feed, onnxruntime_factory(providers), source)  # type: ignore[arg-type]
        return ref, run_exposed(model, names, feed, factory, source)  # type: ignore[arg-type]

    search = MarkedBisection(index, probe, rtol, atol, max_marked)
    origin, segment, note = search.search()
    exporter = exporter_of(model)  # type: ignore[arg-type]
    scopes = node_scopes(model, exporter, None)  # type: ignore[arg-type]
    compared = {index.producer[t] for t in search.results if t in index.producer}
    report.layers = [search.layer(i, scopes[i][-1][0] if scopes[i] else None) for i in sorted(compared)]
    for layer in report.layers:
        layer.inputs_status = search.inputs_status(layer.order, -1 if not segment else min(segment) - 1)
    report.origin = next((la for la in report.layers if la.order == origin), None)
    runs = f"bisection: {search.runs} runs, at most {max_marked} tensors marked per run"
    report.origin_note = f"{note} ({runs})" if note else runs
    report.strategy = "bisection"
    report.exporter = exporter
    production = engines[0] if engines else getattr(candidate_factory, "engine_tensors", None)
    report.fused_away = fused_away([t for i in segment for t in search.outputs_of(i)], production)
    seconds["search"] = time.perf_counter() - start
    report.seconds = seconds
    return report


def _report(ref: Path, candidate: str, kind: str, specs: list[InputSpec], rtol: float, atol: float) -> LayersReport:
    return LayersReport(str(ref), candidate, kind, "all-at-once", specs, rtol, atol, onnx_path=ref)


def match_tensors(a: GraphIndex, b: GraphIndex) -> list[tuple[str, str, str]]:
    """(tensor in a, tensor in b, "name" | "topology") for the intermediate and output tensors of ``a``."""
    a_tensors = [t for n in a.model.graph.node for t in n.output if t and t not in a.constants]
    b_tensors = {t for n in b.model.graph.node for t in n.output if t and t not in b.constants}
    pairs = [(t, t, "name") for t in a_tensors if t in b_tensors]
    if a_tensors and len(pairs) >= _NAME_MATCH_ENOUGH * len(a_tensors):
        return pairs
    used_a, used_b = {p[0] for p in pairs}, {p[1] for p in pairs}
    a_nodes = [i for i, n in enumerate(a.model.graph.node) if n.op_type != "Constant"]
    b_nodes = [i for i, n in enumerate(b.model.graph.node) if n.op_type != "Constant"]
    matcher = difflib.SequenceMatcher(
        None,
        [a.model.graph.node[i].op_type for i in a_nodes],
        [b.model.graph.node[i].op_type for i in b_nodes],
        autojunk=False,
    )
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            na, nb = a.model.graph.node[a_nodes[block.a + k]], b.model.graph.node[b_nodes[block.b + k]]
            for ta, tb in zip(na.output, nb.output):
                if ta and tb and ta not in used_a and tb not in used_b:
                    pairs.append((ta, tb, "topology"))
                    used_a.add(ta)
                    used_b.add(tb)
    order = {t: i for i, t in enumerate(a_tensors)}
    return sorted(pairs, key=lambda p: order.get(p[0], len(order)))


class _InputStatus:
    """Whether a node's inputs were within tolerance, looking through unmatched tensors to the nearest compared."""

    def __init__(self, index: GraphIndex, compared: dict[str, bool]) -> None:
        self.index = index
        self.compared = compared
        self.memo: dict[str, str] = {}

    def of_node(self, i: int) -> str:
        statuses = [self.of_tensor(t) for t in self.index.model.graph.node[i].input if t]
        return DIVERGED if DIVERGED in statuses else UNKNOWN if UNKNOWN in statuses else OK

    def of_tensor(self, name: str) -> str:
        if name in self.compared:
            return OK if self.compared[name] else DIVERGED
        if name in self.index.constants or name in self.index.inputs:
            return OK
        if name not in self.memo:
            producer = self.index.producer.get(name)
            self.memo[name] = UNKNOWN  # cycle guard
            self.memo[name] = UNKNOWN if producer is None else self.of_node(producer)
        return self.memo[name]


def _cast_feed(feed: Feed, index: GraphIndex) -> Feed:
    """The feed in the candidate's input dtypes (an FP16-converted model may take float16 inputs)."""
    from onnx import helper

    types = {i.name: i.type.tensor_type.elem_type for i in index.model.graph.input}
    out = {}
    for name, value in feed.items():
        elem = types.get(name)
        wanted = helper.tensor_dtype_to_np_dtype(elem) if elem else value.dtype
        both_float = value.dtype.kind == "f" and np.dtype(wanted).kind == "f"
        out[name] = value.astype(wanted) if both_float and value.dtype != wanted else value
    return out


# -- TensorRT (needs a GPU; only the reason for skipping runs here) -------------------------------------------------
def tensorrt_skip_reason() -> str | None:
    """Why ONNX Runtime vs TensorRT cannot run here, or None when it can."""
    try:
        from pt2trt.backends.tensorrt.versions import cuda_gpus, installed_version
    except ImportError as exc:
        return f"pt2trt's TensorRT support cannot be imported ({exc})"
    if installed_version() is None:
        return 'TensorRT is not installed (pip install "pt2trt[tensorrt]" on a machine with an NVIDIA GPU)'
    if not cuda_gpus():
        return "no CUDA GPU found (the NVIDIA driver reports none, or is not installed)"
    return None


def tensorrt_factory(on_engine: Callable[[set[str] | None], None] | None = None) -> RunnerFactory:
    """Build an engine from the exposed copy (its extra outputs become network outputs) and run it.

    ``on_engine`` gets the tensor names each engine materialises (from its inspection; None when unknown).
    """

    def make(model: bytes | Path) -> Runner:
        try:
            from pt2trt.backends.tensorrt.build import build_engine
            from pt2trt.backends.tensorrt.plan import make_plan
            from pt2trt.backends.tensorrt.runner import TensorRTRunner
            from pt2trt.backends.tensorrt.versions import import_tensorrt
        except ImportError as exc:
            raise Pt2trtError(
                f"pt2trt's TensorRT backend cannot be imported ({exc})",
                'Install TensorRT (pip install "pt2trt[tensorrt]") on a GPU machine, or use --backend onnxruntime',
            ) from exc
        with tempfile.TemporaryDirectory(prefix="pt2trt-debug-trt-") as tmp:
            source = Path(tmp) / "exposed.onnx"
            if isinstance(model, bytes):
                source.write_bytes(model)
            else:
                source = model
            import_tensorrt()  # the install advice first, not a planning error
            result = build_engine(make_plan(source, Path(tmp) / "exposed.engine"), progress=False)  # FP32
            engine = result.engine.read_bytes()
        if on_engine is not None:
            on_engine(_engine_tensors(result.metadata.inspection))
        return TensorRTRunner(engine, check_metadata=False)

    return make


def _engine_tensors(inspection: dict[str, Any]) -> set[str] | None:
    from pt2trt.backends.tensorrt.inspect import parse_engine_information

    information = inspection.get("engine_information") if inspection else None
    return parse_engine_information(information).tensor_names() if information else None
