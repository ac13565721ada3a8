"""Classes of failure found on third-party models (issues 13 and 15): the TensorRT lint's severities, grouping and
Resize rules, inspect's metadata and parameters, symbolic dims, comparison of near-zero references, the engine sidecar
and OpenVINO's load errors. Every model is built here with onnx.helper."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pt2trt.backends.tensorrt.lint import lint_model


def _model(nodes, inputs, outputs, initializers=(), opset: int = 18, metadata: dict | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "real", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    return model


def _tensor(name: str, shape, dtype=TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


def _resizes(count: int, **attrs) -> onnx.ModelProto:
    """``count`` Resize nodes (x2 on H and W) of one 1x3x8x8 input, each with ``attrs``."""
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    nodes = [helper.make_node("Resize", ["x", "", "scales"], [f"y{i}"], name=f"up{i}", **attrs) for i in range(count)]
    outputs = [_tensor(f"y{i}", [1, 3, 16, 16]) for i in range(count)]
    return _model(nodes, [_tensor("x", [1, 3, 8, 8])], outputs, [scales])


# --- lint: "needs a newer TensorRT" is a warning, "not supported" an error; TensorRT 11's table is a stand-in ---


def _window_and_conv_integer(conv_integer: bool) -> onnx.ModelProto:
    """HannWindow (in the 10.15 parser's table, not in 10.1's), optionally a ConvInteger (in no table)."""
    size = numpy_helper.from_array(np.array(8, np.int64), "size")
    nodes = [helper.make_node("HannWindow", ["size"], ["window"], name="window")]
    outputs = [_tensor("window", [8])]
    inputs = []
    inits = [size]
    if conv_integer:
        inits.append(numpy_helper.from_array(np.ones((1, 1, 2, 2), np.uint8), "w"))
        nodes.append(helper.make_node("ConvInteger", ["x", "w"], ["y"], name="convint"))
        inputs.append(_tensor("x", [1, 1, 4, 4], TensorProto.UINT8))
        outputs.append(_tensor("y", [1, 1, 3, 3], TensorProto.INT32))
    return _model(nodes, inputs, outputs, inits)


def test_op_newer_than_the_oldest_10x_table_is_a_warning_naming_the_version(tmp_path: Path, cli) -> None:
    report = lint_model(_window_and_conv_integer(conv_integer=False), "10")
    newer = [f for f in report.findings if f.code == "newer-parser"]
    assert report.passed and len(newer) == 1 and newer[0].severity == "warning"
    assert "needs TensorRT > 10.1" in newer[0].why and "10.15" in newer[0].why
    path = tmp_path / "window.onnx"
    onnx.save(_window_and_conv_integer(conv_integer=False), path)
    result = cli("check", str(path), "--target", "trt-10")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: window (HannWindow): HannWindow needs TensorRT > 10.1" in result.stdout


def test_unsupported_op_is_an_error_and_the_trt11_table_says_it_stands_in(tmp_path: Path, cli) -> None:
    model = _window_and_conv_integer(conv_integer=True)
    for target in ("10", "11"):
        report = lint_model(model, target)
        errors = report.errors
        assert [(f.node, f.code) for f in errors] == [("convint", "unsupported-op")], errors
    assert not lint_model(model, "10").stand_in and lint_model(model, "11").stand_in
    path = tmp_path / "convint.onnx"
    onnx.save(model, path)
    result = cli("check", str(path), "--target", "trt-11", "--json")
    lint = json.loads(result.stdout)["tensorrt"]
    assert result.returncode == 1 and lint["operator_table"] == "10.15" and lint["operator_table_stand_in"] is True
    text = cli("check", str(path), "--target", "trt-11").stdout
    assert "parser table 10.15 as a stand-in: no TensorRT 11 table exists" in text


# --- lint: one finding on 44 nodes is one line with a count and a few names; --json keeps every node ---


def test_repeated_findings_are_grouped_by_op_and_cause(tmp_path: Path, cli) -> None:
    model = _resizes(44, mode="linear", antialias=1)
    report = lint_model(model, "10")
    assert len(report.findings) == 44 and len(report.groups()) == 1
    line = report.groups()[0].line()
    assert line.startswith("warning: 44 Resize nodes (up0, up1, up2, ... and 41 more): antialias=1 is ignored")
    path = tmp_path / "many.onnx"
    onnx.save(model, path)
    text = cli("check", str(path), "--target", "trt-10").stdout
    assert text.count("antialias=1") == 1 and "44 Resize nodes" in text
    nodes = [f["node"] for f in json.loads(cli("check", str(path), "--target", "trt-10", "--json").stdout)[
        "tensorrt"]["findings"]]  # fmt: skip
    assert nodes == [f"up{i}" for i in range(44)]


def test_findings_with_different_tensors_but_one_cause_group_together() -> None:
    """Constant-input findings name each node's tensor in ``why`` but share a cause."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape")]
    for i in range(3):
        nodes.append(helper.make_node("Slice", ["shape", f"s{i}", "ends"], [f"start{i}"], name=f"slice{i}"))
        nodes.append(helper.make_node("Unsqueeze", ["x", f"start{i}"], [f"u{i}"], name=f"unsq{i}"))
    inits = [numpy_helper.from_array(np.array([i], np.int64), f"s{i}") for i in range(3)]
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "ends"))
    outputs = [_tensor(f"u{i}", None) for i in range(3)]
    report = lint_model(_model(nodes, [_tensor("x", ["n", 3])], outputs, inits), "8.6")
    unsqueeze = [g for g in report.groups() if g.findings[0].op == "Unsqueeze"]
    assert len(unsqueeze) == 1 and len(unsqueeze[0].findings) == 3
    assert "3 Unsqueeze nodes (unsq0, unsq1, unsq2)" in unsqueeze[0].line()


