"""Prove that ONNX Runtime reproduces PyTorch: same inputs, every output compared with error statistics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.backends.base import Runner
from pt2trt.backends.tensorrt import is_engine_file
from pt2trt.compare.tensors import Comparison, compare_outputs
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed, load_feed, random_feed, specs_from_feed
from pt2trt.onnx import metadata as meta
from pt2trt.onnx.dtypes import dtype_name
from pt2trt.onnx.load import load_onnx
from pt2trt.shapes import InputSpec, with_batch

if TYPE_CHECKING:
    import onnx
    import torch

    from pt2trt.compare.tasks import TaskComparison
    from pt2trt.pytorch.sources import LoadedModel


@dataclass
class VerifyResult:
    """The comparison of one PyTorch run with one ONNX Runtime run on the same inputs."""

    model: str
    onnx_path: Path
    inputs: list[InputSpec]
    comparison: Comparison
    seconds: dict[str, float] = field(default_factory=dict)
    task_comparison: TaskComparison | None = None  # with task=...: it decides the verdict
    backend: str = "onnxruntime"  # the runtime of the model under test

    @property
    def passed(self) -> bool:
        return self.task_comparison.passed if self.task_comparison is not None else self.comparison.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "backend": self.backend,
            "onnx": str(self.onnx_path),
            "inputs": [s.to_dict() for s in self.inputs],
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            **self.comparison.to_dict(),
            **({"passed": self.passed, "task": self.task_comparison.to_dict()} if self.task_comparison else {}),
        }


def onnx_input_specs(model: onnx.ModelProto) -> list[InputSpec]:
    """Specs for the graph's real inputs (initializers excluded); dynamic dims recorded by name with size 0."""

    initializers = {i.name for i in model.graph.initializer}
    specs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        ttype = value.type.tensor_type
        dims, dynamic = [], {}
        for axis, d in enumerate(ttype.shape.dim):
            dims.append(d.dim_value if d.HasField("dim_value") else 0)
            if not d.HasField("dim_value"):
                dynamic[axis] = d.dim_param or f"dim{axis}"
        dtype = dtype_name(ttype.elem_type) if ttype.elem_type else "float32"
        specs.append(InputSpec(value.name, tuple(dims), dtype, dynamic))
    return specs


def resolve_verify_inputs(
    model: onnx.ModelProto, inputs: Sequence[InputSpec] | None, batch: int | None
) -> list[InputSpec]:
    """The input specs to verify with: the user's, else those recorded at export, else the graph's static shapes."""
    graph_specs = onnx_input_specs(model)
    graph_names = [str(s.name) for s in graph_specs]
    if inputs:
        if len(inputs) != len(graph_specs):
            raise UsageError(
                f"{len(inputs)} --input given but the ONNX model has {len(graph_specs)} inputs "
                f"({', '.join(graph_names)})"
            )
        specs = [s if s.name else s.with_name(g) for s, g in zip(inputs, graph_names)]
        unknown = [str(s.name) for s in specs if s.name not in graph_names]
        if unknown:
            raise UsageError(
                f"input(s) {', '.join(unknown)} are not in the ONNX model", f"Its inputs are: {', '.join(graph_names)}"
            )
        specs = [s if s.dynamic else _dynamic_from_graph(s, graph_specs) for s in specs]
    else:
        specs = meta.recorded_inputs(meta.read_metadata(model)) or graph_specs
        unresolved = [s for s in specs if 0 in s.shape]
        if unresolved and batch is not None:
            specs = [s.with_dim(0, batch) if s.shape and s.shape[0] == 0 else s for s in specs]
            unresolved = [s for s in specs if 0 in s.shape]
        if unresolved:
            s = unresolved[0]
            raise UsageError(
                f"input '{s.name}' has dynamic shape {s.display_shape} and no recorded example shape",
                f"Pass --input {s.name}:SHAPE with concrete sizes",
            )
    return with_batch(specs, batch) if batch is not None else specs


