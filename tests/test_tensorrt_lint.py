"""The static TensorRT lint (`pt2trt check --target trt-*`) on models built with onnx.helper, and its data."""

from __future__ import annotations

import json

import onnx
import pytest
from onnx import TensorProto, helper

from pt2trt.backends.tensorrt.lint import lint_model, operator_data, trt_compatibility
from tests.conftest import assert_one_line_error
from tests.tensorrt_models import conv_relu, rejected_ops, restricted_ops, save

TARGETS = ("8.6", "10", "11")


def _by(report, code: str, node: str | None = None):
    return [f for f in report.findings if f.code == code and (node is None or f.node == node)]


def test_operator_tables_record_their_source() -> None:
    data = operator_data()
    assert set(data["targets"]) == set(TARGETS)
    for target in data["targets"].values():
        table = data["tables"][target["table"]]
        assert "onnx/onnx-tensorrt docs/operators.md" in table["source"]
        assert len(table["ops"]) > 150
    assert "ee0b139bc68567a89618c1d84dcd461cc144aad4" in data["tables"]["8.6"]["source"]
    assert "96e781103cfc4adf4a6bb557e94bac8e693f6f4c" in data["tables"]["10.1"]["source"]
    assert data["tables"]["8.6"]["opset_max"] == 17 and data["tables"]["10.15"]["opset_max"] == 24
    # documented facts the lint relies on
    assert data["tables"]["8.6"]["ops"]["Det"]["supported"] is False
    assert data["tables"]["10.15"]["ops"]["ConvInteger"]["supported"] is False
    assert data["tables"]["8.6"]["ops"]["Hardmax"]["supported"] is False
    assert data["tables"]["10.15"]["ops"]["Hardmax"]["supported"] is True


@pytest.mark.parametrize("target", TARGETS)
def test_clean_model_passes(target: str) -> None:
    report = lint_model(conv_relu(batch=1), target)
    assert report.passed and report.findings == []


@pytest.mark.parametrize("target", TARGETS)
def test_rejected_ops_are_errors_with_node_op_why_and_fix(target: str) -> None:
    report = lint_model(rejected_ops(), target)
    assert not report.passed
    det, conv_int = _by(report, "unsupported-op", "det_node"), _by(report, "unsupported-op", "conv_integer_node")
    assert det and det[0].severity == "error" and det[0].op == "Det"
    assert f"TensorRT {target} ONNX parser does not support Det" in det[0].why
    assert conv_int and "QuantizeLinear/DequantizeLinear" in conv_int[0].fix  # integer ops -> Q/DQ advice
    plugin = _by(report, "plugin", "plugin_node")
    assert plugin and plugin[0].severity == "warning" and plugin[0].op == "com.example::GridAnchors"
    assert "plugin" in plugin[0].why


def test_op_missing_from_the_table_needs_a_plugin() -> None:
    model = conv_relu(batch=1)
    model.graph.node.append(helper.make_node("NoSuchOp", ["output"], ["extra"], name="mystery"))
    finding = _by(lint_model(model, "10"), "plugin", "mystery")[0]
    assert finding.severity == "error" and "looks for a plugin named 'NoSuchOp'" in finding.why


def test_documented_restrictions_differ_by_version() -> None:
    old, new = lint_model(restricted_ops(), "8.6"), lint_model(restricted_ops(), "10")
    pool_new = {f.why for f in _by(new, "restriction", "pool")}
    pool_old = {f.why for f in _by(old, "restriction", "pool")}
    assert any("dilations [2, 2]" in w for w in pool_new), pool_new  # 10.x documents the dilation limit
    assert not any("dilations" in w for w in pool_old), pool_old  # 8.6's table does not
    assert any("indices are used" in w for w in pool_old | pool_new)
    for report in (old, new):
        resize = _by(report, "restriction", "resize")
        assert resize and "'tf_crop_and_resize'" in resize[0].why and resize[0].severity == "error"
        assert "onnx-tensorrt" in resize[0].source and "commit" in resize[0].source
        assert "nearest" in resize[0].documented
        quant = _by(report, "restriction", "quantize")
        assert quant and "y_zero_point is not zero" in quant[0].why
    # Unsqueeze axes from the runtime shape: 8.6 needs a constant tensor (error), 10.15 tries to resolve it (warning)
    assert _by(old, "restriction", "unsqueeze")[0].severity == "error"
    assert _by(new, "restriction", "unsqueeze")[0].severity == "warning"
    assert "Fold constants" in _by(new, "restriction", "unsqueeze")[0].fix


