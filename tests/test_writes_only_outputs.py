"""A pt2trt command writes its outputs and nothing else: no telemetry store, no device id, no library cache outside
pt2trt's one cache folder, nothing left in ``$TMPDIR`` (``pt2trt.environment``).

Every command of the CLI (``pt2trt.cli.main.COMMANDS``) runs on real inputs in a fresh interpreter with ``HOME``
and ``TMPDIR`` pointed at empty folders and the variables that would hide the libraries' defaults removed (``CI``
turns OpenVINO's telemetry off by itself; ``ORT_DISABLE_TELEMETRY`` and friends are what pt2trt sets). Afterwards
the working folder holds the command's outputs only, ``TMPDIR`` is empty, and ``HOME`` holds nothing but pt2trt's
cache folder (``~/.cache/pt2trt``: matplotlib's font list); with ``PT2TRT_CACHE_DIR=off`` not even that. Without
pt2trt's set-up, ONNX Runtime 1.31 writes a device id and a SQLite database under
``~/.cache/Microsoft/DeveloperTools/.onnxruntime``, OpenVINO ``~/intel/openvino_ga_cid``, torch
``$TMPDIR/torchinductor_$USER``, matplotlib ``~/.cache/matplotlib`` and ``~/.config/matplotlib``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx
import pytest
from PIL import Image

from tests.test_bad_inputs import tiny_classifier

#: variables that pt2trt sets itself, or that switch a library's telemetry off on their own (CI=true: OpenVINO's)
CLEARED = (
    "ORT_DISABLE_TELEMETRY", "TORCHINDUCTOR_CACHE_DIR", "MPLCONFIGDIR", "PT2TRT_CACHE_DIR", "PT2TRT_TELEMETRY",
    "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "CI", "TF_BUILD", "JENKINS_URL", "TRITON_CACHE_DIR",
)  # fmt: skip

# (command, args, top-level names the command writes in its working folder). "{in}" is the inputs folder.
RUNS: list[tuple[str, list[str], set[str]]] = [
    ("check", ["{in}/model.onnx"], set()),
    ("inspect", ["{in}/model.onnx"], set()),
    ("predict", ["{in}/model.onnx", "{in}/img.png", "--task", "classify", "-o", "p.json"], {"p.json"}),
    ("compare", ["{in}/model.onnx", "{in}/model.onnx", "{in}/img.png", "--task", "classify"], set()),
    ("eval", ["{in}/model.onnx", "--data", "{in}/labelled", "--task", "classify"], set()),
    ("debug", ["layers", "{in}/model.onnx", "{in}/model.onnx", "--plot", "d.png"], {"d.png"}),
    ("build", ["{in}/model.onnx", "-o", "m.engine", "--dry-run", "--trt-version", "10"], set()),
    ("simplify", ["{in}/model.onnx", "-o", "s.onnx"], {"s.onnx"}),
    ("edit", ["{in}/model.onnx", "--batch", "2", "-o", "e.onnx"], {"e.onnx"}),
    ("view", ["{in}/model.onnx", "--svg", "g.svg"], {"g.svg"}),
    ("triton", ["{in}/model.onnx", "-o", "repo"], {"repo"}),
    ("export-openvino", ["{in}/model.onnx", "-o", "ov"], {"ov"}),
    ("quantize", ["{in}/model.onnx", "--precision", "fp16", "-o", "q.onnx"], {"q.onnx"}),
    ("bench", ["{in}/model.onnx", "-b", "onnxruntime,openvino", "--duration", "0.05", "--iterations", "3", "-q"],
     set()),
    ("export", ["pt2trt.models:SeedNet", "-i", "x:1x3x28x28", "-o", "x.onnx"], {"x.onnx"}),
    ("verify", ["pt2trt.models:SeedNet", "{in}/seednet.onnx"], set()),
    ("convert", ["pt2trt.models:SeedNet", "-i", "x:1x3x28x28", "-o", "conv", "-q", "--bench-duration", "0.05"],
     {"conv"}),
    ("sweep", ["{in}/zoo.yaml", "-o", "zoo", "--workers", "1", "-q"], {"zoo"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bad-input corpus's tiny classifier, a picture, and SeedNet exported (for verify)."""
    folder = tmp_path_factory.mktemp("fs_inputs")
    onnx.save(tiny_classifier(), folder / "model.onnx")
    Image.new("RGB", (24, 20), (120, 60, 30)).save(folder / "img.png")
    (folder / "labelled" / "zebra").mkdir(parents=True)
    Image.new("RGB", (24, 20), (120, 60, 30)).save(folder / "labelled" / "zebra" / "a.png")
    from pt2trt.pytorch.export import export
    from pt2trt.shapes import parse_input

    export("pt2trt.models:SeedNet", [parse_input("x:1x3x28x28")], folder / "seednet.onnx")
    (folder / "zoo.yaml").write_text(  # one model, converted by a worker process (sweep's own entries: convert's keys)
        "models:\n  - name: seednet\n    model: pt2trt.models:SeedNet\n    input: x:1x3x28x28\n"
        "    bench_duration: 0.05\n"
    )
    return folder


