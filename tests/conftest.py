"""Shared fixtures: run the CLI as a user would, and the test models of tests/models.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Tests must not learn from (or teach) the user's exporter memory (pytorch/exporter_memory.py); the test of that
# memory points it at a temporary folder of its own.
os.environ["PT2TRT_CACHE_DIR"] = "off"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> CliResult:
    """Run ``pt2trt ARGS`` in this process, as the entry point does (``pt2trt.cli.main.run``: exit code, one-line
    errors), with stdout and stderr captured apart (click's CliRunner isolation) and a 160-column terminal.
    ``timeout`` is for the process runner's signature: an in-process run is not interrupted."""
    import contextlib
    import warnings

    from click.testing import CliRunner

    from pt2trt.cli.main import run

    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        streams = stack.enter_context(CliRunner().isolation(env={"COLUMNS": "160"}))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")  # what PYTHONWARNINGS=ignore does for the process runner
        code = run(args)
        sys.stdout.flush()  # the isolated streams buffer: flush before reading them
        sys.stderr.flush()
    stdout, stderr = (s.getvalue().decode("utf-8", "replace") for s in streams[:2])
    return CliResult(code, stdout, stderr)


def run_cli_process(*args: str, cwd: Path | None = None, timeout: float = 600) -> CliResult:
    """Run ``pt2trt ARGS`` in a fresh interpreter: for tests whose subject is the process itself (import-time
    behaviour, signals, what is left on stderr at exit)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "160"}
    proc = subprocess.run(
        [sys.executable, "-m", "pt2trt.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(autouse=True)
def _pillow_unpatched() -> Iterator[None]:
    """Importing ultralytics (a reference in some tests) replaces ``PIL.Image.open`` with a wrapper that imports
    pi_heif, which it does not install, on any file Pillow cannot identify: put Pillow's own back after each test."""
    from PIL import Image

    own = Image.open
    yield
    Image.open = own


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_process():
    return run_cli_process


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    """A user error: non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