def _dynamic_from_graph(spec: InputSpec, graph_specs: Sequence[InputSpec]) -> InputSpec:
    graph = next(g for g in graph_specs if g.name == spec.name)
    return InputSpec(spec.name, spec.shape, spec.dtype, graph.dynamic)


def _source_onnx(path: Path) -> Path:
    """The ONNX describing the model under test: ``path`` itself, or for an engine the ONNX it was built from."""
    if not is_engine_file(path):
        return path
    from pt2trt.files import existing_file
    from pt2trt.tensorrt.metadata import read_metadata, sidecar_path

    metadata = read_metadata(existing_file(path, "engine file"))
    recorded = Path(metadata.onnx_path) if metadata else None
    for candidate in [recorded, path.parent / recorded.name] if recorded else []:
        if candidate.is_file():
            return candidate
    raise Pt2trtError(
        f"verifying {path} needs the ONNX it was built from, named in its metadata {sidecar_path(path).name}",
        "Keep the engine's .json metadata and its ONNX (pt2trt build records both), or verify the ONNX itself",
    )


def verify(
    model: str | torch.nn.Module | LoadedModel,
    onnx_path: str | Path,
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
    task: str | None = None,
) -> VerifyResult:
    """Run ``model`` in PyTorch and ``onnx_path`` in ONNX Runtime on the same inputs and compare every output.

    ``onnx_path`` may also be a TensorRT engine (``.engine``/``.plan``/``.trt``) built by ``pt2trt build``: it runs
    with the TensorRT runner, its inputs described by the ONNX recorded in its metadata.

    Inputs default to the shapes recorded at export (seeded random values); ``batch`` re-sizes dynamic batch
    axes; ``data`` takes ``.npy``/``.npz`` files and ``feed`` ready arrays instead of random values.
    ``task`` (classify, detect, segment) also compares the decoded results (top-k, matched boxes, masks) with
    :mod:`pt2trt.compare.tasks`, and that comparison decides ``passed``.
    """
    from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
    from pt2trt.backends.torch import TorchRunner

    path = Path(onnx_path)
    proto = load_onnx(_source_onnx(path), load_external_data=False)
    graph_names = [str(s.name) for s in onnx_input_specs(proto)]
    if feed is None and data:
        feed = load_feed(data, graph_names)
    if feed is not None:
        specs = specs_from_feed(feed)
        specs.sort(key=lambda s: graph_names.index(str(s.name)) if s.name in graph_names else len(graph_names))
    else:
        specs = resolve_verify_inputs(proto, inputs, batch)
        feed = random_feed(specs, seed)
    output_names = [o.name for o in proto.graph.output]
    spec_text = model if isinstance(model, str) else getattr(model, "spec", type(model).__name__)
    del proto

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with TorchRunner(
        model, specs, output_names=output_names, weights=weights, allow_pickle=allow_pickle
    ) as torch_runner:
        seconds["torch_load"] = time.perf_counter() - start
        reference = torch_runner.infer(feed)
        seconds["torch"] = torch_runner.last_inference_seconds or 0.0
    start = time.perf_counter()
    if is_engine_file(path):  # an engine is the model under test: run it with TensorRT instead of ONNX Runtime
        from pt2trt.backends.tensorrt import TensorRTRunner

        candidate_runner: Runner = TensorRTRunner(path)
    else:
        candidate_runner = OnnxRuntimeRunner(path, providers=providers)
    backend = candidate_runner.backend
    with candidate_runner as runner:
        seconds[f"{backend}_load"] = time.perf_counter() - start
        try:
            candidate = runner.infer(feed)
        except Pt2trtError as exc:
            raise Pt2trtError(f"{exc.message} (inputs {', '.join(map(str, specs))})", exc.hint) from exc
        seconds[backend] = runner.last_inference_seconds or 0.0
    comparison = compare_outputs(reference, candidate, rtol=rtol, atol=atol)
    task_comparison = None
    if task is not None:
        from pt2trt.compare.tasks import compare_task_outputs

        task_comparison = compare_task_outputs(task, reference, candidate, specs[0].shape)
    return VerifyResult(str(spec_text), path, specs, comparison, seconds, task_comparison, backend)
