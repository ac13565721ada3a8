"""What the CLI does with bad input: one line on stderr naming the problem, the right exit code, no traceback, and
no output file (or temporary file) left behind by a failed command.

The tests run ``pt2trt`` in this process (``pt2trt.cli.main.run``); the few whose subject is the process itself
(import-time behaviour, interrupts) start a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest

from pt2trt.errors import Pt2trtError
from tests.conftest import CliResult, assert_one_line_error
from tests.models import tiny_conv_relu

Cli = Callable[..., CliResult]

NETS = '''
import pathlib

import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x))


class Exploding(nn.Module):
    def __init__(self):
        super().__init__()
        raise ValueError("constructor exploded on purpose")


class Pair(nn.Module):
    def forward(self, x, y):
        return x + y


class FailsWhenExported(nn.Module):
    """Runs once eagerly (export checks the model runs), then refuses: every exporter fails."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("refusing to be exported")
        return x * 2


class Witness(Tiny):
    """Leaves built.txt beside this file when constructed."""

    def __init__(self):
        super().__init__()
        (pathlib.Path(__file__).parent / "built.txt").write_text("built")
'''


@pytest.fixture
def nets(tmp_path: Path) -> Path:
    path = tmp_path / "nets.py"
    path.write_text(NETS)
    return path


def _listing(directory: Path) -> list[str]:
    """Everything under ``directory`` (hidden temp files included), bytecode caches left out."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if "__pycache__" not in p.parts)


# -- ONNX files that are not ONNX ----------------------------------------------------------------------------------


@pytest.fixture
def bad_onnx(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.onnx"
    onnx.save(tiny_conv_relu(), str(good))
    data = good.read_bytes()
    files = {
        "missing": tmp_path / "missing.onnx",
        "text": tmp_path / "readme.onnx",
        "truncated": tmp_path / "half.onnx",
    }
    files["text"].write_text("# not a model\nsee https://onnx.ai\n")
    files["truncated"].write_bytes(data[: len(data) // 2])
    return files


EXPECTED = {
    "missing": "ONNX file not found",
    "text": "is not a valid ONNX file",
    "truncated": "is not a valid ONNX file",
}


@pytest.mark.parametrize("kind", ["missing", "text", "truncated"])
@pytest.mark.parametrize("command", ["check", "inspect", "verify"])
def test_bad_onnx_file(cli: Cli, bad_onnx: dict[str, Path], command: str, kind: str) -> None:
    path = bad_onnx[kind]
    args = [command, str(path)] if command != "verify" else [command, "pt2trt.models:SeedNet", str(path)]
    result = cli(*args)
    assert result.returncode == 1
    assert_one_line_error(result, "pt2trt: error: ", str(path), EXPECTED[kind])
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["check", "inspect"])
def test_bad_onnx_file_with_json_prints_no_json(cli: Cli, bad_onnx: dict[str, Path], command: str) -> None:
    result = cli(command, "--json", str(bad_onnx["truncated"]))
    assert_one_line_error(result, "truncated")
    assert result.stdout == ""


# -- export: the model -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("{dir}/nothere.py:Tiny", ["model file not found", "nothere.py"]),
        ("{dir}/nothere.pt", ["model file not found", "nothere.pt"]),
    ],
)
def test_export_missing_model_file(cli: Cli, tmp_path: Path, spec: str, fragments: list[str]) -> None:
    result = cli("export", spec.format(dir=tmp_path), "-i", "x:1x3x8x8", "-o", str(tmp_path / "out.onnx"))
    assert result.returncode == 1
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "out.onnx").exists()


def test_export_name_not_in_file(cli: Cli, nets: Path) -> None:
    result = cli("export", f"{nets}:tiny", "-i", "x:1x3x8x8", "-o", str(nets.parent / "out.onnx"))
    assert result.returncode == 1
    assert_one_line_error(result, "'tiny' is not defined in", "nets.py", "Did you mean 'Tiny'?")


def test_export_constructor_raises(cli: Cli, nets: Path) -> None:
    result = cli("export", f"{nets}:Exploding", "-i", "x:1x3x8x8", "-o", str(nets.parent / "out.onnx"))
    assert result.returncode == 1
    assert_one_line_error(result, "Exploding", "ValueError: constructor exploded on purpose")


@pytest.mark.parametrize(
    ("model", "inputs", "fragment"),
    [
        ("Tiny", ["x:1x3x8x8", "y:1x3x8x8"], "takes 1 input(s) (x) but 2 were given"),
        ("Pair", ["x:1x3"], "takes 2 input(s) (x, y) but 1 was given"),
    ],
)
def test_export_wrong_number_of_inputs(cli: Cli, nets: Path, model: str, inputs: list[str], fragment: str) -> None:
    args = [a for spec in inputs for a in ("-i", spec)]
    result = cli("export", f"{nets}:{model}", *args, "-o", str(nets.parent / "out.onnx"))
    assert result.returncode != 0
    assert_one_line_error(result, fragment, "--input")
    assert not (nets.parent / "out.onnx").exists()


def test_export_without_inputs(cli: Cli, nets: Path) -> None:
    result = cli("export", f"{nets}:Tiny", "-o", str(nets.parent / "out.onnx"))
    assert result.returncode == 2
    assert_one_line_error(result, "no input shapes given")


def test_export_pickled_module_needs_allow_pickle(cli: Cli, tmp_path: Path) -> None:
    import torch

    from pt2trt.models import SeedNet
    from pt2trt.pytorch.sources import load_model

    path = tmp_path / "whole_model.pt"
    torch.save(SeedNet(), path)
    result = cli("export", str(path), "-i", "input:1x3x28x28", "-o", str(tmp_path / "out.onnx"))
    assert result.returncode == 1
    assert_one_line_error(result, "whole_model.pt", "--allow-pickle", "--weights")
    assert not (tmp_path / "out.onnx").exists()
    assert isinstance(load_model(str(path), allow_pickle=True).module, SeedNet)  # the opt-in works


@pytest.fixture
def state_dicts(tmp_path: Path) -> dict[str, Path]:
    import torch

    linear = tmp_path / "linear.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), linear)
    wide = tmp_path / "wide.pt"
    conv = torch.nn.Conv2d(3, 8, 3, padding=1)  # 8 filters where Tiny has 4
    torch.save({"conv.weight": conv.weight.detach(), "conv.bias": conv.bias.detach()}, wide)
    return {"linear": linear, "wide": wide}


@pytest.mark.parametrize(
    ("weights", "fragments"),
    [
        ("linear", ["do not match the model", "2 missing (e.g. conv.weight)", "2 unexpected (e.g. weight)"]),
        ("wide", ["do not match the model", "conv.weight: [8, 3, 3, 3] vs [4, 3, 3, 3]"]),
    ],
)
def test_export_weights_do_not_match(
    cli: Cli, nets: Path, state_dicts: dict[str, Path], weights: str, fragments: list[str]
) -> None:
    out = nets.parent / "out.onnx"
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", "--weights", str(state_dicts[weights]), "-o", str(out))
    assert result.returncode == 1
    assert_one_line_error(result, state_dicts[weights].name, *fragments)
    assert not out.exists()


def test_export_weights_not_a_torch_file(cli: Cli, nets: Path) -> None:
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", "--weights", str(nets), "-o", str(nets.parent / "o.onnx"))
    assert_one_line_error(result, "nets.py")
    assert "--allow-pickle" not in result.stderr


# -- export: arguments ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("input:1xx3x8x8", "'1xx3x8x8' is not a shape"),
        ("input:1x3x8x8:float17", "unknown dtype 'float17'"),
        ("input:", "malformed input spec 'input:'"),
        ("input:1x0x8x8", "zero-sized dimension"),
    ],
)
def test_export_malformed_input_spec(cli: Cli, nets: Path, spec: str, fragment: str) -> None:
    out = nets.parent / "out.onnx"
    result = cli("export", f"{nets}:Tiny", "--input", spec, "-o", str(out))
    assert result.returncode == 2
    assert_one_line_error(result, "pt2trt: error: invalid --input:", fragment)
    assert not out.exists()


def test_verify_malformed_input_spec(cli: Cli, bad_onnx: dict[str, Path]) -> None:
    result = cli("verify", "pt2trt.models:SeedNet", str(bad_onnx["truncated"]), "-i", "input:axb")
    assert result.returncode == 2  # the argument is rejected before the file is opened
    assert_one_line_error(result, "invalid --input:", "'axb' is not a shape")


def test_click_usage_error_exit_code_and_value(cli: Cli, nets: Path) -> None:
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", "--opset", "abc")
    assert result.returncode == 2
    assert "'abc' is not a valid integer" in result.stderr
    assert "--opset" in result.stderr
    assert "Traceback" not in result.stderr


def test_click_usage_error_is_one_line(cli: Cli, nets: Path) -> None:
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", "--opset", "abc")
    assert result.returncode == 2
    assert_one_line_error(result, "pt2trt: error:", "'abc' is not a valid integer")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--opset", "99"], ["opset 99 cannot be exported by torch", "dynamo exporter 7-", "legacy exporter 7-"]),
        (["--exporter", "legacy", "--opset", "22"], ["opset 22 cannot be exported by torch", "legacy exporter 7-"]),
    ],
)
def test_export_opset_out_of_range(cli: Cli, nets: Path, extra: list[str], fragments: list[str]) -> None:
    out = nets.parent / "out.onnx"
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", *extra, "-o", str(out))
    assert result.returncode == 2
    assert_one_line_error(result, *fragments)
    if "legacy" in extra:
        assert "dynamo" not in result.stderr  # only the requested exporter is named
    assert not out.exists()


def test_export_output_is_not_onnx(cli: Cli, nets: Path) -> None:
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", "-o", str(nets.parent / "model.txt"))
    assert result.returncode == 2
    assert_one_line_error(result, "does not end in .onnx")
    assert not (nets.parent / "model.txt").exists()


# -- export: the output file ---------------------------------------------------------------------------------------


def test_export_refuses_to_overwrite(cli: Cli, nets: Path) -> None:
    out = nets.parent / "out.onnx"
    out.write_bytes(b"precious")
    before = _listing(nets.parent)
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", "-o", str(out))
    assert result.returncode == 1
    assert_one_line_error(result, str(out), "already exists", "--force")
    assert out.read_bytes() == b"precious"
    assert _listing(nets.parent) == before


def test_export_refuses_to_overwrite_before_building_the_model(cli: Cli, nets: Path) -> None:
    out = nets.parent / "out.onnx"
    out.write_bytes(b"precious")
    result = cli("export", f"{nets}:Witness", "-i", "x:1x3x8x8", "-o", str(out))
    assert_one_line_error(result, "already exists")
    assert not (nets.parent / "built.txt").exists()


def test_export_force_overwrites(cli: Cli, nets: Path) -> None:
    out = nets.parent / "out.onnx"
    out.write_bytes(b"precious")
    result = cli("export", f"{nets}:Tiny", "-i", "x:1x3x8x8", "--exporter", "legacy", "-o", str(out), "--force")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"exported {out} (")
    model = onnx.load(str(out))
    assert [i.name for i in model.graph.input] == ["x"]
    assert {p.key: p.value for p in model.metadata_props}["pt2trt.model"] == f"{nets}:Tiny"
    assert _listing(nets.parent) == ["nets.py", "out.onnx"]  # no staging directory left


def test_failed_export_leaves_nothing_behind(cli: Cli, nets: Path) -> None:
    out_dir = nets.parent / "out"
    out_dir.mkdir()
    result = cli(
        "export", f"{nets}:FailsWhenExported", "-i", "x:1x3", "--exporter", "legacy", "-o", str(out_dir / "m.onnx")
    )
    assert result.returncode == 1
    assert_one_line_error(result, "export failed with legacy", "RuntimeError: refusing to be exported")
    assert _listing(out_dir) == []


def test_failed_export_with_force_keeps_the_old_file(cli: Cli, nets: Path) -> None:
    out = nets.parent / "m.onnx"
    out.write_bytes(b"previous export")
    result = cli("export", f"{nets}:FailsWhenExported", "-i", "x:1x3", "--exporter", "legacy", "-o", str(out), "-f")
    assert_one_line_error(result, "refusing to be exported")
    assert out.read_bytes() == b"previous export"
    assert _listing(nets.parent) == ["m.onnx", "nets.py"]


# -- writing files safely (the API under the CLI) -----------------------------------------------------------------


def test_save_failure_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that dies half way (disk full) publishes nothing and keeps the previous file."""
    from pt2trt.onnx.load import save_onnx

    def half_then_fail(model: onnx.ModelProto, path: str, *args: object, **kwargs: object) -> None:
        data = model.SerializeToString()
        Path(path).write_bytes(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    out = tmp_path / "model.onnx"
    out.write_bytes(b"previous")
    monkeypatch.setattr(onnx, "save_model", half_then_fail)
    with pytest.raises(Pt2trtError, match=r"writing .*model\.onnx failed: No space left on device"):
        save_onnx(tiny_conv_relu(), out)
    assert out.read_bytes() == b"previous"
    assert _listing(tmp_path) == ["model.onnx"]


def test_save_succeeds_atomically(tmp_path: Path) -> None:
    from pt2trt.onnx.load import save_onnx

    out = tmp_path / "sub" / "model.onnx"
    size = save_onnx(tiny_conv_relu(), out)
    assert size == out.stat().st_size
    assert onnx.load(str(out)).graph.name == "tiny_conv_relu"
    assert _listing(tmp_path) == ["sub", "sub/model.onnx"]


def test_unwritable_output_directory_is_a_user_error(tmp_path: Path) -> None:
    from pt2trt.files import staging_dir

    if not Path("/proc/self").exists():
        pytest.skip("needs Linux /proc")
    with pytest.raises(Pt2trtError, match=r"cannot write /proc/model\.onnx"), staging_dir("/proc/model.onnx"):
        pass


def test_check_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from pt2trt.files import check_writable

    (tmp_path / "dir.onnx").mkdir()
    for force in (False, True):  # a directory is never overwritten, so --force is not the advice
        with pytest.raises(Pt2trtError, match="is a directory") as info:
            check_writable(tmp_path / "dir.onnx", force=force)
        assert "--force" not in str(info.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(Pt2trtError, match="is not a directory"):
        check_writable(tmp_path / "file" / "model.onnx")
    assert check_writable(tmp_path / "new" / "model.onnx") == tmp_path / "new" / "model.onnx"
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(Pt2trtError, match="is not writable"):
        check_writable(tmp_path / "model.onnx")


# -- help and version stay instant ---------------------------------------------------------------------------------

PROBE = """
import runpy, sys
sys.argv = ["pt2trt", *sys.argv[1:]]
try:
    runpy.run_module("pt2trt.cli.main", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
heavy = sorted(m for m in ("torch", "onnxruntime", "onnx", "numpy") if m in sys.modules)
sys.stderr.write(f"EXIT={code} HEAVY={','.join(heavy)}")
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["-h"], ["--version"], ["export", "--help"], ["check", "--help"], ["verify", "--help"]]
)
def test_help_and_version_import_no_heavy_library(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert proc.stderr.strip().endswith("EXIT=0 HEAVY="), proc.stderr
    if args == ["--version"]:
        from pt2trt import __version__

        assert proc.stdout.strip() == f"pt2trt, version {__version__}"
    else:
        assert "Usage: pt2trt" in proc.stdout


def test_help_lists_every_command(cli: Cli) -> None:
    result = cli("--help")
    assert result.returncode == 0
    for command in ("export", "check", "inspect", "verify"):
        assert f"  {command} " in result.stdout


def test_unknown_command(cli: Cli) -> None:
    result = cli("frobnicate", "x.onnx")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_json_error_output_is_not_json(cli: Cli, bad_onnx: dict[str, Path]) -> None:
    """Scripts reading --json get nothing on stdout, the reason on stderr and exit 1."""
    result = cli("inspect", "--json", str(bad_onnx["missing"]))
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)
    assert result.returncode == 1