def test_constant_axes_are_accepted() -> None:
    model = conv_relu(batch=1)
    model.graph.initializer.append(helper.make_tensor("axes", TensorProto.INT64, [1], [0]))
    model.graph.node.append(helper.make_node("Unsqueeze", ["output", "axes"], ["u"], name="unsqueeze_const"))
    assert not _by(lint_model(model, "8.6"), "restriction", "unsqueeze_const")


def test_types_int64_and_double() -> None:
    old, new = lint_model(restricted_ops(), "8.6"), lint_model(restricted_ops(), "10")
    for report in (old, new):
        double = _by(report, "double")
        assert double and "double_const" in double[0].node and double[0].severity == "warning"
    int64 = _by(old, "int64")
    assert int64 and "will be cast to INT32" in int64[0].why
    assert not _by(new, "int64")  # TensorRT 10+ has INT64


def test_dynamic_inputs_need_a_profile() -> None:
    finding = _by(lint_model(conv_relu(), "10"), "dynamic-shape")[0]
    assert finding.node == "input" and finding.severity == "info"
    assert "--min-shapes" in finding.fix and "input:Nx3x16x16" in finding.fix


def test_opset_range_per_version() -> None:
    assert not _by(lint_model(conv_relu(batch=1, opset=17), "8.6"), "opset")
    newer = _by(lint_model(conv_relu(batch=1, opset=20), "8.6"), "opset")[0]
    assert newer.severity == "warning" and "(17)" in newer.why and "--opset 17" in newer.fix
    assert not _by(lint_model(conv_relu(batch=1, opset=20), "10"), "opset")
    assert "TensorRT 11.5 or newer" in _by(lint_model(conv_relu(batch=1, opset=25), "11"), "opset")[0].why
    too_old = _by(lint_model(conv_relu(batch=1, opset=8), "10"), "opset")[0]
    assert too_old.severity == "error" and "opset 9 to 24" in too_old.why


def test_absurd_opset_is_linted_with_the_newest_schemas() -> None:
    absurd = lint_model(restricted_ops(opset=10**10), "10")  # beyond the C int onnx.defs.get_schema takes
    assert "newer than the newest" in _by(absurd, "opset")[0].why
    assert _by(absurd, "restriction", "unsqueeze")[0].severity == "warning"


def test_ops_newer_than_the_oldest_10x_parser_are_flagged() -> None:
    tables = operator_data()["tables"]
    newer = sorted(
        op
        for op, e in tables["10.15"]["ops"].items()
        if e["supported"] and not tables["10.1"]["ops"].get(op, {}).get("supported", False)
    )
    assert "BlackmanWindow" in newer
    model = conv_relu(batch=1)
    model.graph.initializer.append(helper.make_tensor("size", TensorProto.INT64, [], [8]))
    model.graph.node.append(helper.make_node("BlackmanWindow", ["size"], ["window"], name="window"))
    assert _by(lint_model(model, "10"), "newer-parser", "window")[0].severity == "warning"
    assert not _by(lint_model(model, "11"), "newer-parser")


