"""pt2trt.check, pt2trt.inspect_model and the ONNX Runtime compatibility table, on models built with onnx.helper."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest

import pt2trt
from pt2trt.errors import Pt2trtError
from pt2trt.onnx.ort_compat import ort_compatibility, ort_table
from tests.conftest import CliResult
from tests.models import (
    attributes_model,
    mixed_initializers_model,
    tiny_conv_relu,
    type_error_model,
    undefined_tensor_model,
    versioned_model,
    wrong_output_shape_model,
)

Cli = Callable[..., CliResult]


@pytest.fixture
def save(tmp_path: Path) -> Callable[..., Path]:
    def save(model: onnx.ModelProto, name: str = "model.onnx", **kwargs: object) -> Path:
        path = tmp_path / name
        onnx.save(model, str(path), **kwargs)
        return path

    return save


@pytest.fixture
def tiny(save: Callable[..., Path]) -> Path:
    return save(tiny_conv_relu(), "tiny.onnx")


def _bad_files(tmp_path: Path, tiny: Path) -> dict[str, Path]:
    data = tiny.read_bytes()
    files = {
        "truncated": tmp_path / "truncated.onnx",
        "text": tmp_path / "notes.onnx",
        "empty": tmp_path / "empty.onnx",
    }
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["text"].write_text("this is a text file, not a model\n")
    files["empty"].write_bytes(b"")
    return files


# -- check ---------------------------------------------------------------------------------------------------------


def test_check_valid_model(tiny: Path) -> None:
    report = pt2trt.check(tiny)
    assert report.passed
    assert report.checker_ok and report.shape_inference_ok
    assert report.errors == [] and report.warnings == []
    assert report.inferred_values == 1  # conv_out, the only intermediate tensor
    assert report.path == tiny
    d = report.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["passed"] is True and d["path"] == str(tiny)


@pytest.mark.parametrize("build", [attributes_model, mixed_initializers_model, lambda: versioned_model(23, 11)])
def test_check_other_valid_models(save: Callable[..., Path], build: Callable[[], onnx.ModelProto]) -> None:
    report = pt2trt.check(save(build()))
    assert report.passed, report.errors


def test_check_undefined_tensor(save: Callable[..., Path]) -> None:
    report = pt2trt.check(save(undefined_tensor_model()))
    assert not report.passed
    assert not report.checker_ok
    checker = [e for e in report.errors if e.startswith("checker: ")]
    assert len(checker) == 1
    assert "'missing_tensor'" in checker[0] and "relu" in checker[0]
    assert all("\n" not in e for e in report.errors)


def test_check_type_error_found_by_strict_inference(save: Callable[..., Path]) -> None:
    report = pt2trt.check(save(type_error_model()))
    assert not report.passed
    assert not report.shape_inference_ok
    inference = [e for e in report.errors if e.startswith("shape inference: ")]
    assert len(inference) == 1
    assert "Add" in inference[0] and "inconsistent type tensor(int64)" in inference[0]


def test_check_declared_shape_contradicts_inference(save: Callable[..., Path]) -> None:
    report = pt2trt.check(save(wrong_output_shape_model()))
    assert not report.passed and not report.shape_inference_ok
    assert any("(4) vs (5)" in e for e in report.errors)


def test_check_graph_without_outputs_fails(save: Callable[..., Path]) -> None:
    model = tiny_conv_relu()
    del model.graph.output[:]
    report = pt2trt.check(save(model))
    assert "graph has no outputs" in report.errors
    assert not report.passed  # an error is never a pass, whichever step found it
    assert report.to_dict()["passed"] is False


def test_check_warns_about_outputs_of_unknown_rank(save: Callable[..., Path]) -> None:
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Reshape", ["x", "shape"], ["y"])],
        "data_dependent",
        [
            onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [6]),
            onnx.helper.make_tensor_value_info("shape", onnx.TensorProto.INT64, ["r"]),
        ],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    model.ir_version = 8
    report = pt2trt.check(save(model))
    assert report.warnings == ["output 'y' has no inferred shape (rank unknown)"]


def test_check_external_data(save: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(tiny_conv_relu(), "ext.onnx", save_as_external_data=True, location="ext.onnx.data", size_threshold=0)
    assert (path.parent / "ext.onnx.data").stat().st_size == 448
    seen: list[onnx.ModelProto] = []
    infer = onnx.shape_inference.infer_shapes
    monkeypatch.setattr(onnx.shape_inference, "infer_shapes", lambda m, **kw: seen.append(m) or infer(m, **kw))
    report = pt2trt.check(path)
    assert report.passed, report.errors
    # shape inference gets the graph without the weights (a > 2 GB model would not fit in one protobuf)
    assert all(t.data_location == onnx.TensorProto.EXTERNAL and not t.raw_data for t in seen[0].graph.initializer)


def test_check_external_data_file_missing(save: Callable[..., Path]) -> None:
    path = save(tiny_conv_relu(), "ext.onnx", save_as_external_data=True, location="ext.onnx.data", size_threshold=0)
    (path.parent / "ext.onnx.data").rename(path.parent / "elsewhere.data")
    report = pt2trt.check(path)
    assert not report.passed
    assert any("ext.onnx.data" in e for e in report.errors)


@pytest.mark.parametrize("kind", ["truncated", "text", "empty"])
@pytest.mark.parametrize("tool", [pt2trt.check, pt2trt.inspect_model], ids=["check", "inspect"])
def test_not_an_onnx_file(tmp_path: Path, tiny: Path, kind: str, tool: Callable[[Path], object]) -> None:
    path = _bad_files(tmp_path, tiny)[kind]
    with pytest.raises(Pt2trtError) as info:
        tool(path)
    message = str(info.value)
    assert str(path) in message
    assert "not a valid ONNX file" in message or "not an ONNX model" in message
    assert "truncated" in message  # the hint says what probably happened
    assert "\n" not in message


@pytest.mark.parametrize("tool", [pt2trt.check, pt2trt.inspect_model], ids=["check", "inspect"])
def test_missing_file_and_directory(tmp_path: Path, tool: Callable[[Path], object]) -> None:
    with pytest.raises(Pt2trtError, match=r"ONNX file not found: .*nothere\.onnx"):
        tool(tmp_path / "nothere.onnx")
    with pytest.raises(Pt2trtError, match=r"ONNX file .* is a directory\. Give the path of a regular onnx file"):
        tool(tmp_path)


# -- inspect -------------------------------------------------------------------------------------------------------


def test_inspect_tiny_model(tiny: Path) -> None:
    info = pt2trt.inspect_model(tiny)
    assert info.file_bytes == tiny.stat().st_size
    assert info.ir_version == 8
    assert info.opsets == {"ai.onnx": 17}
    assert (info.producer_name, info.graph_name, info.model_version) == ("pt2trt-tests", "tiny_conv_relu", 0)
    assert [(t.name, t.dtype, t.shape, t.shape_text) for t in info.inputs] == [
        ("input", "float32", [1, 3, 8, 8], "1x3x8x8")
    ]
    assert [(t.name, t.shape_text) for t in info.outputs] == [("output", "1x4x8x8")]
    assert info.op_counts == {"Conv": 1, "Relu": 1}
    assert info.node_count == 2
    assert info.parameter_count == 4 * 3 * 3 * 3 + 4 == 112
    assert info.parameter_bytes == 112 * 4
    assert info.initializer_dtypes == {"float32": {"tensors": 2, "elements": 112, "bytes": 448}}
    assert info.initializers_as_inputs == []
    assert info.external_data is False
    assert info.metadata == {}
    assert info.nodes == []  # only with nodes=True
    d = info.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert "nodes" not in d


def test_inspect_initializers_as_inputs(save: Callable[..., Path]) -> None:
    info = pt2trt.inspect_model(save(tiny_conv_relu(keep_initializers_as_inputs=True)))
    assert info.initializers_as_inputs == ["conv.weight", "conv.bias"]
    assert [t.name for t in info.inputs] == ["input"]  # real inputs only
    assert info.to_dict()["initializers_as_inputs"] == ["conv.weight", "conv.bias"]


def test_inspect_parameters_by_dtype(save: Callable[..., Path]) -> None:
    info = pt2trt.inspect_model(save(mixed_initializers_model()))
    assert info.parameter_count == 3 + 6 + 4
    assert info.parameter_bytes == 3 * 2 + 6 * 8 + 4 * 8
    assert info.initializer_dtypes == {
        "float16": {"tensors": 1, "elements": 3, "bytes": 6},
        "int64": {"tensors": 1, "elements": 6, "bytes": 48},
        "float64": {"tensors": 1, "elements": 4, "bytes": 32},
    }
    assert info.op_counts == {"Cast": 3, "Mul": 1, "Add": 1}  # most common first
    assert next(iter(info.op_counts)) == "Cast"


def test_inspect_histogram_dynamic_dims_and_custom_domain(save: Callable[..., Path]) -> None:
    info = pt2trt.inspect_model(save(attributes_model()))
    assert info.opsets == {"ai.onnx": 17, "com.example": 1}
    assert info.op_counts["com.example::Custom"] == 1
    assert info.op_counts["Cast"] == 2
    assert sum(info.op_counts.values()) == info.node_count == 9  # subgraph nodes are not counted
    assert info.inputs[0].shape == ["N", 4] and info.inputs[0].shape_text == "Nx4"
    assert [t.name for t in info.outputs] == ["y", "k", "z"]


def test_inspect_nodes_lists_attributes(save: Callable[..., Path]) -> None:
    info = pt2trt.inspect_model(save(attributes_model()), nodes=True)
    nodes = {n.name: n for n in info.nodes}
    assert list(nodes) == ["const", "lrelu", "sum", "gt", "branch", "to_half", "to_float", "pad", "custom"]
    assert nodes["lrelu"].attributes == {"alpha": 0.1}  # float32 0.1 shown as 0.1
    assert nodes["sum"].attributes == {"keepdims": 0}
    assert nodes["to_half"].attributes == {"to": onnx.TensorProto.FLOAT16}
    assert nodes["pad"].attributes == {"mode": "reflect"}  # bytes decoded
    assert nodes["const"].attributes == {"value": "tensor [2] float32"}
    assert nodes["branch"].attributes == {
        "then_branch": "graph 'then_body' (1 nodes)",
        "else_branch": "graph 'else_body' (1 nodes)",
    }
    assert nodes["custom"].attributes == {"labels": ["a", "b"], "scales": [0.5, 0.1], "sizes": [1, 2, 3]}
    assert nodes["custom"].domain == "com.example"
    assert nodes["gt"].domain == "ai.onnx" and nodes["gt"].attributes == {}
    assert nodes["gt"].inputs == ["total", "zero"] and nodes["gt"].outputs == ["positive"]
    d = info.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert [n["name"] for n in d["nodes"]] == list(nodes)


def test_inspect_metadata(save: Callable[..., Path]) -> None:
    model = tiny_conv_relu()
    onnx.helper.set_model_props(model, {"pt2trt.model": "x.py:Net", "author": "tests"})
    assert pt2trt.inspect_model(save(model)).metadata == {"pt2trt.model": "x.py:Net", "author": "tests"}


def test_inspect_external_data_counts_without_reading(save: Callable[..., Path]) -> None:
    path = save(tiny_conv_relu(), "ext.onnx", save_as_external_data=True, location="ext.onnx.data", size_threshold=0)
    data = path.parent / "ext.onnx.data"
    info = pt2trt.inspect_model(path)
    assert info.external_data is True
    assert info.file_bytes == path.stat().st_size + data.stat().st_size
    assert (info.parameter_count, info.parameter_bytes) == (112, 448)
    data.unlink()  # inspect never reads the weights
    assert pt2trt.inspect_model(path).parameter_count == 112


# -- ONNX Runtime compatibility ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ir_version", "opset", "ml_opset", "minimum"),
    [
        (8, 17, None, "1.12"),  # 1.11 stops at opset 16
        (8, 18, None, "1.14"),
        (8, 19, None, "1.15"),
        (9, 17, None, "1.16"),  # IR 9 needs 1.16 even at a low opset
        (9, 20, None, "1.17"),
        (10, 21, None, "1.18"),
        (7, 13, None, "1.6"),
        (3, 8, None, "0.1"),
        (6, None, None, "1.0"),
        (8, 17, 3, "1.12"),
        (8, 17, 4, "1.17"),  # the ai.onnx.ml opset decides
    ],
)
def test_minimum_onnxruntime(ir_version: int, opset: int | None, ml_opset: int | None, minimum: str) -> None:
    compat = ort_compatibility(ir_version, opset, ml_opset)
    assert compat.minimum == minimum
    assert compat.summary == f"ONNX Runtime >= {minimum}"
    assert compat.installed is None and compat.installed_ok is None


@pytest.mark.parametrize(("ir_version", "opset", "ml_opset"), [(8, 22, None), (11, 21, None), (10, 21, 5)])
def test_beyond_the_table(ir_version: int, opset: int, ml_opset: int | None) -> None:
    compat = ort_compatibility(ir_version, opset, ml_opset)
    assert compat.minimum is None
    assert compat.newest_in_table == "1.20"
    assert compat.summary == "ONNX Runtime newer than 1.20 (beyond the published table)"
    assert compat.to_dict()["minimum_onnxruntime"] is None


@pytest.mark.parametrize(
    ("opset", "installed", "ok", "verdict"),
    [
        (17, "1.12.0", True, "can load it"),
        (17, "1.11.1", False, "is too old"),
        (17, "1.9.0", False, "is too old"),  # 1.9 < 1.12 numerically, not as text
        (17, "1.31.1", True, "can load it"),
        (22, "1.31.1", None, "is newer than the table"),
        (22, "1.19.2", False, "is too old"),
    ],
)
def test_installed_verdict(opset: int, installed: str, ok: bool | None, verdict: str) -> None:
    compat = ort_compatibility(8, opset, installed=installed)
    assert compat.installed_ok is ok
    assert compat.summary.endswith(f"; installed {installed} {verdict}")


def test_table_matches_the_data_file() -> None:
    rows, source = ort_table()
    data = json.loads((Path(pt2trt.__file__).parent / "data" / "onnxruntime_compatibility.json").read_text())
    assert len(rows) == len(data["rows"])
    assert (rows[0].version, rows[0].opset, rows[0].ir_version) == ("1.20", 21, 10)
    assert "compatibility" in source
    # newest first, and no release supports less than an older one
    for newer, older in itertools.pairwise(rows):
        assert newer.opset >= older.opset and newer.ml_opset >= older.ml_opset, (newer, older)
        assert newer.ir_version >= older.ir_version, (newer, older)


def test_inspect_reports_onnxruntime_support(save: Callable[..., Path]) -> None:
    import onnxruntime

    info = pt2trt.inspect_model(save(versioned_model(17, 8)))
    assert info.onnxruntime.minimum == "1.12"
    assert info.onnxruntime.installed == onnxruntime.__version__
    newer = pt2trt.inspect_model(save(versioned_model(23, 11, ml_opset=3), "new.onnx"))
    assert newer.onnxruntime.minimum is None
    assert (newer.onnxruntime.opset, newer.onnxruntime.ml_opset, newer.onnxruntime.ir_version) == (23, 3, 11)
    assert "newer than 1.20 (beyond the published table)" in newer.onnxruntime.summary


# -- ONNX Runtime runs the models ----------------------------------------------------------------------------------


def _conv_relu_reference(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """Conv 3x3 pad 1 + ReLU in plain numpy, from the model's own weights."""
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    w, b = weights["conv.weight"].astype(np.float64), weights["conv.bias"].astype(np.float64)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # n, c, h, w, 3, 3
    out = np.einsum("nchwij,ocij->nohw", windows, w) + b[None, :, None, None]
    return np.maximum(out, 0.0).astype(np.float32)