# --- lint: Resize rules read from onnx-tensorrt's importer source, not only operators.md ---


@pytest.mark.parametrize("target", ["8.6", "10", "11"])
def test_cubic_resize_is_accepted_as_the_importer_maps_it_to_kcubic(target: str) -> None:
    report = lint_model(_resizes(1, mode="cubic"), target)
    assert not [f for f in report.findings if f.op == "Resize"], report.findings


@pytest.mark.parametrize("target", ["8.6", "10"])
def test_resize_rules_cite_the_importer_and_reject_what_it_rejects(target: str) -> None:
    unsupported = lint_model(_resizes(1, coordinate_transformation_mode="half_pixel_symmetric"), target)
    (finding,) = [f for f in unsupported.findings if f.op == "Resize"]
    assert finding.severity == "error" and "half_pixel_symmetric" in finding.why
    branch = "8.6-GA" if target == "8.6" else "10.1-GA"
    assert f"branch {branch}" in finding.source and "onnx-tensorrt" in finding.source

    # cubic resizes only the 2 innermost dims, linear the 3 innermost (canUseNDResize)
    scales = numpy_helper.from_array(np.array([1, 2, 2, 2], np.float32), "scales")
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="up", mode="cubic")
    cubic3d = lint_model(_model([node], [_tensor("x", [1, 3, 8, 8])], [_tensor("y", None)], [scales]), target)
    assert [f.severity for f in cubic3d.findings if f.op == "Resize"] == ["error"]
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="up", mode="linear")
    linear3d = lint_model(_model([node], [_tensor("x", [1, 3, 8, 8])], [_tensor("y", None)], [scales]), target)
    assert not [f for f in linear3d.findings if f.op == "Resize"]


def test_tf_half_pixel_for_nn_needs_round_prefer_floor_on_86_only() -> None:
    model = _resizes(1, coordinate_transformation_mode="tf_half_pixel_for_nn", nearest_mode="ceil")
    old = [f for f in lint_model(model, "8.6").findings if f.op == "Resize"]
    assert [f.severity for f in old] == ["error"] and "round_prefer_floor" in old[0].why
    assert not [f for f in lint_model(model, "10").findings if f.op == "Resize"]


# --- inspect: long metadata cut (with its length) unless --full; --json keeps it whole ---


def _identity(metadata: dict | None = None, shape=(1, 3)) -> onnx.ModelProto:
    node = helper.make_node("Identity", ["x"], ["y"], name="id")
    return _model([node], [_tensor("x", list(shape))], [_tensor("y", list(shape))], metadata=metadata)


def test_inspect_cuts_long_metadata_unless_full(tmp_path: Path, cli) -> None:
    long = "\n".join(f"line {i}: " + "x" * 40 for i in range(6625))
    path = tmp_path / "meta.onnx"
    onnx.save(_identity({"pt2trt.long": long, "short": "kept [as is]"}), path)
    out = cli("inspect", str(path)).stdout
    assert f"{len(long):,} characters, 6,625 lines; --full or --json shows it whole" in out
    assert "line 1:" not in out and len(out.splitlines()) < 40 and "short: kept [as is]" in out
    full = cli("inspect", "--full", str(path)).stdout
    assert "line 6624:" in full and len(full.splitlines()) > 6625
    assert json.loads(cli("inspect", "--json", str(path)).stdout)["metadata"]["pt2trt.long"] == long


# --- inspect: weights held by Constant nodes (PaddlePaddle's exporter) count as parameters, and say so ---


