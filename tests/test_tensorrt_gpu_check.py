"""``scripts/gpu_check.sh`` fails loudly (exit 2, a reason on stderr, nothing written) where it cannot run.

A run that skipped everything must never look green: without TensorRT, or with TensorRT but no CUDA GPU, the script
refuses to start. On a GPU machine with TensorRT these tests are skipped (``make gpu-check`` is the real test there).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tensorrt_models import gpu_skip_reason

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.sh"
pytestmark = pytest.mark.skipif(gpu_skip_reason() is None, reason="TensorRT and a GPU are here: run make gpu-check")


def _run(tmp_path: Path, extra_path: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": extra_path}
    return subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120
    )


def test_without_tensorrt_it_fails_before_starting(tmp_path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 2
    assert "FAILED before starting: tensorrt does not import" in result.stderr and "never skips" in result.stderr
    assert not (tmp_path / "out").exists()


def test_with_tensorrt_but_no_gpu_it_fails_too(tmp_path) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "tensorrt.py").write_text("__version__ = '10.9.0.34'\n")  # imports, as on a machine without a driver
    result = _run(tmp_path, str(fake))
    assert result.returncode == 2
    assert "FAILED before starting: no CUDA GPU" in result.stderr
    assert not (tmp_path / "out").exists()