@pytest.mark.parametrize("keep_initializers_as_inputs", [False, True])
def test_onnxruntime_runs_the_tiny_model(save: Callable[..., Path], keep_initializers_as_inputs: bool) -> None:
    model = tiny_conv_relu(keep_initializers_as_inputs=keep_initializers_as_inputs)
    path = save(model)
    x = np.random.default_rng(1).standard_normal((1, 3, 8, 8)).astype(np.float32)
    with pt2trt.OnnxRuntimeRunner(path) as runner:
        assert [m.name for m in runner.input_metadata()] == ["input"]
        got = runner.infer({"input": x})
    comparison = pt2trt.compare_outputs({"output": _conv_relu_reference(model, x)}, got, rtol=1e-5, atol=1e-5)
    assert comparison.passed, comparison.to_dict()
    assert comparison.tensors[0].max_abs_error < 1e-5
    assert (got["output"] == 0).any() and (got["output"] > 0).any()  # the ReLU did something


def test_onnxruntime_runs_mixed_dtypes(save: Callable[..., Path]) -> None:
    with pt2trt.OnnxRuntimeRunner(save(mixed_initializers_model())) as runner:
        got = runner.infer({"x": np.full((2, 3), 2.0, np.float32)})
    np.testing.assert_array_equal(got["y"], np.array([[2, 5, 8], [5, 8, 11]], np.float32))


