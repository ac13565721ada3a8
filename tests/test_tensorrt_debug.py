"""``debug layers MODEL.onnx --backend tensorrt`` by bisection with a bounded number of marked tensors per run.

TensorRT is not here: the candidate side is ONNX Runtime on a copy whose block-3 convolution weights are off by 5 %,
the kind of error a wrong TensorRT kernel makes. The stand-in counts the tensors each run marks and says which
tensors "the production engine" materialises, as the inspection of a real engine would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
from pt2trt.debug import debug_layers
from pt2trt.settings import LayerSearch

BLOCKS = 6
BROKEN = 3  # block whose convolution the candidate computes wrongly


def chain_model(path: Path) -> Path:
    """x -> 6 x (Conv 3x3 -> Relu), a residual Add around blocks 2-3; legacy-exporter node names (/blockN/...)."""
    rng = np.random.default_rng(0)
    nodes, inits, prev = [], [], "x"
    for b in range(BLOCKS):
        w = (rng.standard_normal((4, 4, 3, 3)) * 0.2).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{b}"))
        nodes.append(helper.make_node("Conv", [prev, f"w{b}"], [f"c{b}"], name=f"/block{b}/conv/Conv", pads=[1] * 4))
        out = f"r{b}"
        nodes.append(helper.make_node("Relu", [f"c{b}"], [out], name=f"/block{b}/act/Relu"))
        if b == 3:
            nodes.append(helper.make_node("Add", [out, "r1"], ["sum"], name="/block3/Add"))
            out = "sum"
        prev = out
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 4, 8, 8])],
        inits,
    )
    model = helper.make_model(graph, ir_version=8, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


class WrongKernel:
    """A RunnerFactory: ONNX Runtime on the marked copy, with block BROKEN's weights scaled by 1.05."""

    def __init__(self, outputs: int, engine_tensors: set[str]) -> None:
        self.outputs = outputs
        self.marked: list[int] = []
        self.engine_tensors = engine_tensors

    def __call__(self, model: bytes | Path) -> OnnxRuntimeRunner:
        proto = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(str(model))
        self.marked.append(len(proto.graph.output) - self.outputs)
        for init in proto.graph.initializer:
            if init.name == f"w{BROKEN}":
                init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 1.05, init.name))
        return OnnxRuntimeRunner(proto.SerializeToString())


def test_bisection_finds_the_wrong_kernel_with_bounded_marks(tmp_path) -> None:
    path = chain_model(tmp_path / "chain.onnx")
    every = {t for n in onnx.load(str(path)).graph.node for t in n.output}
    factory = WrongKernel(outputs=1, engine_tensors=every - {f"c{BROKEN}", "c4"})  # conv+relu fused there
    report = debug_layers(str(path), search=LayerSearch(backend="tensorrt", max_marked=2, candidate_factory=factory))
    assert report.strategy == "bisection" and report.diverged
    assert report.origin is not None and report.origin.label == f"/block{BROKEN}/conv/Conv"
    assert report.origin_name == f"block{BROKEN}.conv"
    assert max(factory.marked) <= 2 and factory.marked[0] == 0  # the first run is the production engine
    assert len(factory.marked) < 2 * BLOCKS + 1 and 0 not in factory.marked[1:]  # fewer runs than nodes, none wasted
    assert f"c{BROKEN}" in report.fused_away and "c4" not in report.fused_away  # c4 is outside the segment
    assert "runs, at most 2 tensors marked per run" in report.origin_note


def test_no_divergence_takes_one_run(tmp_path) -> None:
    path = chain_model(tmp_path / "chain.onnx")

    def same(model: bytes | Path) -> OnnxRuntimeRunner:
        calls.append(1)
        return OnnxRuntimeRunner(model)

    calls: list[int] = []
    report = debug_layers(str(path), search=LayerSearch(backend="tensorrt", candidate_factory=same))
    assert not report.diverged and calls == [1] and report.fused_away == []