def test_check_cli_lints_for_a_target(cli, tmp_path) -> None:
    path = save(rejected_ops(), tmp_path / "rejected.onnx")
    result = cli("check", str(path), "--target", "trt-10")
    assert result.returncode == 1
    assert "TensorRT 10 lint" in result.stdout and "error: det_node (Det)" in result.stdout
    data = json.loads(cli("check", str(path), "--target", "trt-8.6", "--json").stdout)
    assert data["tensorrt"]["target"] == "trt-8.6" and data["tensorrt"]["passed"] is False
    assert {f["node"] for f in data["tensorrt"]["findings"]} >= {"det_node", "conv_integer_node", "plugin_node"}
    clean = save(conv_relu(batch=1), tmp_path / "clean.onnx")
    assert cli("check", str(clean), "--target", "trt-11").returncode == 0


def test_check_cli_rejects_unknown_target(cli, tmp_path) -> None:
    path = save(conv_relu(batch=1), tmp_path / "m.onnx")
    result = cli("check", str(path), "--target", "trt-9")
    assert result.returncode == 2 and "trt-9" in result.stderr


def test_lint_of_missing_file_is_one_line(cli, tmp_path) -> None:
    assert_one_line_error(cli("check", str(tmp_path / "nope.onnx"), "--target", "trt-10"), "not found")


def test_api_reads_files(tmp_path) -> None:
    report = trt_compatibility(save(rejected_ops(), tmp_path / "r.onnx"), "trt-11")
    assert report.target.name == "11" and report.path.name == "r.onnx"
    assert "10.15" in report.table and "No TensorRT 11 operators.md" in report.note


def _with_plugin_node(op: str) -> onnx.ModelProto:
    """conv_relu's output fed to a TensorRT plugin node (domain TRT, as exporters and pt2trt edit write it)."""
    model = conv_relu(batch=1)
    model.graph.node.append(helper.make_node(op, ["output"], ["nms_out"], name="nms", domain="TRT", plugin_version="1"))
    model.opset_import.append(helper.make_opsetid("TRT", 1))
    return model


@pytest.mark.parametrize(
    ("target", "severity", "says"),
    [
        ("8.6", None, None),
        ("10", "warning", "deprecated since TensorRT 10.12"),
        ("11", "warning", "deprecated since TensorRT 10.12"),
    ],
)
def test_efficient_nms_is_deprecated_from_10_12(target: str, severity: str | None, says: str | None) -> None:
    found = _by(lint_model(_with_plugin_node("EfficientNMS_TRT"), target), "plugin-lifecycle", "nms")
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert says in found[0].why and "--append nms" in found[0].fix and "INMSLayer" in found[0].fix
        assert "10.12" in found[0].source and "CHANGELOG" in found[0].source


@pytest.mark.parametrize(
    ("target", "severity", "says"),
    [
        ("8.6", None, None),
        ("10", "warning", "removed in TensorRT 10.16: TensorRT 10.x before 10.16 parses it"),
        ("11", "error", "the TensorRT 11.x parser cannot import it"),
    ],
)
def test_efficient_nms_onnx_variant_left_the_parser_in_10_16(
    target: str, severity: str | None, says: str | None
) -> None:
    report = lint_model(_with_plugin_node("EfficientNMS_ONNX_TRT"), target)
    found = _by(report, "plugin-lifecycle", "nms")
    assert [f.severity for f in found] == ([severity] if severity else [])
    if found:
        assert says in found[0].why and "NonMaxSuppression" in found[0].fix
    assert report.passed is (severity != "error")


def test_plugin_facts_cite_nvidia() -> None:
    plugins = operator_data()["plugins"]
    assert plugins["EfficientNMS_TRT"]["deprecated"] == "10.12" and plugins["EfficientNMS_TRT"]["removed"] is None
    assert plugins["EfficientNMS_ONNX_TRT"]["removed"] == "10.16"
    for name in ("EfficientNMS_TRT", "EfficientNMS_ONNX_TRT"):
        assert "NVIDIA/TensorRT" in plugins[name]["source"] and "README.md" in plugins[name]["source"]