def test_onnxruntime_loads_an_opset_beyond_the_table(save: Callable[..., Path]) -> None:
    """The installed ONNX Runtime is newer than the table; the 'newer than the table' verdict is not a refusal."""
    with pt2trt.OnnxRuntimeRunner(save(versioned_model(23, 11))) as runner:
        assert runner.infer({"x": np.array([3.0], np.float32)})["y"].tolist() == [3.0]


# -- the check and inspect commands --------------------------------------------------------------------------------


def test_cli_check_ok(cli: Cli, tiny: Path) -> None:
    result = cli("check", str(tiny))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{tiny}: checker ok, shape inference ok (1 intermediate shapes inferred)"


def test_cli_check_failure(cli: Cli, save: Callable[..., Path]) -> None:
    result = cli("check", str(save(undefined_tensor_model())))
    assert result.returncode == 1
    assert "checker FAILED, shape inference FAILED" in result.stdout
    errors = [line for line in result.stdout.splitlines() if line.startswith("  error: ")]
    assert len(errors) == 2 and "'missing_tensor'" in errors[0]
    assert "Traceback" not in result.stderr


def test_cli_check_json(cli: Cli, save: Callable[..., Path]) -> None:
    result = cli("check", "--json", str(save(type_error_model())))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False and data["checker"] is False and data["shape_inference"] is False
    assert any("inconsistent type" in e for e in data["errors"])


