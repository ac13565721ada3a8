"""Real torchvision models through PyTorch and ONNX Runtime on real pictures: predict, then compare the two.

Pictures are the photos scikit-image ships in its wheel (astronaut 512x512, coffee 600x400, chelsea 451x300) when it
is installed, else drawn scenes of the same sizes. Weights are random (seeded; tests/task_models.py re-draws some so
that answers differ from box to box and pixel to pixel), so the answers are not meaningful classes, but both backends
must give the same ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pt2trt
from pt2trt.settings import ExportSettings, PredictSettings, ReadSettings, RunnerSettings, TaskSettings
from pt2trt.shapes import apply_dynamic, parse_input
from tests.images import photos

pytestmark = pytest.mark.slow

TASK_MODELS = str(Path(__file__).with_name("task_models.py"))
# key: (model spec, input, preprocess preset, dynamic batch)
MODELS = {
    "resnet18": ("torchvision:resnet18", "input:1x3x224x224", "imagenet-classification", True),
    "deeplab": (f"{TASK_MODELS}:deeplab", "input:1x3x256x256", "imagenet-segmentation", True),
    "ssdlite": (f"{TASK_MODELS}:ssdlite", "images:1x3x320x320", "torchvision-detection", False),
    "retinanet": (f"{TASK_MODELS}:retinanet", "images:1x3x320x320", "torchvision-detection", False),
}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return photos(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    """Each model exported once (legacy exporter: the dynamo one cannot take torchvision's detectors)."""
    root = tmp_path_factory.mktemp("task-exports")
    cache: dict[str, Path] = {}

    def get(key: str) -> Path:
        if key not in cache:
            spec, text, preset, dynamic = MODELS[key]
            specs = apply_dynamic([parse_input(text)], dynamic_batch=dynamic)
            result = pt2trt.export(
                spec, specs, root / f"{key}.onnx", ExportSettings(exporter="legacy", preprocess=preset)
            )
            cache[key] = result.path
        return cache[key]

    return get


def test_classify_resnet18(exported, pictures: list[Path], tmp_path: Path) -> None:
    onnx_path = exported("resnet18")
    predictions = pt2trt.predict(
        onnx_path,
        pictures,
        PredictSettings(task=TaskSettings(task="classify"), read=ReadSettings(batch=2)),
        save=tmp_path / "out",
    )
    assert [p.path for p in predictions] == pictures
    for p in predictions:
        assert len(p.result.top) == 5 and p.result.from_logits
        assert p.result.probabilities.shape == (1000,) and p.result.probabilities.sum() == pytest.approx(1.0)
        assert p.saved is not None and p.saved.is_file()
    result = pt2trt.compare_models(
        "torchvision:resnet18",
        onnx_path,
        pictures,
        PredictSettings(TaskSettings(task="classify"), read=ReadSettings(2)),
    )
    assert result.backend_a == "torch" and result.backend_b == "onnxruntime"
    assert result.preprocess.preset == "imagenet-classification", "the ONNX's recorded preprocessing is shared"
    m = result.comparison.metrics
    assert result.passed and m["top1_agreement"] == 1.0 and m["top5_agreement"] == 1.0
    assert m["max_probability_difference"] < 1e-4


def test_segment_deeplabv3(exported, pictures: list[Path]) -> None:
    onnx_path = exported("deeplab")
    predictions = pt2trt.predict(
        onnx_path, pictures, PredictSettings(task=TaskSettings(task="segment"), read=ReadSettings(batch=2))
    )
    for p in predictions:
        w, h = p.size
        assert p.result.mask.shape == (h, w), "masks come back at the picture's own (odd) size"
        assert sum(c["pixels"] for c in p.to_dict()["classes"]) == w * h
        assert len(p.to_dict()["classes"]) > 2, "the He-initialised deeplab labels pixels differently"
    result = pt2trt.compare_models(
        MODELS["deeplab"][0], onnx_path, pictures, PredictSettings(TaskSettings(task="segment"), read=ReadSettings(2))
    )
    m = result.comparison.metrics
    assert result.passed and m["pixel_agreement"] >= 0.99 and m["mean_iou_masks"] >= 0.9


@pytest.mark.parametrize(("key", "count", "min_matched"), [("ssdlite", 3, 0.95), ("retinanet", 2, 0.99)])
def test_detect_torchvision_layout(exported, pictures: list[Path], key: str, count: int, min_matched: float) -> None:
    onnx_path = exported(key)
    pictures = pictures[:count]  # retinanet takes seconds per picture on a CPU
    predictions = pt2trt.predict(onnx_path, pictures, PredictSettings(task=TaskSettings(task="detect", max_det=100)))
    for p in predictions:
        dets = p.result
        w, h = p.size
        assert 0 < len(dets) <= 100
        assert (dets.boxes[:, [0, 2]] <= w).all() and (dets.boxes[:, [1, 3]] <= h).all() and (dets.boxes >= 0).all()
        assert (np.diff(dets.scores) <= 0).all(), "best first"
    # near the 100th box, ties between equal scores may fall either way: hence < 100% for ssdlite
    detect = PredictSettings(TaskSettings(task="detect", max_det=100))
    result = pt2trt.compare_models(MODELS[key][0], onnx_path, pictures, detect, min_agreement=min_matched)
    m = result.comparison.metrics
    assert result.passed, m
    assert m["detections_a"] > 0 and m["mean_iou"] > 0.99 and m["max_score_difference"] < 1e-3


def test_compare_cli_torch_against_onnx(cli, exported, pictures: list[Path]) -> None:
    onnx_path = exported("resnet18")
    result = cli("compare", "torchvision:resnet18", str(onnx_path), *map(str, pictures), "--task", "classify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "A: torchvision:resnet18 (torch)" in result.stdout and "top-1 agreement: 100.00%" in result.stdout


def test_openvino_on_a_real_detector(exported, pictures: list[Path]) -> None:
    pytest.importorskip("openvino", reason="OpenVINO is optional: pip install 'pt2trt[openvino]'")
    onnx_path = exported("ssdlite")
    detect = PredictSettings(TaskSettings(task="detect", max_det=100))
    openvino = RunnerSettings(backend="openvino")
    result = pt2trt.compare_models(onnx_path, onnx_path, pictures, detect, runner_b=openvino, min_agreement=0.95)
    assert result.passed, result.comparison.metrics
