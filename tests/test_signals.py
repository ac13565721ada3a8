"""SIGTERM (what CI runners, ``timeout`` and Kubernetes send) ends a command like Ctrl-C does: the staging folder of
the file being written is removed, nothing half-written is left, one line on stderr, exit 143 (130 for SIGINT).

Each case runs ``pt2trt`` in a real subprocess and sends it a real signal while it is writing: the moment the
command's staging folder (``.NAME.tmp`` beside the output, :func:`pt2trt.files.staging_dir`) holds the staged file.
To make that moment last, the subprocess's ``pt2trt.files.publish`` (the rename a file writer ends with; for the
Triton repository, which renames folders, ``shutil.copyfile`` of the model into it) first sleeps; the command is
otherwise the real one on a real model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_bad_inputs import tiny_classifier

#: the subprocess: publish() waits (long) before it renames, so a signal arrives while the staged file exists
SCRIPT = """
import shutil, sys, time
import pt2trt.files as files

def slow(real):
    def wait_then(*args, **kwargs):
        time.sleep(120)
        return real(*args, **kwargs)
    return wait_then

files.publish = slow(files.publish)
shutil.copyfile = slow(shutil.copyfile)
from pt2trt.cli.main import main

sys.argv = ["pt2trt", *sys.argv[1:]]
main()
"""

# (id, args): every command that writes a file, writing into the working directory
WRITERS: list[tuple[str, list[str]]] = [
    ("simplify", ["simplify", "{in}/model.onnx", "-o", "out.onnx"]),
    ("edit", ["edit", "{in}/model.onnx", "--batch", "2", "-o", "out.onnx"]),
    ("quantize", ["quantize", "{in}/model.onnx", "--precision", "fp16", "-o", "out.onnx"]),
    ("export-openvino", ["export-openvino", "{in}/model.onnx", "-o", "out.xml"]),
    ("view", ["view", "{in}/model.onnx", "--svg", "out.svg"]),
    ("triton", ["triton", "{in}/model.onnx", "-o", "repo"]),
    ("predict", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "-o", "out.json"]),
    ("export", ["export", "pt2trt.models:SeedNet", "-i", "x:1x3x28x28", "-o", "out.onnx"]),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import onnx
    from PIL import Image

    folder = tmp_path_factory.mktemp("signal_inputs")
    onnx.save(tiny_classifier(), folder / "model.onnx")
    Image.new("RGB", (24, 20), (120, 60, 30)).save(folder / "img.png")
    return folder


def everything(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def staging_folders(folder: Path) -> list[Path]:
    """Staging folders (``.NAME.XXXX.tmp``) anywhere under ``folder`` that already hold a staged file."""
    return [p for p in folder.rglob(".*.tmp") if p.is_dir() and any(p.rglob("*"))]


def run_and_signal(args: list[str], cwd: Path, sig: int, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    try:
        while not staging_folders(cwd):
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"the command ended (exit {proc.returncode}) before it staged a file:\n{err}{out}")
            if time.monotonic() > deadline:
                pytest.fail("no staged file appeared in time")
            time.sleep(0.02)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize(("args"), [w[1] for w in WRITERS], ids=[w[0] for w in WRITERS])
def test_sigterm_while_writing_leaves_nothing(inputs: Path, tmp_path: Path, args: list[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    before = everything(inputs)
    result = run_and_signal([a.replace("{in}", str(inputs)) for a in args], work, signal.SIGTERM)
    assert result.returncode == 143, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1] == "pt2trt: terminated (SIGTERM)", result.stderr
    assert everything(work) == set(), f"left behind: {everything(work)}"
    assert everything(inputs) == before


@pytest.mark.slow
def test_sigint_takes_the_same_path(inputs: Path, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) while writing: the same cleanup, exit 130."""
    result = run_and_signal(["simplify", str(inputs / "model.onnx"), "-o", "out.onnx"], tmp_path, signal.SIGINT)
    assert result.returncode == 130, (result.returncode, result.stderr)
    assert "pt2trt: interrupted" in result.stderr.splitlines(), result.stderr
    assert everything(tmp_path) == set(), f"left behind: {everything(tmp_path)}"


def test_staging_dir_is_removed_when_terminated(tmp_path: Path) -> None:
    """In process: the exception SIGTERM raises (a KeyboardInterrupt) goes through staging_dir's cleanup."""
    from pt2trt.environment import Terminated
    from pt2trt.files import staging_dir

    with pytest.raises(Terminated), staging_dir(tmp_path / "model.onnx") as tmp:
        (tmp / "model.onnx").write_bytes(b"half")
        raise Terminated()
    assert list(tmp_path.iterdir()) == []


def test_the_handler_raises_once_then_restores_the_default() -> None:
    """The first SIGTERM raises Terminated; a second one ends the process at once (the default action). In a child
    process: a signal sent to the test runner itself would end the whole test session if anything went wrong."""
    code = """
import os, signal, sys, time
from pt2trt import environment
environment.handle_sigterm()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)  # the handler runs at the next bytecode boundary
    sys.exit(3)
except environment.Terminated:
    print("terminated", signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, flush=True)
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(5)
sys.exit(4)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "terminated True", (proc.stdout, proc.stderr)
    assert proc.returncode == -signal.SIGTERM, proc.returncode


@pytest.mark.slow
def test_sigterm_during_convert_leaves_no_partial_file(inputs: Path, tmp_path: Path) -> None:
    """convert writes many files into its folder: SIGTERM while one is being written leaves no staging folder and
    no half-written file (what was published before stays; here, the first file was being written)."""
    args = ["convert", "pt2trt.models:SeedNet", "-i", "x:1x3x28x28", "-o", "conv", "-q"]
    result = run_and_signal(args, tmp_path, signal.SIGTERM)
    assert result.returncode == 143, (result.returncode, result.stderr)
    assert result.stderr.splitlines()[-1] == "pt2trt: terminated (SIGTERM)", result.stderr
    left = everything(tmp_path)
    assert not [p for p in left if ".tmp" in p or Path(p).name.startswith(".")], left
    assert not (tmp_path / "conv" / "model.onnx").exists(), left


def test_an_interrupt_inside_a_native_import_exits_as_the_interrupt(
    inputs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM landing while a pybind11 module initialises (OpenVINO's, seen in CI) surfaces as ``ImportError:
    initialization failed`` raised over :class:`Terminated`: still exit 143 with one line, not a traceback."""
    import pt2trt.onnx.model as onnx_model
    from pt2trt.cli.main import run
    from pt2trt.environment import SIGTERM_EXIT, Terminated

    def interrupted_import(*args: object, **kwargs: object) -> None:
        try:
            raise Terminated()
        except Terminated:
            raise ImportError("initialization failed")  # noqa: B904  # the context is the point

    monkeypatch.setattr(onnx_model.OnnxModel, "__init__", interrupted_import)
    assert run(["check", str(inputs / "model.onnx")]) == SIGTERM_EXIT
    assert capsys.readouterr().err.strip() == "pt2trt: terminated (SIGTERM)"