def everything(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run_isolated(command: str, args: list[str], inputs: Path, base: Path, **extra: str) -> dict[str, list[str]]:
    """Run ``pt2trt COMMAND ARGS`` with HOME and TMPDIR in empty folders under ``base``; what each folder holds
    afterwards (``work``: the working folder)."""
    folders = {name: base / name for name in ("home", "tmp", "work")}
    for folder in folders.values():
        folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(HOME=str(folders["home"]), TMPDIR=str(folders["tmp"]), PYTHONWARNINGS="ignore", **extra)
    argv = [a.replace("{in}", str(inputs)) for a in [command, *args]]
    result = subprocess.run(
        [sys.executable, "-m", "pt2trt.cli.main", *argv], cwd=folders["work"], env=env, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, f"pt2trt {' '.join(argv)}: exit {result.returncode}\n{result.stderr}"
    return {name: everything(folder) for name, folder in folders.items()}


def outside_pt2trt_cache(home: list[str]) -> list[str]:
    cache = os.path.join(".cache", "pt2trt")
    return [p for p in home if p not in (".cache", cache) and not p.startswith(cache + os.sep)]


@pytest.mark.slow
@pytest.mark.parametrize(("command", "args", "outputs"), RUNS, ids=[r[0] for r in RUNS])
def test_a_command_writes_its_outputs_only(
    inputs: Path, tmp_path: Path, command: str, args: list[str], outputs: set[str]
) -> None:
    found = run_isolated(command, args, inputs, tmp_path)
    assert found["tmp"] == [], f"left in TMPDIR: {found['tmp']}"
    assert outside_pt2trt_cache(found["home"]) == [], f"written under HOME: {found['home']}"
    written = {p.split(os.sep)[0] for p in found["work"]}
    assert written == outputs, f"expected {outputs} in the working folder, found {found['work']}"
    hidden = [p for p in found["work"] if any(part.startswith(".") for part in Path(p).parts)]
    assert hidden == [], f"hidden (temporary) files left: {hidden}"


@pytest.mark.slow
def test_with_the_cache_off_nothing_at_all_is_written_outside_the_outputs(inputs: Path, tmp_path: Path) -> None:
    """``PT2TRT_CACHE_DIR=off``: matplotlib's font list goes to a temporary folder, removed at exit."""
    found = run_isolated("debug", ["layers", "{in}/model.onnx", "{in}/model.onnx", "--plot", "d.png"], inputs,
                         tmp_path, PT2TRT_CACHE_DIR="off")  # fmt: skip
    assert found["home"] == [] and found["tmp"] == [], found
    assert found["work"] == ["d.png"]


def test_every_command_is_watched() -> None:
    from pt2trt.cli.main import COMMANDS

    assert set(COMMANDS) <= {r[0] for r in RUNS}, f"commands not run here: {set(COMMANDS) - {r[0] for r in RUNS}}"


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """``os.environ`` and ``sys.modules`` as a fresh process has them, restored afterwards."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "openvino_telemetry", raising=False)
    monkeypatch.delitem(sys.modules, "torch._dynamo", raising=False)
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    return monkeypatch


def test_prepare_turns_telemetry_off_and_moves_the_caches(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pt2trt import environment

    clean_environment.setenv("PT2TRT_CACHE_DIR", str(tmp_path / "cache"))
    environment.prepare()
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1"
    assert sys.modules["openvino_telemetry"] is None  # OpenVINO falls back to its no-op stub
    with pytest.raises(ImportError):
        import openvino_telemetry  # noqa: F401
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "cache" / "matplotlib")
    torch_cache = Path(os.environ["TORCHINDUCTOR_CACHE_DIR"])
    assert torch_cache.parent == Path(tempfile.gettempdir()) and torch_cache.name.startswith("pt2trt-torch-")
    assert not torch_cache.exists()  # named, not made: torch makes it when it imports _dynamo
    torch_cache.mkdir()
    environment.cleanup()
    assert not torch_cache.exists()


def test_the_users_choices_are_kept_and_telemetry_is_opt_in(clean_environment: pytest.MonkeyPatch) -> None:
    from pt2trt import environment

    clean_environment.setenv("PT2TRT_TELEMETRY", "1")
    clean_environment.setenv("TORCHINDUCTOR_CACHE_DIR", "/somewhere/mine")
    clean_environment.setenv("MPLCONFIGDIR", "/somewhere/mpl")
    environment.prepare()
    assert "ORT_DISABLE_TELEMETRY" not in os.environ
    assert "openvino_telemetry" not in sys.modules
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == "/somewhere/mine"
    assert os.environ["MPLCONFIGDIR"] == "/somewhere/mpl"

    clean_environment.delenv("PT2TRT_TELEMETRY")
    clean_environment.setenv("ORT_DISABLE_TELEMETRY", "0")  # the user's explicit choice wins
    environment.prepare()
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "0"


def test_the_cache_folder(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pt2trt.environment import cache_dir

    clean_environment.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "pt2trt"
    clean_environment.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "pt2trt"
    clean_environment.setenv("PT2TRT_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    for off in ("off", "0", "none", ""):
        clean_environment.setenv("PT2TRT_CACHE_DIR", off)
        assert cache_dir() is None


@pytest.mark.slow
def test_the_watch_sees_what_the_libraries_write_when_allowed(inputs: Path, tmp_path: Path) -> None:
    """The opt-in (``PT2TRT_TELEMETRY=1``) leaves ONNX Runtime as it ships: its telemetry store appears under HOME.
    This is also the proof that the watch above would see a library writing."""
    found = run_isolated("inspect", ["{in}/model.onnx"], inputs, tmp_path, PT2TRT_TELEMETRY="1")
    assert any(p.endswith(".onnxruntime") for p in found["home"]), found
