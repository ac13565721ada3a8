"""A library's multi-line error keeps its facts in pt2trt's one line: ONNX Runtime puts the failing index and the
expected size on the lines after the first, OpenVINO puts the cause on the last line (the first ones say where in
its C++ the check sits). Real sessions on a real model, fed what users get wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from pt2trt.errors import Pt2trtError
from tests.test_bad_inputs import tiny_classifier


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("library_errors") / "model.onnx"
    onnx.save(tiny_classifier(), path)
    return path


# (feed, what ONNX Runtime's message must keep, what OpenVINO's must keep)
WRONG_FEEDS = [
    (np.zeros((1, 4, 16, 16), np.float32), ["index: 1 Got: 4 Expected: 3"], ["[1,4,16,16]", "[1,3,16,16]"]),
    (np.zeros((1, 3, 16), np.float32), ["Got: 3 Expected: 4"], ["[1,3,16]", "[1,3,16,16]"]),
    (np.zeros((2, 3, 16, 16), np.float32), ["index: 0 Got: 2 Expected: 1"], ["[2,3,16,16]", "[1,3,16,16]"]),
]


@pytest.mark.parametrize(("feed", "ort_facts", "ov_facts"), WRONG_FEEDS, ids=["channels", "rank", "batch"])
@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_the_error_line_keeps_what_failed_and_where(
    model: Path, backend: str, feed: np.ndarray, ort_facts: list[str], ov_facts: list[str]
) -> None:
    from pt2trt.backends import runner_class

    if backend == "openvino":
        pytest.importorskip("openvino")
    with runner_class(backend)(model) as runner, pytest.raises(Pt2trtError) as caught:
        runner.infer({"input": feed})
    line = str(caught.value)
    assert "\n" not in line, line
    for fact in ort_facts if backend == "onnxruntime" else ov_facts:
        assert fact in line, line
    assert "Exception from src/" not in line and "[ONNXRuntimeError]" not in line, line


def test_ort_error_text_joins_every_line() -> None:
    from pt2trt.backends.onnxruntime import ort_error_text

    exc = RuntimeError(
        "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input: x for the following indices\n"
        " index: 1 Got: 4 Expected: 3\n index: 3 Got: 7 Expected: 16\n"
        " Please fix either the inputs/outputs or the model."
    )
    assert ort_error_text(exc) == (
        "Got invalid dimensions for input: x for the following indices; index: 1 Got: 4 Expected: 3; "
        "index: 3 Got: 7 Expected: 16"
    )
    assert ort_error_text(RuntimeError("x" * 1000), limit=50).endswith("...")
    assert len(ort_error_text(RuntimeError("x" * 1000), limit=50)) == 50
