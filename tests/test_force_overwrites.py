"""``--force`` writes over a command's own earlier output (publishing refuses to replace a file unless asked: each
command must pass its --force through), and without it the second run is refused with one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    import onnx

    folder = tmp_path_factory.mktemp("force")
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], np.linspace(-1, 1, 108, dtype=np.float32))
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["input", "w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("GlobalAveragePool", ["c"], ["g"]),
            helper.make_node("Flatten", ["g"], ["output"]),
        ],
        "force",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 4])],
        [weight],
    )
    path = folder / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["quantize", "{m}", "-o", "{out}/q.onnx", "--precision", "fp16"],
        ["export-openvino", "{m}", "-o", "{out}/ir"],
        ["simplify", "{m}", "-o", "{out}/s.onnx"],
        ["edit", "{m}", "--rename-input", "input=x", "-o", "{out}/e.onnx"],
        ["view", "{m}", "--svg", "{out}/g.svg"],
        ["triton", "{m}", "-o", "{out}/repo"],
        ["convert", "pt2trt.models:SeedNet", "-i", "input:1x3x28x28", "-o", "{out}/c", "--bench-duration", "0.1"],
    ],
    ids=lambda a: a[0],
)
def test_force_writes_over_the_last_run(model: Path, tmp_path: Path, args: list[str]) -> None:
    argv = [a.format(m=model, out=tmp_path) for a in args]
    first = run_cli(*argv)
    assert first.returncode == 0, first.stderr
    again = run_cli(*argv)
    assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert "--force" in again.stderr
    forced = run_cli(*argv, "--force")
    assert forced.returncode == 0, forced.stderr