def test_cli_inspect(cli: Cli, save: Callable[..., Path]) -> None:
    result = cli("inspect", str(save(tiny_conv_relu(keep_initializers_as_inputs=True))))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "IR version 8 | opsets: ai.onnx 17" in out
    assert "producer: pt2trt-tests" in out
    assert "runs on: ONNX Runtime >= 1.12; installed" in out
    assert "parameters: 112 (448 B); initializers by dtype: float32 2" in out
    assert "nodes: 2  (Conv 1, Relu 1)" in out
    assert "2 initializers are also graph inputs" in out
    assert "1x3x8x8" in out and "1x4x8x8" in out


def test_cli_inspect_nodes(cli: Cli, save: Callable[..., Path]) -> None:
    result = cli("inspect", "--nodes", str(save(attributes_model())))
    assert result.returncode == 0, result.stderr
    for text in ("alpha=0.1", 'mode="reflect"', "keepdims=0", "com.example::Custom", 'labels=["a", "b"]'):
        assert text in result.stdout, text
    plain = cli("inspect", str(save(attributes_model(), "again.onnx")))
    assert "alpha=0.1" not in plain.stdout  # the node table only with --nodes


def test_cli_inspect_json(cli: Cli, save: Callable[..., Path]) -> None:
    result = cli("inspect", "--json", "--nodes", str(save(mixed_initializers_model())))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["parameter_count"] == 13 and data["parameter_bytes"] == 86
    assert data["onnxruntime"]["minimum_onnxruntime"] == "1.12"
    assert [n["op_type"] for n in data["nodes"]] == ["Cast", "Mul", "Cast", "Cast", "Add"]


