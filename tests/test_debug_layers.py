"""``debug layers``: injected faults are traced to the module that holds them; healthy models report nothing.

Fast tests use GateNet (tests/debug_models.py), exported with a faulty softplus symbolic / translation; slow tests
export torchvision models once per module and scale one Conv weight inside the ONNX file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper

import pt2trt
from pt2trt.comparators.tensors import compare_tensors
from pt2trt.debug.graph import GraphIndex
from pt2trt.debug.onnx_pair import tensorrt_skip_reason
from pt2trt.debug.tolerance import compare_layer
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.onnx.scopes import node_scopes
from pt2trt.settings import ExportSettings, LayerSearch
from pt2trt.shapes import parse_input
from tests import debug_models
from tests.conftest import assert_one_line_error
from tests.models import tiny_conv_relu

GATE_INPUT = [parse_input("input:1x3x16x16")]
DEBUG_MODELS = str(Path(debug_models.__file__).resolve())


@pytest.fixture(scope="module")
def gate_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """GateNet exported healthy and faulty with both exporters."""
    root = tmp_path_factory.mktemp("gate")
    paths = {}
    for exporter in ("legacy", "dynamo"):
        paths[exporter] = root / f"{exporter}.onnx"
        pt2trt.export(debug_models.gate_net(), GATE_INPUT, paths[exporter], ExportSettings(exporter=exporter))
    paths["legacy-faulty"] = root / "legacy-faulty.onnx"
    with debug_models.faulty_legacy_softplus():
        pt2trt.export(debug_models.gate_net(), GATE_INPUT, paths["legacy-faulty"], ExportSettings(exporter="legacy"))
    paths["dynamo-faulty"] = root / "dynamo-faulty.onnx"
    pt2trt.export(
        debug_models.gate_net(),
        GATE_INPUT,
        paths["dynamo-faulty"],
        ExportSettings(exporter="dynamo", custom_translation_table=debug_models.faulty_translation_table()),
    )
    return paths


def _labels(report: pt2trt.LayersReport) -> list[str]:
    return [layer.label for layer in report.layers]


# -- fault injection: a custom module whose export differs from its eager forward ----------------------------------
@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_faulty_custom_export_names_the_module(gate_exports, exporter: str) -> None:
    report = pt2trt.debug_layers(debug_models.gate_net(), gate_exports[f"{exporter}-faulty"])
    assert report.origin_name == "gate"
    assert report.origin.cls == "SoftplusGate"
    assert report.origin.inputs_status == "ok"
    assert {"Softplus", "Mul"} <= {_op_of(gate_exports[f"{exporter}-faulty"], n) for n in report.origin.onnx_nodes}
    worst = report.origin.worst
    assert 0.001 < worst.max_rel_error < 0.02  # the 1 % injected, not a mapping error
    # the error is visible downstream too: the origin is the first failing layer with healthy inputs, not the last
    failed = [layer.label for layer in report.failed]
    assert failed[0] == "gate" and "(model)" in failed and len(failed) >= 3
    assert all(layer.passed for layer in report.layers if layer.order < report.origin.order)
    assert report.to_dict()["origin"] == "gate"


def _op_of(path: Path, node_name: str) -> str:
    return next(n.op_type for n in onnx.load(str(path)).graph.node if (n.name or "") == node_name)


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_healthy_export_reports_no_divergence_and_explains_folds(gate_exports, exporter: str) -> None:
    report = pt2trt.debug_layers(debug_models.gate_net(), gate_exports[exporter])
    assert report.origin is None and not report.diverged and report.to_dict()["origin"] is None
    assert report.exporter == exporter and report.strategy == "all-at-once"
    assert _labels(report) == ["stem.1", "stem.2", "stem", "gate", "bn", "fc", "(model)"]  # execution order
    reasons = {u.label: u.reason for u in report.unmatched}
    assert set(reasons) == {"stem.0", "conv"}
    assert reasons["stem.0"].startswith("folded into stem.1") and reasons["conv"].startswith("folded into bn")
    bn = next(layer for layer in report.layers if layer.label == "bn")
    assert bn.folded == ["conv"] and bn.cls == "BatchNorm2d"


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_bisection_finds_the_same_origin(gate_exports, exporter: str) -> None:
    path = gate_exports[f"{exporter}-faulty"]
    everything = pt2trt.debug_layers(debug_models.gate_net(), path, search=LayerSearch(strategy="all"))
    bisected = pt2trt.debug_layers(debug_models.gate_net(), path, search=LayerSearch(strategy="bisect"))
    assert bisected.strategy == "bisection"
    assert bisected.origin_name == everything.origin_name == "gate"
    assert len(bisected.layers) < len(everything.layers)  # it did not compare everything


def test_memory_budget_switches_to_bisection(gate_exports) -> None:
    report = pt2trt.debug_layers(
        debug_models.gate_net(), gate_exports["legacy-faulty"], search=LayerSearch(max_memory=4096)
    )
    assert report.strategy == "bisection" and report.origin_name == "gate"


def test_user_files_are_left_alone(gate_exports, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(gate_exports["dynamo-faulty"].read_bytes())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    pt2trt.debug_layers(debug_models.gate_net(), path)
    pt2trt.debug_layers(debug_models.gate_net(), path, search=LayerSearch(strategy="bisect"))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_fault_in_the_models_own_code_is_not_blamed_on_the_next_module(gate_exports, tmp_path: Path) -> None:
    model = onnx.load(str(gate_exports["legacy"]))
    add = next(n for n in model.graph.node if n.name == "/Add")  # `relu(bn(conv(x))) + x` in GateNet.forward
    add.op_type = "Sub"
    onnx.save(model, str(tmp_path / "sub.onnx"))
    report = pt2trt.debug_layers(debug_models.gate_net(), tmp_path / "sub.onnx")
    fc = next(layer for layer in report.layers if layer.label == "fc")
    assert not fc.passed and fc.inputs_status == "diverged"  # fc's input, computed outside modules, was compared
    assert report.origin_name == "" and report.origin.label == "(model)" and report.to_dict()["origin"] == ""


def test_inputs_computed_outside_modules_are_compared(tmp_path: Path) -> None:
    path = tmp_path / "mix.onnx"
    pt2trt.export(debug_models.mix_net(), [parse_input("input:1x3x8x8")], path, ExportSettings(exporter="legacy"))
    model = onnx.load(str(path))
    mul = next(n for n in model.graph.node if n.op_type == "Mul")  # `y * 3` in MixNet.forward
    factor = next(n for n in model.graph.node if mul.input[1] in n.output)
    factor.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(3.1, np.float32)))
    onnx.save(model, str(path))
    report = pt2trt.debug_layers(debug_models.mix_net(), path)
    merge = next(layer for layer in report.layers if layer.label == "merge")
    assert not merge.passed and merge.inputs_status == "diverged"  # one input from conv (ok), one loose (off)
    assert report.origin_name == ""


def test_model_with_external_data(tmp_path: Path) -> None:
    path = tmp_path / "external.onnx"
    with debug_models.faulty_legacy_softplus():
        pt2trt.export(debug_models.gate_net(), GATE_INPUT, path, ExportSettings(exporter="legacy", external_data=True))
    assert (tmp_path / "external.onnx.data").is_file()
    report = pt2trt.debug_layers(debug_models.gate_net(), path)
    assert report.origin_name == "gate"


def test_repeated_calls_are_mapped_per_call_or_reported(tmp_path: Path) -> None:
    path = tmp_path / "twice.onnx"
    pt2trt.export(debug_models.twice_net(), [parse_input("input:1x3x8x8")], path, ExportSettings(exporter="legacy"))
    report = pt2trt.debug_layers(debug_models.twice_net(), path)
    assert report.origin is None
    assert {"block.0", "block.0#2", "block.1", "block.1#2"} <= set(_labels(report))
    reasons = {u.label: u.reason for u in report.unmatched}
    assert "cannot be told apart" in reasons["block"] and "cannot be told apart" in reasons["block#2"]


# -- scopes of both exporters ------------------------------------------------------------------------------------
def _node(name: str, **props: str) -> onnx.NodeProto:
    node = helper.make_node("Relu", ["x"], ["y"], name=name)
    for key, value in props.items():
        entry = node.metadata_props.add()
        entry.key, entry.value = key.replace("__", "."), value
    return node


def _model(*nodes: onnx.NodeProto) -> onnx.ModelProto:
    graph = helper.make_graph(list(nodes), "g", [], [])
    return helper.make_model(graph)


def test_legacy_scopes_resolve_to_qualified_names_and_calls() -> None:
    model = _model(
        _node("/layer1/layer1.0/relu_1/Relu"),
        _node("/layer1/layer1.0/relu/Relu"),
        _node("/features/features.1/block/block.0/block.0.0/Conv"),
        _node("/classifier/classifier.0/convs.0/convs.0.0/Conv"),
        _node("/Flatten"),
    )
    names = {"layer1", "layer1.0", "layer1.0.relu", "features", "features.1", "features.1.block"}
    names |= {"features.1.block.0", "features.1.block.0.0", "classifier", "classifier.0", "classifier.0.convs.0"}
    names |= {"classifier.0.convs.0.0"}
    for module_names in (names, None):  # with the model's names, and guessed from the paths alone
        scopes = node_scopes(model, "legacy", module_names)
        assert scopes[0] == (("layer1", 0), ("layer1.0", 0), ("layer1.0.relu", 1))
        assert scopes[1][-1] == ("layer1.0.relu", 0)
        assert [n for n, _ in scopes[2]][-1] == "features.1.block.0.0"
        assert [n for n, _ in scopes[3]] == [
            "classifier",
            "classifier.0",
            "classifier.0.convs.0",
            "classifier.0.convs.0.0",
        ]
        assert scopes[4] == ()


def test_dynamo_scopes_from_name_scopes_or_namespace() -> None:
    model = _model(
        _node("a", pkg__torch__onnx__name_scopes="['', 'layer1', 'layer1.0', 'layer1.0.bn1', '_native_batch_norm']"),
        _node("b", namespace=": m.ResNet/layer1: nn.Sequential/layer1.0: m.BasicBlock/add: aten.add.Tensor"),
        _node("c"),
    )
    scopes = node_scopes(model, "dynamo", None)
    assert [n for n, _ in scopes[0]] == ["layer1", "layer1.0", "layer1.0.bn1"]
    assert [n for n, _ in scopes[1]] == ["layer1", "layer1.0"]
    assert scopes[2] == ()


def test_constant_computations_are_not_layers() -> None:
    index = GraphIndex.build(tiny_conv_relu())
    assert {"conv.weight", "conv.bias"} <= index.constants
    assert index.boundary([0]) == (["conv_out"], ["input"])


def test_tolerance_scales_with_the_tensor_not_with_each_element() -> None:
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((4, 1000)).astype(np.float32)
    reference[0, 0] = 1e-7
    noisy = reference.copy()
    noisy[0, 0] += 2e-5  # rounding noise on a near-zero element: verify's element-wise rule rejects it
    assert not compare_tensors("t", reference, noisy, rtol=1e-3, atol=1e-5).passed
    assert compare_layer("t", reference, noisy, rtol=1e-3, atol=1e-5).passed
    assert not compare_layer("t", reference, reference * 1.01, rtol=1e-3, atol=1e-5).passed


# -- ONNX vs ONNX and TensorRT -------------------------------------------------------------------------------------
def _scaled_conv(model: onnx.ModelProto, factor: float) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    weight = next(t for t in out.graph.initializer if t.name == "conv.weight")
    weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * factor, weight.name))
    return out


def _renamed(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same graph with its tensor and node names changed (as some tools do): nothing matches by name."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    new = {"conv_out": "t0", "output": "t1"}
    for node in out.graph.node:
        node.name = f"renamed_{node.name}"
        node.input[:] = [new.get(n, n) for n in node.input]
        node.output[:] = [new.get(n, n) for n in node.output]
    out.graph.output[0].name = "t1"
    return out


def test_onnx_pair_matches_by_name_then_topology(tmp_path: Path) -> None:
    base, faulty, renamed = tmp_path / "a.onnx", tmp_path / "b.onnx", tmp_path / "c.onnx"
    onnx.save(tiny_conv_relu(), str(base))
    onnx.save(_scaled_conv(tiny_conv_relu(), 1.01), str(faulty))
    onnx.save(_renamed(_scaled_conv(tiny_conv_relu(), 1.01)), str(renamed))
    healthy = pt2trt.debug_layers(base, base)
    assert healthy.origin is None and _labels(healthy) == ["conv", "relu"]
    by_name = pt2trt.debug_layers(base, faulty)
    assert by_name.comparison == "onnxruntime-vs-onnxruntime"
    assert by_name.origin_name == "conv" and by_name.origin.inputs_status == "ok"
    by_topology = pt2trt.debug_layers(base, renamed)
    assert by_topology.origin_name == "conv"
    assert "topology" in by_topology.origin.tensors[0].name


def test_tensorrt_comparison_is_skipped_with_a_reason_without_gpu(tmp_path: Path) -> None:
    reason = tensorrt_skip_reason()
    if reason is None:
        pytest.skip("TensorRT and a GPU are present: the GPU tests cover this path")
    path = tmp_path / "m.onnx"
    onnx.save(tiny_conv_relu(), str(path))
    report = pt2trt.debug_layers(path, search=LayerSearch(backend="tensorrt"))
    assert report.skipped == reason and report.origin is None and not report.layers
    assert report.to_dict()["skipped"] == reason


def test_user_errors(tmp_path: Path, gate_exports) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(tiny_conv_relu(), str(path))  # nodes without module scopes
    with pytest.raises(Pt2trtError, match="do not record which PyTorch module"):
        pt2trt.debug_layers(debug_models.gate_net(), path)
    with pytest.raises(UsageError, match="no ONNX file"):
        pt2trt.debug_layers(debug_models.gate_net())
    with pytest.raises(UsageError, match="nothing to compare it with"):
        pt2trt.debug_layers(path)
    with pytest.raises(UsageError, match="strategy"):
        pt2trt.debug_layers(debug_models.gate_net(), gate_exports["legacy"], search=LayerSearch(strategy="fast"))
    scripted = torch.jit.script(debug_models.gate_net())
    with pytest.raises(Pt2trtError, match="TorchScript model runs as one graph"):
        pt2trt.debug_layers(scripted, gate_exports["legacy"])


# -- CLI -----------------------------------------------------------------------------------------------------------
def test_cli_json_origin_and_exit_codes(cli, gate_exports) -> None:
    model = f"{DEBUG_MODELS}:gate_net"
    faulty = cli("debug", "layers", model, str(gate_exports["dynamo-faulty"]), "--json")
    assert faulty.returncode == 1, faulty.stderr
    data = json.loads(faulty.stdout)
    assert data["origin"] == "gate" and data["diverged"] is True
    assert data["origin_detail"]["class"] == "SoftplusGate"
    assert [layer["label"] for layer in data["layers"]][-1] == "(model)"
    healthy = cli("debug", "layers", model, str(gate_exports["dynamo"]))
    assert healthy.returncode == 0, healthy.stderr
    assert "no divergence" in healthy.stdout and "stem.0 (Conv2d): folded into stem.1" in healthy.stdout


def test_cli_plot_is_written_once_without_force(cli, gate_exports, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plot = tmp_path / "errors.png"
    model = f"{DEBUG_MODELS}:gate_net"
    first = cli("debug", "layers", model, str(gate_exports["legacy-faulty"]), "--plot", str(plot))
    assert first.returncode == 1 and "origin: gate" in first.stdout, first.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = plot.read_bytes()
    again = cli("debug", "layers", model, str(gate_exports["legacy-faulty"]), "--plot", str(plot))
    assert_one_line_error(again, "already exists", "--force")
    assert plot.read_bytes() == before
    bad = cli("debug", "layers", model, str(gate_exports["legacy"]), "--plot", str(tmp_path / "errors.xyz"))
    assert_one_line_error(bad, "cannot draw a plot as '.xyz'")


def test_cli_tensorrt_skip_is_one_line(cli, tmp_path: Path) -> None:
    if tensorrt_skip_reason() is None:
        pytest.skip("TensorRT and a GPU are present")
    path = tmp_path / "m.onnx"
    onnx.save(tiny_conv_relu(), str(path))
    result = cli("debug", "layers", str(path), "--backend", "tensorrt")
    assert_one_line_error(result, "ONNX Runtime vs TensorRT skipped:")


# -- real models (slow) ----------------------------------------------------------------------------------------------
REAL = {
    "resnet18": ("torchvision:resnet18", "input:1x3x224x224"),
    "mobilenet_v3_large": ("torchvision:mobilenet_v3_large", "input:1x3x224x224"),
    "deeplabv3": ("torchvision:deeplabv3_mobilenet_v3_large", "input:1x3x160x160"),
}


@pytest.fixture(scope="module")
def real_exports(tmp_path_factory: pytest.TempPathFactory):
    cache: dict[tuple[str, str], Path] = {}
    root = tmp_path_factory.mktemp("real")

    def get(key: str, exporter: str) -> Path:
        if (key, exporter) not in cache:
            spec, shape = REAL[key]
            path = root / f"{key}-{exporter}.onnx"
            pt2trt.export(spec, [parse_input(shape)], path, ExportSettings(exporter=exporter))
            cache[key, exporter] = path
        return cache[key, exporter]

    return get


def _scale_conv_of(path: Path, out: Path, factor: float = 1.05) -> Path:
    """Scale the weight of the Conv of resnet18's layer3.0.conv2 (legacy: found by node name; dynamo: weight name)."""
    model = onnx.load(str(path))
    node = next(
        n
        for n in model.graph.node
        if n.op_type == "Conv" and (n.name == "/layer3/layer3.0/conv2/Conv" or n.input[1] == "layer3.0.conv2.weight")
    )
    weight = next(t for t in model.graph.initializer if t.name == node.input[1])
    weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * factor, weight.name))
    onnx.save(model, str(out))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_resnet18_scaled_conv_weight_is_traced_to_its_module(real_exports, exporter: str, tmp_path: Path) -> None:
    path = _scale_conv_of(real_exports("resnet18", exporter), tmp_path / "faulty.onnx")
    report = pt2trt.debug_layers("torchvision:resnet18", path)
    assert report.origin_name in ("layer3.0.conv2", "layer3.0.bn2")
    assert report.origin.inputs_status == "ok" and report.origin.worst.outside_tolerance_pct > 50
    assert report.origin.folded == ["layer3.0.conv2"]  # Conv+BN folded: the conv's node computes the BN's output
    if exporter == "legacy":
        bisected = pt2trt.debug_layers("torchvision:resnet18", path, search=LayerSearch(strategy="bisect"))
        assert bisected.strategy == "bisection" and bisected.origin_name == report.origin_name
        assert np.isclose(bisected.origin.worst.max_abs_error, report.origin.worst.max_abs_error)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("key", "exporter"),
    [("resnet18", "legacy"), ("resnet18", "dynamo"), ("mobilenet_v3_large", "dynamo"), ("deeplabv3", "legacy")],
)
def test_healthy_real_models_report_no_divergence(real_exports, key: str, exporter: str) -> None:
    report = pt2trt.debug_layers(REAL[key][0], real_exports(key, exporter))
    assert report.origin is None and not report.failed, [f.to_dict() for f in report.failed[:3]]
    assert len(report.layers) > 50 and report.layers[-1].label == "(model)"
    if key == "resnet18":
        bisected = pt2trt.debug_layers(REAL[key][0], real_exports(key, exporter), search=LayerSearch(strategy="bisect"))
        assert bisected.origin is None and bisected.strategy == "bisection"


