"""One input resolution for every comparison run: ``verify``, ``debug layers`` and the equivalence check.

* :func:`onnx_input_specs`: the graph's real inputs as :class:`InputSpec` (dynamic dims by name, size 0);
* :func:`resolve_verify_inputs`: the user's specs checked against the graph, else those recorded at export, else
  the graph's static shapes (``verify`` and ``debug layers``);
* :func:`example_specs`: the same, but recorded shapes only where they still fit the graph and a dynamic batch axis
  at 1 (the equivalence check of ``simplify``/``edit``, whose graph may have changed since export);
* :func:`resolve_run_inputs`: specs and arrays of a :class:`RunInputs`: ready arrays, data files or seeded random
  values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pt2trt.errors import UsageError
from pt2trt.feeds import Feed, load_feed, random_feed, specs_from_feed
from pt2trt.onnx.model import OnnxModel
from pt2trt.settings import RunInputs
from pt2trt.shapes import InputSpec, with_batch

if TYPE_CHECKING:
    import onnx


def _unresolved(spec: InputSpec) -> UsageError:
    return UsageError(
        f"input '{spec.name}' has dynamic shape {spec.display_shape} and no recorded example shape",
        f"Pass --input {spec.name}:SHAPE with concrete sizes",
    )


def resolve_verify_inputs(
    model: OnnxModel | onnx.ModelProto, inputs: Sequence[InputSpec] | None, batch: int | None
) -> list[InputSpec]:
    """The input specs to verify with: the user's, else those recorded at export, else the graph's static shapes."""
    handle = OnnxModel.of(model)
    graph_specs = handle.input_specs
    graph_names = [str(s.name) for s in graph_specs]
    if inputs:
        if len(inputs) != len(graph_specs):
            raise UsageError(
                f"{len(inputs)} --input given but the ONNX model has {len(graph_specs)} inputs "
                f"({', '.join(graph_names)})",
                "Pass one --input per model input, as NAME=FILE.npy",
            )
        specs = [s if s.name else s.with_name(g) for s, g in zip(inputs, graph_names)]
        unknown = [str(s.name) for s in specs if s.name not in graph_names]
        if unknown:
            raise UsageError(
                f"input(s) {', '.join(unknown)} are not in the ONNX model", f"Its inputs are: {', '.join(graph_names)}"
            )
        specs = [s if s.dynamic else _dynamic_from_graph(s, graph_specs) for s in specs]
    else:
        specs = handle.recorded_inputs or graph_specs
        unresolved = [s for s in specs if 0 in s.shape]
        if unresolved and batch is not None:
            specs = [s.with_dim(0, batch) if s.shape and s.shape[0] == 0 else s for s in specs]
            unresolved = [s for s in specs if 0 in s.shape]
        if unresolved:
            raise _unresolved(unresolved[0])
    return with_batch(specs, batch) if batch is not None else specs


def _dynamic_from_graph(spec: InputSpec, graph_specs: Sequence[InputSpec]) -> InputSpec:
    graph = next(g for g in graph_specs if g.name == spec.name)
    return InputSpec(spec.name, spec.shape, spec.dtype, graph.dynamic)


def example_specs(model: OnnxModel | onnx.ModelProto, inputs: Sequence[InputSpec] | None = None) -> list[InputSpec]:
    """Concrete input specs for ``model``: ``inputs`` if given, else the recorded ones where they fit, else the graph's.

    Dynamic axes keep their names in ``InputSpec.dynamic``; a dynamic batch axis without an example size becomes 1.
    Other dynamic axes need an example (``--input NAME:SHAPE``).
    """
    handle = OnnxModel.of(model)
    if inputs:
        return resolve_verify_inputs(handle, inputs, None)
    recorded = {s.name: s for s in handle.recorded_inputs or []}
    specs = []
    for g in handle.input_specs:
        r = recorded.get(g.name)
        fits = (
            r is not None
            and r.dtype == g.dtype
            and len(r.shape) == len(g.shape)
            and all(gd in (0, rd) for gd, rd in zip(g.shape, r.shape))
        )
        shape = list(r.shape if fits and r is not None else g.shape)
        for axis in g.dynamic:
            if shape[axis] == 0 and axis == 0:
                shape[axis] = 1
        if 0 in shape:
            raise _unresolved(g)
        specs.append(InputSpec(g.name, tuple(shape), g.dtype, g.dynamic))
    return specs


def resolve_run_inputs(model: OnnxModel | onnx.ModelProto, inputs: RunInputs) -> tuple[list[InputSpec], Feed]:
    """Input specs and arrays, as ``verify`` chooses them: given arrays, data files, or seeded random values."""
    handle = OnnxModel.of(model)
    graph_names = [str(s.name) for s in handle.input_specs]
    feed = dict(inputs.feed) if inputs.feed is not None else None
    if feed is None and inputs.data:
        feed = load_feed(inputs.data, graph_names)
    if feed is not None:
        specs = specs_from_feed(feed)
        specs.sort(key=lambda s: graph_names.index(str(s.name)) if s.name in graph_names else len(graph_names))
        return specs, feed
    specs = resolve_verify_inputs(handle, inputs.spec_list, inputs.batch)
    return specs, random_feed(specs, inputs.seed)
