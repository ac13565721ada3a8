"""Real TensorRT on a GPU for issue 14: data-dependent outputs, build progress and cancellation, engine inspection.

Written against the TensorRT 10/11 Python API; skipped, with the reason, where ``tensorrt`` does not import or no CUDA
device is present (as on this project's CPU machines). Only these tests may call those paths verified.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import pt2trt
from pt2trt.errors import Pt2trtError
from pt2trt.settings import ExportSettings, LayerSearch, PredictSettings, TaskSettings, Tolerance
from pt2trt.shapes import parse_input
from tests.images import photos
from tests.tensorrt_models import conv_relu, gpu_skip_reason, nonzero_model, save

REASON = gpu_skip_reason()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(REASON is not None, reason=str(REASON))]
TASK_MODELS = str(Path(__file__).with_name("task_models.py"))


# -- 1. data-dependent outputs (IOutputAllocator) -----------------------------------------------------------------
def test_nonzero_output_allocated_after_execution(tmp_path) -> None:
    from pt2trt.backends.tensorrt.runner import TensorRTRunner
    from pt2trt.precision.build import build

    onnx_path = save(nonzero_model(), tmp_path / "nonzero.onnx")
    result = build(onnx_path, tmp_path / "nonzero.engine", progress=False)
    few = np.zeros((4, 4), np.float32)
    few[0, 1] = few[2, 3] = 1
    many = np.ones((4, 4), np.float32)
    with TensorRTRunner(result.engine) as runner:
        assert runner.allocator is not None
        a = runner.infer({"x": few})["indices"]
        b = runner.infer({"x": many})["indices"]
        c = runner.infer({"x": few})["indices"]
        allocations = runner.allocator.allocations
    np.testing.assert_array_equal(a, np.argwhere(few))
    np.testing.assert_array_equal(b, np.argwhere(many))
    np.testing.assert_array_equal(c, a)
    assert allocations <= 2, "the grown buffer is reused for the smaller result"


@pytest.mark.slow
def test_torchvision_detector_engine_through_predict(tmp_path) -> None:
    from pt2trt.precision.build import build

    settings = ExportSettings(exporter="legacy", preprocess="torchvision-detection")
    onnx_path = pt2trt.export(
        f"{TASK_MODELS}:ssdlite", [parse_input("images:1x3x320x320")], tmp_path / "ssdlite.onnx", settings
    ).path
    engine = build(onnx_path, tmp_path / "ssdlite.engine", progress=False).engine
    pictures = photos(tmp_path / "photos")
    predictions = pt2trt.predict(engine, pictures, PredictSettings(task=TaskSettings(task="detect", max_det=100)))
    assert len(predictions) == len(pictures) and any(len(p.result) > 0 for p in predictions)
    result = pt2trt.compare_models(onnx_path, engine, pictures, "detect", max_det=100, min_agreement=0.9)
    assert result.passed, result.comparison.metrics


# -- 2. build progress and cancellation (IProgressMonitor, TensorRT >= 10) ----------------------------------------
def test_build_reports_phases(tmp_path) -> None:
    from pt2trt.backends.tensorrt.build import build_engine
    from pt2trt.backends.tensorrt.progress import BuildPhases
    from tests.tensorrt_models import plan_from_flags

    phases = BuildPhases()
    onnx_path = save(conv_relu(batch=2), tmp_path / "m.onnx")
    build_engine(plan_from_flags(onnx_path, tmp_path / "m.engine"), phases=phases)
    summary = phases.summary()
    assert summary and all(p["finished"] for p in summary) and phases.active == []


def test_cancelled_build_writes_nothing(tmp_path) -> None:
    from pt2trt.backends.tensorrt.build import build_engine
    from pt2trt.backends.tensorrt.progress import BuildPhases
    from tests.tensorrt_models import plan_from_flags

    phases = BuildPhases(cancel_requested=True)  # as if Ctrl-C came before the first step
    onnx_path = save(conv_relu(batch=2), tmp_path / "m.onnx")
    with pytest.raises(Pt2trtError, match="cancelled"):
        build_engine(plan_from_flags(onnx_path, tmp_path / "m.engine"), phases=phases)
    assert phases.cancelled
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


# -- 3. engine inspection (IEngineInspector) ----------------------------------------------------------------------
@pytest.mark.parametrize("fp16", [False, True])
def test_inspection_of_a_real_engine(tmp_path, fp16) -> None:
    from pt2trt.backends.tensorrt.inspect import engine_report
    from pt2trt.precision.build import build
    from pt2trt.settings import BuildSettings

    onnx_path = save(conv_relu(batch=2), tmp_path / "m.onnx")
    result = build(onnx_path, tmp_path / "m.engine", BuildSettings(fp16=fp16), progress=False)
    report, source = engine_report(result.engine)
    assert source == "IEngineInspector (live)" and report.detailed
    heavy = report.heavy()
    assert heavy and any("conv" in n.lower() for la in heavy for n in la.onnx_nodes)
    if not fp16:
        assert {la.precision for la in heavy} == {"FP32"}
    recorded = json.loads(result.metadata_path.read_text())["inspection"]
    assert recorded["summary"]["heavy_layers"] == len(heavy)
    (tmp_path / "inspector.json").write_text(json.dumps(recorded["engine_information"]))  # a recording


def test_debug_layers_against_tensorrt_bisects(tmp_path) -> None:
    from pt2trt.debug import debug_layers

    onnx_path = save(conv_relu(batch=2), tmp_path / "m.onnx")
    report = debug_layers(
        str(onnx_path), tolerance=Tolerance(rtol=1e-2, atol=1e-3), search=LayerSearch(backend="tensorrt", max_marked=2)
    )
    assert report.skipped is None and report.strategy == "bisection" and not report.diverged
