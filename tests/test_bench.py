"""bench: statistics, the timing loop, every CPU backend side by side on real models, the CLI."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

import pt2trt
from pt2trt.backends.timing import time_calls
from pt2trt.bench import LatencyStats, Loop, bench
from pt2trt.bench.run import timing_modes
from pt2trt.settings import ExportSettings, RunInputs, RunnerSettings
from tests.conftest import assert_one_line_error
from tests.models import tiny_conv_relu

HAS_OPENVINO = importlib.util.find_spec("openvino") is not None
QUICK = Loop(warmup_ms=20, iterations=20, duration=0.1)


def test_latency_statistics_match_numpy() -> None:
    rng = np.random.default_rng(0)
    seconds = rng.gamma(4.0, 0.002, size=501)
    stats = LatencyStats.from_seconds(seconds)
    ms = seconds * 1e3
    for name, q in (("median", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert getattr(stats, name) == pytest.approx(np.percentile(ms, q))
    assert stats.min == pytest.approx(ms.min()) and stats.max == pytest.approx(ms.max())
    assert stats.mean == pytest.approx(ms.mean()) and stats.std == pytest.approx(ms.std())
    assert stats.n == 501 and not stats.stable  # a gamma(4) spread is far beyond 2.5 %
    assert "unstable" in (stats.stability_warning("x") or "")
    steady = LatencyStats.from_seconds([0.010, 0.0101, 0.0099, 0.010])
    assert steady.stable and steady.stability_warning("x") is None


def test_timing_loop_honours_warmup_iterations_and_duration() -> None:
    calls = []
    timings = time_calls(lambda: calls.append(time.sleep(0.001)), Loop(warmup_ms=30, iterations=5, duration=0.05))
    assert timings.warmup_calls >= 2  # 30 ms of 1 ms calls
    assert len(timings.seconds) >= 5 and timings.wall >= 0.05
    assert len(calls) == timings.warmup_calls + len(timings.seconds)
    assert all(s >= 0.001 for s in timings.seconds)
    few = time_calls(lambda: None, Loop(warmup_ms=0, iterations=7, duration=0))
    assert len(few.seconds) == 7 and few.warmup_calls == 1


@pytest.fixture
def tiny_onnx(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_conv_relu(), path)
    return path


def test_bench_onnx_model_side_by_side(tiny_onnx: Path) -> None:
    backends = ["onnxruntime", "openvino", "torch", "tensorrt"]
    report = bench(tiny_onnx, backends, loop=QUICK, modes=timing_modes("both"), runner=RunnerSettings(threads=1))
    labels = [r.label for r in report.results]
    assert labels == ["onnxruntime", "openvino", "openvino (throughput)", "torch", "tensorrt"]
    ort = report.result("onnxruntime")
    assert ort.status == "ok" and ort.speedup == pytest.approx(1.0)
    lat = ort.latency
    assert lat is not None and lat.n >= QUICK.iterations
    assert lat.min <= lat.median <= lat.p90 <= lat.p95 <= lat.p99 <= lat.max
    assert ort.inferences_per_second == pytest.approx(lat.n / ort.wall_seconds)
    assert ort.settings["threads"] == 1 and ort.setup_seconds is not None and ort.setup_seconds > 0
    assert ort.outputs[0].shape == (1, 4, 8, 8)
    # no PyTorch model recorded in a hand-built ONNX: torch is skipped with the reason, as is TensorRT here
    assert "no PyTorch model" in report.result("torch").reason
    assert report.result("tensorrt").status == "skipped"
    if HAS_OPENVINO:
        ov, ov_tp = report.result("openvino"), report.result("openvino (throughput)")
        assert ov.status == ov_tp.status == "ok"
        assert ov.settings["performance_hint"] == "LATENCY" and ov_tp.settings["performance_hint"] == "THROUGHPUT"
        assert ov_tp.settings["infer_requests"] >= 1
        np.testing.assert_allclose(ov.outputs[0], ort.outputs[0], rtol=1e-4, atol=1e-5)  # same input everywhere
    data = json.loads(json.dumps(report.to_dict()))
    assert data["results"][0]["latency_ms"]["p95"] == pytest.approx(lat.p95, abs=1e-4)
    assert "1 intra-op thread" in data["fairness"]


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def test_bench_torch_against_its_export(tmp_path: Path) -> None:
    module = Small().eval()
    onnx_path = tmp_path / "small.onnx"
    pt2trt.export(module, [pt2trt.parse_input("x:2x3x16x16")], onnx_path, ExportSettings(exporter="legacy"))
    report = bench(
        onnx_path, ["torch", "onnxruntime"], sources={"pytorch": module}, loop=QUICK, inputs=RunInputs(batch=2)
    )
    torch_result, ort = report.result("torch"), report.result("onnxruntime")
    assert torch_result.status == ort.status == "ok"
    assert report.batch == 2 and ort.images_per_second == pytest.approx(2 * ort.inferences_per_second)
    assert ort.speedup == pytest.approx(torch_result.latency.median / ort.latency.median)
    np.testing.assert_allclose(ort.outputs[0], torch_result.outputs[0], rtol=1e-4, atol=1e-5)
    assert torch_result.settings["inference_mode"] is True


def test_cli_bench_json_and_table(cli, tiny_onnx: Path) -> None:
    result = cli("bench", str(tiny_onnx), "-b", "onnxruntime", "--duration", "0.1", "--warmup", "10", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["results"][0]["backend"] == "onnxruntime" and data["results"][0]["latency_ms"]["n"] >= 10
    table = cli("bench", str(tiny_onnx), "-b", "onnxruntime,torch", "--duration", "0.1", "-q")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert any(line.startswith("latency ms") and "p95" in line and "p99" in line for line in lines)
    assert any(line.startswith("throughput") and "images/s" in line for line in lines)
    assert max(len(line) for line in lines) <= 100
    assert "torch: skipped" in table.stderr


def test_cli_bench_unknown_backend_is_a_usage_error(cli, tiny_onnx: Path) -> None:
    result = cli("bench", str(tiny_onnx), "-b", "onnxruntime,tensorflow")
    assert_one_line_error(result, "unknown backend 'tensorflow'")
    assert result.returncode == 2


@pytest.mark.slow
def test_bench_resnet18_torch_onnxruntime_openvino(tmp_path: Path) -> None:
    path = tmp_path / "r18.onnx"
    pt2trt.export("torchvision:resnet18", [pt2trt.parse_input("input:1x3x224x224")], path)
    report = bench(path, ["torch", "onnxruntime", "openvino"], loop=Loop(100, 10, 1.0))
    assert [r.status for r in report.results] == ["ok", "ok", "ok" if HAS_OPENVINO else "skipped"]
    for r in report.ran:
        assert r.latency is not None and r.latency.n >= 10 and r.peak_rss_mib is not None
        assert r.speedup is not None and r.speedup > 0