def _paddle_style_input_model(path: Path, batch: str) -> Path:
    """y = relu(x), x [BATCH, 3, -1, <no name>]: the three ways exporters leave a dim dynamic (paddle2onnx names
    the batch ``DynamicDimension.0``, writes ``-1`` or leaves a dim without value or name)."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, -1, None])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3, -1, None])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "dims", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10), str(path))
    return path


@pytest.mark.parametrize(("batch", "shown"), [("DynamicDimension.0", "?x3x?x?"), ("batch", "batchx3x?x?")])
def test_dynamic_dims_are_spelled_one_way_wherever_a_user_sees_them(tmp_path: Path, batch: str, shown: str) -> None:
    """inspect, the TensorRT lint, the build plan, bench and debug's input resolution and the SVG all show a
    dynamic dim as the name a user chose or ``?``: never ``DynamicDimension.0``, ``dim0``, ``-1`` or ``None``."""
    from click.testing import CliRunner

    from pt2trt.cli.main import cli

    model = _paddle_style_input_model(tmp_path / "dims.onnx", batch)
    runs = {
        "inspect": ["inspect", str(model)],
        "lint": ["check", str(model), "--target", "trt-10"],
        "build plan": ["build", str(model), "--dry-run", "--trt-version", "10"],
        "bench": ["bench", str(model), "-b", "onnxruntime", "-q"],
        "debug": ["debug", "layers", str(model), str(model)],
    }
    seen = {}
    for what, args in runs.items():
        result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, args)
        seen[what] = result.stdout + result.stderr
    assert shown in seen["inspect"]
    lint = next(line for line in seen["lint"].splitlines() if "dynamic dim(s)" in line)
    assert f"dynamic dim(s) {shown.replace('x3x', ', ').replace('x', ', ')}" in lint
    assert f"input 'x' has dynamic shape {shown} and no shape range" in seen["build plan"]
    for what in ("bench", "debug"):
        assert f"input 'x' has dynamic shape {shown} and no recorded example shape" in seen[what], seen[what]
    svg = tmp_path / "dims.svg"
    assert CliRunner().invoke(cli, ["view", str(model), "--svg", str(svg)]).exit_code == 0
    seen["svg"] = svg.read_text()
    assert shown in seen["svg"]
    for what, text in seen.items():
        for other in ("DynamicDimension", "dim0", "dim2", "None", "x-1"):
            assert other not in text, (what, other, text)


def test_inspect_json_is_strict_json_on_broken_text_and_nan_attributes(tmp_path: Path) -> None:
    """Names, op types and metadata that are not UTF-8 (protobuf hands them back as bytes) and a NaN attribute:
    ``inspect --json`` prints strict JSON (U+FFFD for the bad bytes, "nan" as text) and ModelInfo.to_dict() is plain
    JSON on its own."""
    from click.testing import CliRunner
    from onnx import TensorProto, helper

    from pt2trt.cli.main import cli

    graph = helper.make_graph(
        [helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky", alpha=float("nan"))], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    helper.set_model_props(model, {"note": "caf\u00e9"})
    data = model.SerializeToString()
    data = data.replace(b"leaky", b"le\x83ky").replace("caf\u00e9".encode(), b"caf\xe9!")  # latin-1, not UTF-8
    path = tmp_path / "broken-text.onnx"
    path.write_bytes(data)

    result = CliRunner().invoke(cli, ["inspect", str(path), "--nodes", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    (node,) = printed["nodes"]
    assert node["name"] == "le\ufffdky" and node["attributes"] == {"alpha": "nan"}
    assert printed["metadata"] == {"note": "caf\ufffd!"}
    assert json.dumps(pt2trt.inspect_model(path, nodes=True).to_dict(), allow_nan=False)  # no encoder rescue needed
    table = CliRunner().invoke(cli, ["inspect", str(path), "--nodes"])
    assert table.exit_code == 0 and "le\ufffdky" in table.stdout and 'alpha="nan"' in table.stdout
