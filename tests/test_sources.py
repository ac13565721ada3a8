"""Model sources: file.py:Name, package.module:Name, torchvision:, timm:, TorchScript, ExportedProgram, --weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pt2trt.errors import Pt2trtError
from pt2trt.models import SeedNet
from pt2trt.pytorch.sources import load_model

USER_FILE = """
import torch
from torch import nn

class Doubler(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), 2.0))

    def forward(self, x, bias=None):
        return x * self.scale if bias is None else x * self.scale + bias

def build():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU())

class NeedsArgs(nn.Module):
    def __init__(self, width):
        super().__init__()

def not_a_model():
    return 42

NUMBER = 3
"""


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_models.py"
    path.write_text(USER_FILE)
    return path


def test_python_file_class_and_function(user_file: Path) -> None:
    loaded = load_model(f"{user_file}:Doubler")
    assert loaded.kind == "python-file" and not loaded.module.training
    assert loaded.parameters == ["x", "bias"] and loaded.required == 1
    assert torch.equal(loaded.module(torch.ones(2)), torch.full((2,), 2.0))
    built = load_model(f"{user_file}:build")
    assert isinstance(built.module, torch.nn.Sequential)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Missing", "'Missing' is not defined"),
        ("doubler", "Did you mean 'Doubler'"),
        ("NeedsArgs", "instantiating"),
        ("not_a_model", "returned a int, not an nn.Module"),
        ("NUMBER", "is a int, not an nn.Module"),
    ],
)
def test_python_file_errors(user_file: Path, name: str, fragment: str) -> None:
    with pytest.raises(Pt2trtError, match=fragment.replace("(", r"\(")):
        load_model(f"{user_file}:{name}")


def test_module_spec_and_input_count() -> None:
    loaded = load_model("pt2trt.models:TwoInputNet")
    assert loaded.input_names(2) == ["x", "y"]
    loaded.check_input_count(2)
    with pytest.raises(Pt2trtError, match="takes 2 input"):
        loaded.check_input_count(1)
    with pytest.raises(Pt2trtError, match="cannot import module"):
        load_model("no_such_package.models:Net")


def test_random_weights_are_reproducible_across_loads() -> None:
    a = load_model("pt2trt.models:SeedNet").module.state_dict()
    b = load_model("pt2trt.models:SeedNet").module.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = load_model("pt2trt.models:SeedNet", init_seed=1).module.state_dict()
    assert not torch.equal(a["fc.weight"], c["fc.weight"])


@pytest.mark.parametrize("name", ["resnet18", "ssdlite320_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"])
def test_torchvision_builders_without_downloads(name: str) -> None:
    loaded = load_model(f"torchvision:{name}")  # would try to download backbone weights if asked to
    assert loaded.kind == "torchvision" and not loaded.module.training


def test_torchvision_unknown_name_suggests() -> None:
    with pytest.raises(Pt2trtError, match="Did you mean resnet18"):
        load_model("torchvision:resnet19")


def test_timm_model() -> None:
    pytest.importorskip("timm")
    loaded = load_model("timm:resnet10t")
    assert loaded.module(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
    with pytest.raises(Pt2trtError, match="timm"):
        load_model("timm:not_a_real_model_name")


def test_torchscript_and_exported_program(tmp_path: Path) -> None:
    model = SeedNet().eval()
    x = torch.randn(1, 3, 28, 28)
    scripted = tmp_path / "seed.ts"
    torch.jit.save(torch.jit.trace(model, x), str(scripted))
    loaded = load_model(str(scripted))
    assert loaded.kind == "file" and loaded.parameters == ["x"]
    torch.testing.assert_close(loaded.module(x), model(x))

    program = tmp_path / "seed.pt2"
    torch.export.save(torch.export.export(model, (x,)), str(program))
    loaded = load_model(str(program))
    assert loaded.kind == "exported-program"
    torch.testing.assert_close(loaded.module(x), model(x))


def test_weights_are_loaded_without_unpickling_code(tmp_path: Path) -> None:
    trained = SeedNet()
    with torch.no_grad():
        trained.fc.bias.fill_(0.5)
    state = tmp_path / "weights.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in trained.state_dict().items()}}, state)
    loaded = load_model("pt2trt.models:SeedNet", weights=state)
    assert torch.equal(loaded.module.fc.bias, torch.full((10,), 0.5))

    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, wrong)
    with pytest.raises(Pt2trtError, match="do not match the model"):
        load_model("pt2trt.models:SeedNet", weights=wrong)


def test_pickled_module_needs_allow_pickle(tmp_path: Path) -> None:
    path = tmp_path / "whole_model.pt"
    torch.save(SeedNet(), path)
    with pytest.raises(Pt2trtError, match="--allow-pickle"):
        load_model(str(path))
    assert isinstance(load_model(str(path), allow_pickle=True).module, SeedNet)


def test_state_dict_given_as_model_points_to_weights(tmp_path: Path) -> None:
    path = tmp_path / "state.pt"
    torch.save(SeedNet().state_dict(), path)
    with pytest.raises(Pt2trtError, match="--weights"):
        load_model(str(path))


def test_missing_model_file() -> None:
    with pytest.raises(Pt2trtError, match="not found"):
        load_model("does/not/exist.py:Net")
    with pytest.raises(Pt2trtError, match="not found"):
        load_model("missing.pt2")
