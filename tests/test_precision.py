"""pt2trt quantize: a CNN trained on real handwritten digits keeps its accuracy in FP16 and INT8; a layer that
overflows FP16 is kept in FP32 automatically (a whole-graph cast of the same model yields Inf/NaN)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper
from PIL import Image

from tests.conftest import assert_one_line_error
from tests.precision_models import EnergyNet, digits, export, photos, train_digits


def run(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    x_train, y_train, x_test, y_test = digits()
    model = train_digits(x_train, y_train)
    path = export(model, (1, 1, 8, 8), folder / "digits.onnx")
    np.save(folder / "calib.npy", x_train[:400])
    np.save(folder / "eval.npy", x_test)
    return folder, path, x_test, y_test


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_trained_digits_keep_accuracy(digits_model, precision):
    from pt2trt.precision import quantize

    folder, fp32, x_test, y_test = digits_model
    out = folder / f"digits-{precision}.onnx"
    result = quantize(fp32, out, precision, calib=folder / "calib.npy", eval_data=folder / "eval.npy", force=True)
    accuracy_fp32 = float((run(fp32, x_test).argmax(1) == y_test).mean())
    accuracy = float((run(out, x_test).argmax(1) == y_test).mean())
    print(f"digits {precision}: held-apart accuracy FP32 {accuracy_fp32:.4f}, {precision} {accuracy:.4f}")
    assert accuracy_fp32 > 0.9  # the CNN did learn the digits
    assert abs(accuracy - accuracy_fp32) <= 0.01
    assert result.passed and result.accuracy.samples == len(x_test)
    assert result.accuracy.agreement is not None and result.accuracy.agreement >= 0.98
    model = onnx.load(str(out))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["pt2trt.precision"] == precision
    assert json.loads(meta["pt2trt.precision.accuracy"])["agreement"] == result.accuracy.agreement
    assert meta["pt2trt.inputs"]  # the export's records are kept
    ops = {n.op_type for n in model.graph.node}
    if precision == "int8":
        assert {"QuantizeLinear", "DequantizeLinear"} <= ops
        zero_points = [numpy_helper.to_array(i) for i in model.graph.initializer if i.name.endswith("zero_point")]
        assert zero_points and all(z.dtype == np.int8 and not z.any() for z in zero_points)
        assert result.details["qdq"]["quantized_ops"]["Conv"] == 2
    else:
        assert result.details["fp16_nodes"]["fp16"] >= 3
        assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # float32 I/O kept


def test_exclude_by_module_name_and_auto_exclude(digits_model):
    from pt2trt.precision import quantize

    folder, fp32, *_ = digits_model
    result = quantize(
        fp32, folder / "ex.onnx", "int8", calib=folder / "calib.npy", exclude=["head"], force=True, progress=False
    )
    assert [(x.op, x.module) for x in result.excluded] == [("Gemm", "head")]
    gemm = next(n for n in onnx.load(str(folder / "ex.onnx")).graph.node if n.op_type == "Gemm")
    assert not any("DequantizeLinear" in t for t in gemm.input)
    # an unreachable target: every round keeps the layer adding most error in float, up to the limit
    auto = quantize(
        fp32,
        folder / "auto.onnx",
        "int8",
        calib=folder / "calib.npy",
        auto_exclude=True,
        target_agreement=1.0,
        max_exclusions=2,
        force=True,
        progress=False,
    )
    rounds = auto.details["auto_exclude"]["rounds"]
    assert auto.passed == (auto.accuracy.agreement == 1.0)
    assert len(rounds) <= 2 and len(auto.excluded) == sum(r["kept"] for r in rounds)
    assert all(x.reason.startswith("auto:") for x in auto.excluded)


def test_fp16_keeps_overflowing_layer_in_fp32(tmp_path):
    from pt2trt.imaging.preprocess import Preprocess
    from pt2trt.precision import quantize
    from pt2trt.precision.emulate import emulate_fp16, session_options
    from pt2trt.precision.fp16 import whole_graph_fp16

    fp32 = export(EnergyNet().eval(), (1, 3, 64, 64), tmp_path / "energy.onnx")
    images = photos(tmp_path / "photos", crops=1)
    raw = Preprocess(resize="stretch", size=(64, 64), scale=1.0)  # raw 0-255 pixels: energies of ~1e8
    result = quantize(fp32, tmp_path / "mixed.onnx", "fp16", calib=images, preprocess=raw, force=True)
    kept = {x.op: x.reason for x in result.kept_fp32}
    assert "ReduceSum" in kept and kept["ReduceSum"].startswith("range:")
    assert "Log" in kept  # op rule
    assert result.calibration["statistics"]["tensors_over_fp16_range"]
    for output in result.accuracy.outputs:
        assert output.nan == (0, 0) and output.inf == (0, 0)
    assert result.details["fp16_nodes"]["fp16"] >= 1  # the convolution does run in FP16
    x = np.stack([raw.apply(Image.open(p).convert("RGB"))[0] for p in sorted(images.iterdir())])
    mixed = run(tmp_path / "mixed.onnx", x)
    assert np.isfinite(mixed).all()
    np.testing.assert_allclose(mixed, run(fp32, x), rtol=1e-2, atol=1e-2)
    assert result.accuracy.runtime.startswith("onnxruntime-cpu, FP16 storage emulated")
    # the plain whole-graph cast overflows; ONNX Runtime's CPU provider hides it (it upcasts FP16 chains to FP32),
    # the FP16 storage emulation shows it
    cast = whole_graph_fp16(onnx.load(str(fp32)))
    onnx.save(cast, str(tmp_path / "cast.onnx"))
    assert np.isfinite(run(tmp_path / "cast.onnx", x)).all()
    emulated = ort.InferenceSession(emulate_fp16(cast).SerializeToString(), session_options())
    assert (~np.isfinite(emulated.run(None, {"input": x})[0])).any(axis=1).all()  # Inf/NaN for every image
    mixed_emulated = ort.InferenceSession(emulate_fp16(onnx.load(str(tmp_path / "mixed.onnx"))).SerializeToString())
    assert np.isfinite(mixed_emulated.run(None, {"input": x})[0]).all()


def test_random_calibration_warns_and_cli_json(digits_model, cli):
    folder, fp32, *_ = digits_model
    result = cli("quantize", str(fp32), "--precision", "int8", "-o", str(folder / "r.onnx"), "--json", "-f")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["calibration"]["kind"] == "random" and "NOT calibrated" in data["warnings"][0]
    assert data["accuracy"]["task"]["task"] == "classify"


def test_cli_target_missed_exits_1(digits_model, cli):
    folder, fp32, *_ = digits_model
    np.save(folder / "blank.npy", np.zeros((16, 1, 8, 8), np.float32))  # blank pages: ranges of the wrong data
    out = folder / "t.onnx"
    result = cli(
        "quantize", str(fp32), "--precision", "int8", "--calib", str(folder / "blank.npy"),
        "--eval", str(folder / "eval.npy"), "--target-agreement", "0.99", "-o", str(out), "-f",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED: agreement" in result.stdout and "below the target 0.99" in result.stdout
    assert out.is_file()  # written and recorded, so that it can be inspected
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["pt2trt.precision.accuracy"])["passed"] is False


def test_cli_user_errors(digits_model, cli, tmp_path):
    _, fp32, *_ = digits_model
    assert_one_line_error(
        cli("quantize", str(fp32), "--precision", "int8", "--exclude", "haed", "-o", str(tmp_path / "a.onnx")),
        "--exclude haed",
        "Did you mean 'head'",
    )
    assert_one_line_error(
        cli("quantize", str(fp32), "--precision", "fp16", "--exclude", "head", "-o", str(tmp_path / "b.onnx")),
        "--keep-fp32",
    )
    (tmp_path / "exists.onnx").write_bytes(b"x")
    assert_one_line_error(
        cli("quantize", str(fp32), "--precision", "fp16", "-o", str(tmp_path / "exists.onnx")), "already exists"
    )
    assert_one_line_error(
        cli("quantize", str(fp32), "--precision", "int8", "--calib", str(tmp_path / "none"), "-o", "c.onnx"),
        "not found",
    )
    assert not (tmp_path / "a.onnx").exists() and not (tmp_path / "b.onnx").exists()


def test_statistics_and_ranges_on_a_tiny_graph(tmp_path):
    """min/max/abs-max and subnormal counts from ONNX Runtime; minmax and percentile ranges from them."""
    from pt2trt.precision.data import Samples
    from pt2trt.precision.int8 import ranges
    from pt2trt.precision.statistics import collect_statistics

    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 4])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 4])
    scale = numpy_helper.from_array(np.array(1e-6, np.float32), "scale")
    graph = helper.make_graph([helper.make_node("Mul", ["x", "scale"], ["y"], name="mul")], "g", [x], [y], [scale])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    values = np.linspace(-3, 5, 400, dtype=np.float32).reshape(100, 4)
    samples = Samples([{"x": values[i : i + 1]} for i in range(100)], "test", "arrays")
    stats = collect_statistics(model, None, samples, batch=16, histograms=True)
    assert stats.tensors["x"].min == -3 and stats.tensors["x"].max == 5 and stats.tensors["x"].abs_max == 5
    assert stats.tensors["y"].subnormal_fraction > 0.9  # 1e-6 * [-3, 5] lies below FP16's normal range
    assert ranges(stats, "minmax")["x"] == (-5, 5)
    low, high = ranges(stats, "percentile")["x"]
    assert low == -high and 4.9 < high <= 5.01


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_converted_models_lint_clean_and_debug_layers_map_through_casts_and_qdq(digits_model, precision):
    from pt2trt.backends.tensorrt.lint import trt_compatibility
    from pt2trt.debug.onnx_pair import debug_onnx_layers
    from pt2trt.precision import quantize
    from pt2trt.settings import RunInputs, Tolerance

    folder, fp32, x_test, _ = digits_model
    out = folder / f"lint-{precision}.onnx"
    quantize(fp32, out, precision, calib=folder / "calib.npy", force=True, progress=False)
    for target in ("trt-10", "trt-11"):
        report = trt_compatibility(out, target)
        assert report.passed, [f.line() for f in report.errors]
        assert not [f for f in report.findings if f.code.startswith("qdq")]
    report = debug_onnx_layers(
        fp32, out, RunInputs(feed={"input": x_test[:4]}), Tolerance(rtol=0.1, atol=0.1), backend="onnxruntime"
    )
    compute = [n for n in onnx.load(str(fp32)).graph.node if n.op_type != "Constant"]
    assert len(report.layers) == len(compute)  # every FP32 node found its counterpart behind the Casts / Q/DQ pairs
    modules = {layer.cls: layer.module for layer in report.layers}
    assert modules["Gemm"] == "head" and modules["Conv"].startswith("features.")


def test_build_int8_on_tensorrt_11_plans_the_quantize_step(digits_model, cli):
    folder, fp32, *_ = digits_model
    calib = folder / "calib"
    calib.mkdir(exist_ok=True)
    np.save(calib / "batch0.npy", np.load(folder / "calib.npy")[:32])
    args = ("build", str(fp32), "--int8", "--calib-data", str(calib), "--shapes", "input:4x1x8x8", "--dry-run")
    result = cli(*args, "--trt-version", "11", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["int8"]["mode"] == "quantize" and plan["int8"]["calibration_data"] == str(calib)
    text = cli(*args, "--trt-version", "11").stdout
    assert "INT8 by Q/DQ nodes written by pt2trt quantize" in text
    # TensorRT 10: calibration still works, Q/DQ is recommended
    assert "Q/DQ is the recommended INT8 path" in cli(*args, "--trt-version", "10").stdout


def test_build_step_writes_what_tensorrt_11_parses(digits_model, tmp_path):
    """What `build` runs before parsing on TensorRT 11 (the parse itself needs a GPU): mixed FP16 and Q/DQ INT8."""
    from pt2trt.precision import for_build
    from tests.tensorrt_models import plan_from_flags

    folder, fp32, *_ = digits_model
    shapes = {"shapes": ["input:4x1x8x8"], "trt_version": "11"}
    plan = plan_from_flags(fp32, tmp_path / "a.engine", int8=True, calibration_data=folder / "calib.npy", **shapes)
    int8 = onnx.load(str(for_build(plan, tmp_path)))
    assert {"QuantizeLinear", "DequantizeLinear"} <= {n.op_type for n in int8.graph.node}
    plan = plan_from_flags(fp32, tmp_path / "b.engine", fp16=True, **shapes)
    fp16 = onnx.load(str(for_build(plan, tmp_path)))
    assert {p.key: p.value for p in fp16.metadata_props}["pt2trt.precision"] == "fp16"


def test_cli_choices_match_the_registries():
    from pt2trt.cli.quantize import METHOD_NAMES
    from pt2trt.precision import METHODS, PRECISIONS

    assert METHOD_NAMES == METHODS and PRECISIONS == ("fp16", "int8")
