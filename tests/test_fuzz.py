"""Seeded mutations of small ONNX files through check, inspect (and its JSON), the TensorRT lint, simplify and predict,
via the Python API: every failure must be a :class:`Pt2trtError` (one line for the CLI), never another exception.

The mutations are of two kinds: bytes of the serialized file flipped, cut or inserted (the parser's side), and
fields of a valid model set to values a broken exporter or a hand-edited file could hold (the reader's side):
unknown element types, huge, zero or negative dims, absurd opsets and IR versions, garbage ``pt2trt.*`` metadata,
unknown ops, broken attributes, dangling inputs.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from pt2trt.errors import Pt2trtError
from pt2trt.settings import PredictSettings, TaskSettings

pytestmark = pytest.mark.slow

MUTANTS = int(__import__("os").environ.get("PT2TRT_FUZZ", "1200"))


def _base_classifier() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], rng.normal(size=108).astype(np.float32))
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Softmax", ["f"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "fuzz",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 4])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    helper.set_model_props(
        model,
        {
            "pt2trt.inputs": json.dumps([{"name": "input", "shape": [1, 3, 16, 16], "dtype": "float32"}]),
            "pt2trt.preprocessing": json.dumps({"size": [16, 16], "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}),
        },
    )
    return model


def _base_resize() -> onnx.ModelProto:
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 2, 2])
    nodes = [
        helper.make_node("Resize", ["input", "", "scales"], ["up"], mode="linear", name="resize"),
        helper.make_node("ReduceMean", ["up"], ["out"], axes=[2, 3], keepdims=0, name="mean"),
    ]
    graph = helper.make_graph(
        nodes,
        "fuzz2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3])],
        [scales],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


_ODD_INTS = [-(2**62), -7, -1, 0, 1, 3, 2**31, 2**40, 2**62]
_ODD_TEXT = ["", "{", "[]", "null", "[1, 2]", '[{"name": 3}]', '{"size": "big"}', '[{"shape": [-1e30]}]', "\udcff"]


def _mutate_fields(model: onnx.ModelProto, rng: random.Random) -> None:
    """Set one or two fields of ``model`` to a value a broken exporter could write."""
    graph = model.graph
    for _ in range(rng.randint(1, 2)):
        kind = rng.randrange(10)
        values = [*graph.input, *graph.output, *graph.value_info]
        if kind == 0 and values:
            rng.choice(values).type.tensor_type.elem_type = rng.choice([-3, 0, 17, 25, 99, 2**20])
        elif kind == 1 and values:
            dims = rng.choice(values).type.tensor_type.shape.dim
            if dims:
                dim = rng.choice(dims)
                if rng.random() < 0.8:
                    dim.dim_value = rng.choice(_ODD_INTS[1:-1])
                else:
                    dim.dim_param = rng.choice(["", "s56 - 5", "N*2", "\x00"])
        elif kind == 2:
            model.opset_import[0].version = rng.choice([-1, 0, 1, 7, 99, 10**6])
        elif kind == 3:
            model.ir_version = rng.choice([-3, 0, 1, 14, 99])
        elif kind == 4:
            key = rng.choice(["pt2trt.inputs", "pt2trt.preprocessing", "pt2trt.exporter", "pt2trt.task"])
            kept = [(e.key, e.value) for e in model.metadata_props if e.key != key]
            value = rng.choice(_ODD_TEXT).encode("utf-8", "surrogatepass").decode("latin-1")
            helper.set_model_props(model, {**dict(kept), key: value})
        elif kind == 5 and graph.node:
            rng.choice(graph.node).op_type = rng.choice(["Unknown", "", "Loop", "NonMaxSuppression", "ConvInteger"])
        elif kind == 6 and graph.node:
            node = rng.choice(graph.node)
            node.attribute.append(
                helper.make_attribute(
                    rng.choice(["axis", "mode", "pads", "axes"]), rng.choice([99, -99, "cubic", [2**40, -1], 1.5])
                )
            )
        elif kind == 7 and graph.node:
            node = rng.choice(graph.node)
            if node.input:
                node.input[rng.randrange(len(node.input))] = rng.choice(["missing", "", "input"])
        elif kind == 8 and graph.initializer:
            tensor = rng.choice(graph.initializer)
            if rng.random() < 0.5:
                tensor.data_type = rng.choice([0, 8, 99])
            else:
                tensor.dims[:] = [rng.choice([2**40, -2, 0])]
        elif kind == 9:
            graph.name = rng.choice(["", "\x00", "g" * 10_000])


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(3)
        pos = rng.randrange(len(buf)) if buf else 0
        if op == 0 and buf:
            buf[pos] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif buf:
            del buf[pos : pos + rng.randint(1, 16)]
    return bytes(buf)


def _mutants(count: int) -> list[tuple[str, bytes]]:
    rng = random.Random(20261201)
    bases = [_base_classifier(), _base_resize()]
    out = []
    for i in range(count):
        base = bases[i % len(bases)]
        if rng.random() < 0.4:
            out.append((f"bytes-{i}", _mutate_bytes(base.SerializeToString(), rng)))
        else:
            model = onnx.ModelProto()
            model.CopyFrom(base)
            _mutate_fields(model, rng)
            out.append((f"fields-{i}", model.SerializeToString()))
    return out


def _operations(path: Path, tmp: Path, image: Path, index: int) -> list[tuple[str, Any]]:
    import pt2trt
    from pt2trt.backends.tensorrt.lint import trt_compatibility
    from pt2trt.cli.options import print_json

    def inspect_json() -> None:
        with redirect_stdout(io.StringIO()):
            print_json(pt2trt.inspect_model(path, nodes=True).to_dict())

    ops: list[tuple[str, Any]] = [
        ("check", lambda: pt2trt.check(path).to_dict()),
        ("inspect --json", inspect_json),
        ("lint", lambda: trt_compatibility(path, "10").to_dict()),
    ]
    if index % 4 == 0:
        ops.append(
            ("predict", lambda: pt2trt.predict(path, [image], PredictSettings(task=TaskSettings(task="classify"))))
        )
    if index % 12 == 0:
        ops.append(("simplify", lambda: pt2trt.simplify(path, tmp / f"s{index}.onnx", force=True)))
    return ops


def test_mutated_onnx_files_fail_only_with_user_errors(tmp_path: Path) -> None:
    from PIL import Image

    image = tmp_path / "image.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(image)
    escapes: dict[str, list[str]] = {}
    outcomes: Counter[str] = Counter()
    for index, (name, data) in enumerate(_mutants(MUTANTS)):
        path = tmp_path / "mutant.onnx"
        path.write_bytes(data)
        for op, call in _operations(path, tmp_path, image, index):
            try:
                call()
                outcomes["ok"] += 1
                outcomes[f"{op} ok"] += 1
            except Pt2trtError:
                outcomes["user error"] += 1
                outcomes[f"{op} user error"] += 1
            except Exception as exc:  # the defect this test looks for
                key = f"{op}: {type(exc).__name__}"
                escapes.setdefault(key, []).append(f"{name}: {str(exc)[:160]}")
    assert outcomes["user error"] > MUTANTS // 2, outcomes  # the mutations do reach the checks
    assert outcomes["ok"] > 100, outcomes  # and some mutants are still valid models
    print(outcomes)
    assert not escapes, "\n".join(f"{k} ({len(v)}x), e.g. {v[0]}" for k, v in escapes.items())