def test_inspect_counts_constant_node_weights(tmp_path: Path, cli) -> None:
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3], np.ones(12, np.float32))
    shape = helper.make_tensor("s", TensorProto.INT64, [2], [1, 4])  # a shape, not a weight
    nodes = [
        helper.make_node("Constant", [], ["w"], name="weight", value=weight),
        helper.make_node("Constant", [], ["s"], name="shape", value=shape),
        helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
        helper.make_node("Reshape", ["m", "s"], ["y"], name="reshape"),
    ]
    path = tmp_path / "paddle_style.onnx"
    onnx.save(_model(nodes, [_tensor("x", [1, 4])], [_tensor("y", [1, 3])]), path)
    import pt2trt

    info = pt2trt.inspect_model(path)
    assert (info.parameter_count, info.parameter_bytes) == (12, 48)
    assert info.constant_parameters == {"tensors": 1, "elements": 12, "bytes": 48}
    assert "parameters: 12 (48 B, 12 of them in 1 Constant nodes)" in cli("inspect", str(path)).stdout


# --- symbolic dims from the exporters print as the user would write them, or ? ---


def test_generated_symbolic_dims_print_as_question_marks(tmp_path: Path, cli) -> None:
    from pt2trt.onnx.dims import readable_dim

    assert [readable_dim(d) for d in ("batch", "s56 - 5", "2*s3", "unk__42", "Conv_1_dim_2", "", "height")] == [
        "batch", "?", "?", "?", "?", "?", "height"]  # fmt: skip
    node = helper.make_node("Identity", ["x"], ["y"], name="id")
    model = _model([node], [_tensor("x", ["batch", 3, "s56", -1])], [_tensor("y", ["batch", 3, "s56 - 5", -1])])
    path = tmp_path / "dynamo_dims.onnx"
    onnx.save(model, path)
    out = cli("inspect", str(path)).stdout
    assert "batchx3x?x?" in out and "s56" not in out
    data = json.loads(cli("inspect", "--json", str(path)).stdout)
    assert data["outputs"][0]["shape"] == ["batch", 3, "s56 - 5", -1]  # --json keeps the exporter's names
    from pt2trt.view.graph_summary import summarize_graph

    details = [b.detail for b in summarize_graph(model).boxes if b.kind in ("input", "output")]
    assert [d.split()[-1] for d in details] == ["batchx3x?x?"] * 2, details


# --- engine sidecar: every field's type checked with one line; an engine its sidecar does not describe is refused ---


def _sidecar_engine(tmp_path: Path) -> tuple[Path, dict]:
    import hashlib

    from pt2trt.backends.tensorrt.metadata import FORMAT, sidecar_path

    engine = tmp_path / "model.engine"
    engine.write_bytes(b"serialized engine bytes")
    data = {
        "format": FORMAT, "tensorrt_version": "10.3.0.26", "gpu_name": "NVIDIA L4", "compute_capability": "8.9",
        "onnx_path": "model.onnx", "onnx_sha256": "0" * 64,
        "engine_sha256": hashlib.sha256(engine.read_bytes()).hexdigest(), "precision": "fp16", "strongly_typed": False,
        "profiles": [{"input": {"min": [1, 3], "opt": [1, 3], "max": [1, 3]}}], "flags": {"fp16": True},
        "inputs": [{"name": "input"}], "outputs": [{"name": "output"}], "onnx_metadata": {}, "build_seconds": 1.5,
    }  # fmt: skip
    sidecar_path(engine).write_text(json.dumps(data))
    return engine, data


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("flags", "fp16", '"flags" is str "fp16", not an object'),
        ("flags", None, '"flags" is NoneType null, not an object'),
        ("profiles", {"a": 1}, '"profiles" is dict'),
        ("inputs", ["input"], '"inputs" must be a list of objects'),
        ("strongly_typed", "no", '"strongly_typed" is str'),
        ("tensorrt_version", 10.3, '"tensorrt_version" is float 10.3, not a string'),
        ("build_seconds", True, '"build_seconds" is bool'),
        ("onnx_metadata", {"k": 1}, '"onnx_metadata" values must be strings'),
        ("gpu_name", ..., "missing gpu_name"),
    ],
)
def test_malformed_sidecar_is_one_line_error(tmp_path: Path, field: str, value, message: str) -> None:
    from pt2trt.backends.tensorrt.metadata import check_engine, sidecar_path
    from pt2trt.backends.tensorrt.versions import Gpu
    from pt2trt.errors import Pt2trtError

    engine, data = _sidecar_engine(tmp_path)
    assert check_engine(engine, "10.3.0.26", Gpu(0, "NVIDIA L4", "8.9")) is not None  # sound as written
    if value is ...:
        del data[field]
    else:
        data[field] = value
    sidecar_path(engine).write_text(json.dumps(data))
    with pytest.raises(Pt2trtError) as info:
        check_engine(engine, "10.3.0.26", Gpu(0, "NVIDIA L4", "8.9"))
    text = str(info.value)
    assert "is malformed" in text and message in text and "\n" not in text and info.value.hint


