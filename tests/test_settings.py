"""The settings objects (Tolerance, RunInputs), the one graph-input reader and the shared input resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import pt2trt
from pt2trt.errors import UsageError
from pt2trt.onnx.graph import input_dims, onnx_input_specs, real_input_names, real_inputs
from pt2trt.onnx.inputs import example_specs, resolve_run_inputs
from pt2trt.settings import EQUIVALENCE, RunInputs, Tolerance
from pt2trt.shapes import parse_input


def _add_model(x_dims: list[int | str], *, weight_as_input: bool = True) -> onnx.ModelProto:
    """y = x + w, with ``w`` an initializer that is also listed among the graph inputs (legacy exporters do that)."""
    w = numpy_helper.from_array(np.ones(4, np.float32), "w")
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)]
    if weight_as_input:
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [4]))
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "add",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, x_dims)],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_real_inputs_leave_out_initializers_listed_as_inputs(tmp_path: Path) -> None:
    model = _add_model([2, 4])
    assert [v.name for v in model.graph.input] == ["x", "w"]
    assert [v.name for v in real_inputs(model)] == ["x"]
    assert real_input_names(model.graph) == ["x"]
    assert [s.name for s in onnx_input_specs(model)] == ["x"]
    onnx.save(model, tmp_path / "add.onnx")
    info = pt2trt.inspect_model(tmp_path / "add.onnx")
    assert [i.name for i in info.inputs] == ["x"] and info.initializers_as_inputs == ["w"]


def test_input_dims_treat_names_and_negative_sizes_as_dynamic() -> None:
    model = _add_model(["batch", 4])
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = -1  # PaddlePaddle's spelling of "dynamic"
    assert input_dims(model.graph.input[0]) == ["batch", None]
    (spec,) = onnx_input_specs(model)
    assert spec.shape == (0, 0) and spec.dynamic == {0: "batch", 1: "?"}  # one spelling of an unnamed dim


def test_tolerance_has_one_default_and_an_equivalence_preset() -> None:
    assert Tolerance() == Tolerance(rtol=1e-3, atol=1e-5, scaled=True)
    assert Tolerance(rtol=1e-3, atol=1e-4, scaled=False) == EQUIVALENCE  # a rewrite keeps every value: element-wise
    assert Tolerance.of(None) == Tolerance()
    assert Tolerance.of(EQUIVALENCE, atol=1e-2) == Tolerance(rtol=1e-3, atol=1e-2, scaled=False)
    with pytest.raises(AttributeError):
        Tolerance().atol = 1.0  # type: ignore[misc]
    # compare_outputs judges with the same default
    ref = {"y": np.zeros(3, np.float32)}
    assert pt2trt.compare_outputs(ref, {"y": np.full(3, 5e-6, np.float32)}).passed
    assert not pt2trt.compare_outputs(ref, {"y": np.full(3, 5e-5, np.float32)}).passed


def test_run_inputs_of_puts_keywords_over_the_object() -> None:
    specs = [parse_input("x:2x4")]
    assert RunInputs.of(specs).specs == tuple(specs)
    base = RunInputs(seed=3, providers=("cpu",))
    merged = RunInputs.of(base, batch=5, seed=None, data=["a.npy"])
    assert (merged.batch, merged.seed, merged.providers) == (5, 3, ("cpu",))
    assert [p.name for p in merged.data] == ["a.npy"]
    assert RunInputs.of(None) == RunInputs() and RunInputs().spec_list is None and RunInputs().provider_list is None


def test_resolve_run_inputs_random_feed_follows_batch_and_seed() -> None:
    model = _add_model(["N", 4])
    specs, feed = resolve_run_inputs(model, RunInputs(batch=3, seed=1))
    assert [s.shape for s in specs] == [(3, 4)] and list(feed) == ["x"] and feed["x"].shape == (3, 4)
    _, again = resolve_run_inputs(model, RunInputs(batch=3, seed=1))
    _, other = resolve_run_inputs(model, RunInputs(batch=3, seed=2))
    assert np.array_equal(feed["x"], again["x"]) and not np.array_equal(feed["x"], other["x"])
    with pytest.raises(UsageError, match="no recorded example shape"):
        resolve_run_inputs(model, RunInputs())
    assert [s.shape for s in example_specs(model)] == [(1, 4)]  # the equivalence check's batch 1


def test_resolve_run_inputs_takes_arrays_and_files(tmp_path: Path) -> None:
    model = _add_model([2, 4])
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    specs, feed = resolve_run_inputs(model, RunInputs(feed={"x": x}))
    assert specs[0].shape == (2, 4) and np.array_equal(feed["x"], x)
    path = tmp_path / "x.npy"
    np.save(path, x)
    _, from_file = resolve_run_inputs(model, RunInputs(data=(path,)))
    assert np.array_equal(from_file["x"], x)


def test_check_equivalence_takes_run_inputs_and_tolerance() -> None:
    model = _add_model([2, 4])
    shifted = onnx.ModelProto()
    shifted.CopyFrom(model)
    shifted.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.full(4, 1.00005, np.float32), "w"))
    assert pt2trt.check_equivalence(model, shifted).passed  # 5e-5 is within the equivalence preset
    strict = pt2trt.check_equivalence(model, shifted, inputs=RunInputs(seed=4), tolerance=Tolerance(0.0, 1e-5))
    assert not strict.passed and (strict.rtol, strict.atol) == (0.0, 1e-5)


def test_public_names_come_from_one_table() -> None:
    import ast
    import inspect

    assert set(pt2trt.__all__) == {"Pt2trtError", "UsageError", "__version__", *pt2trt._LAZY}
    tree = ast.parse(inspect.getsource(pt2trt))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    typed = {a.asname or a.name for n in block.body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert typed == set(pt2trt._LAZY)
    assert pt2trt.Tolerance is Tolerance and pt2trt.RunInputs is RunInputs


def test_every_command_has_its_function_in_the_package(tmp_path: Path) -> None:
    """docs/api.md's table: each command's Python function is a name of ``pt2trt`` (bench keeps its subpackage's
    name: pt2trt.bench.bench), and ``pt2trt.inspect`` reads ONNX models and engine inspections alike."""
    from pt2trt.bench import bench
    from pt2trt.cli.main import COMMANDS
    from pt2trt.settings.view import InspectSettings

    functions = {
        "export": pt2trt.export, "check": pt2trt.check, "inspect": pt2trt.inspect, "simplify": pt2trt.simplify,
        "edit": pt2trt.edit, "verify": pt2trt.verify, "debug": pt2trt.debug_layers, "build": pt2trt.build,
        "quantize": pt2trt.quantize, "bench": bench, "predict": pt2trt.predict, "compare": pt2trt.compare_models,
        "convert": pt2trt.convert, "triton": pt2trt.triton, "view": pt2trt.write_svg,
        "export-openvino": pt2trt.export_openvino, "eval": pt2trt.evaluate, "sweep": pt2trt.sweep,
    }  # fmt: skip
    assert set(COMMANDS) == set(functions), set(COMMANDS) ^ set(functions)
    assert all(callable(f) for f in functions.values())

    onnx.save(_add_model([2, 4]), tmp_path / "add.onnx")
    info = pt2trt.inspect(tmp_path / "add.onnx", InspectSettings(nodes=True))
    assert isinstance(info, pt2trt.ModelInfo) and [n.op_type for n in info.nodes] == ["Add"]
    recording = Path(__file__).parent / "data" / "tensorrt_inspector" / "trt10_resnet18_fp16_a100.json"
    engine = pt2trt.inspect(recording, InspectSettings(precision="fp16"))
    assert isinstance(engine, pt2trt.EngineInspection) and engine.report.requested == "fp16"
    assert engine.to_dict()["source"] == "inspector JSON file" and engine.report.layers
