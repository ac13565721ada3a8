"""The README's Python API example runs as written (in a temporary folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _block_after(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading) :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, f"no python block under {heading}"
    return match.group(1)


@pytest.mark.slow
def test_the_python_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(_block_after("## Python API"), "README.md (Python API)", "exec"), namespace)
    assert (tmp_path / "r18.onnx").is_file()
    assert namespace["report"].passed  # type: ignore[attr-defined]
    assert namespace["outputs"]["output"].shape == (2, 1000)  # type: ignore[index]