# -- one module under two names -----------------------------------------------------------------------------------
class _AliasNet(torch.nn.Module):
    """``gate`` is also ``blocks.0`` and is called as ``blocks[0]``; the head after it is ``blocks.1``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU())
        self.gate = debug_models.SoftplusGate()
        self.blocks = torch.nn.ModuleList([self.gate, torch.nn.Conv2d(8, 4, 3, padding=1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks[1](self.blocks[0](self.stem(x)))


def _alias_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return _AliasNet().eval()


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_a_module_registered_under_two_names_is_blamed(tmp_path: Path, exporter: str) -> None:
    """The dynamo exporter scopes the gate's nodes as ``blocks.0``, the hooks name it ``gate``: matched by either
    name, it is the origin (it was listed as carrying no scope, and the next module was blamed)."""
    path = tmp_path / f"{exporter}.onnx"
    if exporter == "legacy":
        with debug_models.faulty_legacy_softplus():
            pt2trt.export(_alias_net(), GATE_INPUT, path, ExportSettings(exporter="legacy"))
    else:
        table = debug_models.faulty_translation_table()
        pt2trt.export(_alias_net(), GATE_INPUT, path, ExportSettings(exporter="dynamo", custom_translation_table=table))
    report = pt2trt.debug_layers(_alias_net(), path)
    assert report.origin_name == "gate" and report.origin.cls == "SoftplusGate"
    assert "gate" not in [layer.name for layer in report.unmatched]
    assert 0.001 < report.origin.worst.max_rel_error < 0.02
