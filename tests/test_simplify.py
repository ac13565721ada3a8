"""pt2trt simplify: engines, the ONNX Runtime equivalence check, refusal of a changed model, CLI, real models."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest

import pt2trt
from pt2trt.editing import simplify as simplify_module
from pt2trt.errors import Pt2trtError
from pt2trt.settings import ExportSettings
from pt2trt.verification.equivalence import check_equivalence, default_cases
from tests.conftest import CliResult, assert_one_line_error
from tests.models import foldable_model, tiny_conv_relu

Cli = Callable[..., CliResult]


@pytest.fixture
def foldable(tmp_path: Path) -> Path:
    path = tmp_path / "foldable.onnx"
    onnx.save(foldable_model(), str(path))
    return path


@pytest.mark.parametrize("engine", ["onnxslim", "onnxsim", "both"])
def test_each_engine_folds_and_is_verified(foldable: Path, tmp_path: Path, engine: str) -> None:
    out = tmp_path / f"{engine}.onnx"
    result = pt2trt.simplify(foldable, out, engine=engine)
    assert result.ops_before == {"Mul": 1, "Identity": 1, "Add": 1}
    assert result.ops_after == {"Add": 1}
    model = onnx.load(str(out))
    assert [n.op_type for n in model.graph.node] == ["Add"]
    folded = next(onnx.numpy_helper.to_array(i) for i in model.graph.initializer)
    np.testing.assert_array_equal(folded, [0.5, 1, 6, 8])
    assert result.equivalence.passed and result.size_after == len(model.SerializeToString())
    assert {c.engine for c in result.candidates} == (
        {"onnxslim", "onnxsim", "onnxsim+onnxslim"} if engine == "both" else {engine}
    )
    assert (
        dict(p.split("=") for p in [f"{m.key}={m.value}" for m in model.metadata_props])["pt2trt.simplified_by"]
        == result.engine
    )


def test_dynamic_batch_is_checked_at_two_sizes(tmp_path: Path) -> None:
    src = tmp_path / "dyn.onnx"
    onnx.save(foldable_model("N"), str(src))
    result = pt2trt.simplify(src, tmp_path / "out.onnx")
    labels = [c.label for c in result.equivalence.cases]
    assert labels == ["x:1x4", "x:2x4"]
    model = onnx.load(str(tmp_path / "out.onnx"))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"


def _broken(model: onnx.ModelProto) -> onnx.ModelProto:
    """A 'simplifier' that folds the constants wrongly (a + b instead of a * b)."""
    out = simplify_module.run_onnxslim(model)
    for init in out.graph.initializer:
        init.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(init) + 1, init.name))
    return out


def _crash(model: onnx.ModelProto) -> onnx.ModelProto:
    raise RuntimeError("engine crashed\nsecond line")


def test_a_changed_result_is_refused_and_nothing_written(
    foldable: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(simplify_module.PASSES, "onnxslim", _broken)
    before = foldable.read_bytes()
    out = tmp_path / "out.onnx"
    with pytest.raises(Pt2trtError, match=r"no simplification of .* is equivalent, nothing written") as info:
        pt2trt.simplify(foldable, out, engine="onnxslim")
    assert "output 'y' differs on x:1x4" in str(info.value)
    assert not out.exists() and foldable.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foldable.onnx"]  # no staging leftovers


def test_both_keeps_an_equivalent_candidate_when_another_breaks(
    foldable: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(simplify_module.PASSES, "onnxslim", _broken)
    monkeypatch.setitem(simplify_module.CANDIDATES, "both", [("onnxslim",), ("onnxsim",)])
    result = pt2trt.simplify(foldable, tmp_path / "out.onnx")
    status = {c.engine: c.accepted for c in result.candidates}
    assert status == {"onnxslim": False, "onnxsim": True} and result.engine == "onnxsim"


def test_a_crashing_engine_is_one_failed_candidate(
    foldable: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(simplify_module.PASSES, "onnxsim", _crash)
    result = pt2trt.simplify(foldable, tmp_path / "out.onnx")
    failed = {c.engine: c.error for c in result.candidates if c.error}
    assert failed == {"onnxsim": "RuntimeError: engine crashed", "onnxsim+onnxslim": "RuntimeError: engine crashed"}
    assert result.engine == "onnxslim"


def test_check_equivalence_reports_the_worst_output() -> None:
    model = tiny_conv_relu()
    changed = tiny_conv_relu()
    changed.graph.initializer[1].CopyFrom(
        onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(changed.graph.initializer[1]) + 0.5, "conv.bias")
    )
    assert check_equivalence(model, model).passed
    report = check_equivalence(model, changed)
    assert not report.passed and report.max_abs_error == pytest.approx(0.5, abs=1e-5)
    assert report.summary().startswith("output 'output' differs on input:1x3x8x8: max abs error 0.5")
    assert len(default_cases(model)) == 1


def test_cli_simplify(cli: Cli, foldable: Path, tmp_path: Path) -> None:
    result = cli("simplify", str(foldable))
    assert result.returncode == 0, result.stderr
    default = tmp_path / "foldable-sim.onnx"
    assert default.is_file()
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith(f"simplified {default} with ") and "3 -> 1 nodes" in lines[-1]
    assert any(line.replace("│", " ").split()[:4] == ["Identity", "1", "0", "-1"] for line in lines)
    assert_one_line_error(cli("simplify", str(foldable)), "already exists", "--force")
    data = json.loads(cli("simplify", str(foldable), "--force", "--engine", "onnxsim", "--json").stdout)
    assert data["engine"] == "onnxsim" and data["nodes_after"] == 1 and data["equivalence"]["passed"]
    assert_one_line_error(cli("simplify", str(tmp_path / "missing.onnx")), "ONNX file not found")
    assert_one_line_error(cli("simplify", str(foldable), "-o", str(tmp_path / "x.txt")), "does not end in .onnx")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    cache: dict[str, Path] = {}
    specs = {"resnet18": "input:1x3x224x224", "ssdlite320_mobilenet_v3_large": "images:1x3x320x320"}

    def get(name: str) -> Path:
        if name not in cache:
            path = tmp_path_factory.mktemp("simplify") / f"{name}.onnx"
            exporter = "legacy" if name.startswith("ssdlite") else "auto"  # dynamo fails on SSDlite (slowly)
            pt2trt.export(
                f"torchvision:{name}", [pt2trt.parse_input(specs[name])], path, ExportSettings(exporter=exporter)
            )
            cache[name] = path
        return cache[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "engine"), [("resnet18", "both"), ("ssdlite320_mobilenet_v3_large", "onnxslim")], ids=["r18", "ssdlite"]
)
def test_real_models(exported: Callable[[str], Path], tmp_path: Path, name: str, engine: str) -> None:
    src = exported(name)
    out = tmp_path / "sim.onnx"
    result = pt2trt.simplify(src, out, engine=engine)
    assert result.nodes_after <= min(c.nodes for c in result.candidates if c.accepted)
    assert result.nodes_after <= result.nodes_before
    independent = check_equivalence(src, out, seed=7)  # fresh inputs, files read back from disk
    assert independent.passed, independent.summary()
    assert pt2trt.check(out).passed