def test_engine_replaced_after_its_build_is_refused(tmp_path: Path) -> None:
    from pt2trt.backends.tensorrt.metadata import check_engine
    from pt2trt.backends.tensorrt.versions import Gpu
    from pt2trt.errors import Pt2trtError

    engine, _ = _sidecar_engine(tmp_path)
    engine.write_bytes(b"another engine")
    with pytest.raises(Pt2trtError, match="describes another engine") as info:
        check_engine(engine, "10.3.0.26", Gpu(0, "NVIDIA L4", "8.9"))
    assert "--ignore-metadata" in info.value.hint and "check_metadata=False" in info.value.hint


# --- OpenVINO's "cannot load" keeps the failing op, its node names and the innermost cause on one line ---


def _loop_with_unsupported_body() -> onnx.ModelProto:
    """A Loop (named as in Mask R-CNN's export) whose body holds an op OpenVINO has no conversion rule for."""
    tfidf = {"mode": "TF", "min_gram_length": 1, "max_gram_length": 1, "max_skip_count": 0, "ngram_counts": [0],
             "ngram_indexes": [0], "pool_int64s": [1]}  # fmt: skip
    inner = helper.make_node("TfIdfVectorizer", ["v_in"], ["v_out"], name="inner_tfidf", **tfidf)
    body = helper.make_graph(
        [inner, helper.make_node("Identity", ["cond_in"], ["cond_out"])], "body",
        [_tensor("i", [], TensorProto.INT64), _tensor("cond_in", [], TensorProto.BOOL), _tensor("v_in", [1, 3])],
        [_tensor("cond_out", [], TensorProto.BOOL), _tensor("v_out", [1, 3])],
    )  # fmt: skip
    inits = [numpy_helper.from_array(np.array(2, np.int64), "n"), numpy_helper.from_array(np.array(True), "c")]
    loop = helper.make_node("Loop", ["n", "c", "x"], ["y"], name="/roi_heads/Loop", body=body)
    return _model([loop], [_tensor("x", [1, 3])], [_tensor("y", [1, 3])], inits, opset=17)


def _bad_conv() -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.ones((2, 2, 2, 2, 2), np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="bad_conv")
    return _model([conv], [_tensor("x", [1, 3])], [_tensor("y", None)], [weight], opset=17)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (_loop_with_unsupported_body, "no conversion rule for TfIdfVectorizer-17 (node /roi_heads/Loop > inner_tfidf)"),
        (_bad_conv, "conversion failed for Conv-17 (node bad_conv): Data batch and filters rank do not match"),
    ],
)
def test_openvino_load_error_names_the_failing_node(tmp_path: Path, model, expected: str) -> None:
    pytest.importorskip("openvino")
    from pt2trt.backends.openvino.runner import OpenVinoRunner
    from pt2trt.errors import Pt2trtError

    path = tmp_path / "model.onnx"
    onnx.save(model(), path)
    with pytest.raises(Pt2trtError) as info, OpenVinoRunner(path):
        pass
    text = str(info.value)
    assert expected in text and "\n" not in text and "Exception from" not in text and "core.cpp" not in text
    assert "--backend onnxruntime" in info.value.hint


# --- max rel leaves out references that are ~0 at the tensor's scale, and shows "—" when all are ---


def test_max_rel_ignores_references_near_zero_at_the_tensors_scale() -> None:
    from pt2trt.comparators.tensors import compare_outputs

    reference = np.array([10.0, -8.0, 1e-30, 0.0, 5.0], np.float32)
    candidate = reference + np.array([0.01, 0.0, 6e-5, 1e-6, 0.0], np.float32)
    (result,) = compare_outputs({"logits": reference}, {"logits": candidate}, rtol=1e-3, atol=1e-4).tensors
    assert result.max_rel_error == pytest.approx(0.001, rel=1e-3)  # 0.01 / 10, not 6e-5 / 1e-30 = 6e+25
    assert result.passed
    (zeros,) = compare_outputs({"z": np.zeros(4)}, {"z": np.full(4, 1e-7)}, rtol=1e-3, atol=1e-5).tensors
    assert zeros.max_rel_error is None and zeros.passed and zeros.to_dict()["max_rel_error"] is None


def test_verify_table_shows_a_dash_for_an_undefined_max_rel(capsys) -> None:
    from pt2trt.cli.verify import render
    from pt2trt.comparators.tensors import compare_outputs
    from pt2trt.shapes import InputSpec
    from pt2trt.verification.pytorch import VerifyResult

    comparison = compare_outputs({"z": np.zeros((1, 4))}, {"z": np.zeros((1, 4))})
    render(VerifyResult("m", Path("m.onnx"), [InputSpec("x", (1, 4))], comparison))
    row = next(line for line in capsys.readouterr().out.splitlines() if line.lstrip().startswith("z"))
    assert "—" in row and "e+" not in row
