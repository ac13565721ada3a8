"""INT8 Q/DQ where TensorRT and ModelOpt put them (issue 19, item 4), on a small residual CNN trained on real digits:
inputs of Conv/Gemm/pooling only, residual Adds quantized on their skip input, and the weights' rounding bias moved
into the float bias; the lint warns about ONNX Runtime's own placement (a Q/DQ between a convolution and its ReLU)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from tests.precision_models import digits, export


class ResidualDigits(nn.Module):
    """Stem, an inverted residual block (expand 1x1, depthwise 3x3, ReLU6, project 1x1, + skip), pooling, head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU6())
        self.block = nn.Sequential(
            nn.Conv2d(16, 48, 1), nn.BatchNorm2d(48), nn.ReLU6(),
            nn.Conv2d(48, 48, 3, padding=1, groups=48), nn.BatchNorm2d(48), nn.ReLU6(),
            nn.Conv2d(48, 16, 1), nn.BatchNorm2d(16),
        )  # fmt: skip
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.stem(x)
        features = features + self.block(features)
        return self.head(nn.functional.adaptive_avg_pool2d(features, 1).flatten(1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("residual")
    x_train, y_train, x_test, _ = digits()
    torch.manual_seed(0)
    model = ResidualDigits()
    optimiser = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(6):
        for i in range(0, len(x_train), 100):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(
                model(torch.from_numpy(x_train[i : i + 100])), torch.from_numpy(y_train[i : i + 100])
            )
            loss.backward()
            optimiser.step()
    path = export(model.eval(), (1, 1, 8, 8), folder / "residual.onnx")
    return path, x_train[:200], x_test


def _quantize(fp32, calib, out, **options):
    from pt2trt.precision.data import Samples
    from pt2trt.precision.int8 import quantize_int8
    from pt2trt.precision.statistics import collect_statistics

    model = onnx.load(str(fp32))
    stats = collect_statistics(
        model, fp32, Samples([{"input": calib[i : i + 1]} for i in range(len(calib))], "d", "arrays")
    )
    return quantize_int8(model, stats, out, **options)


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def test_inputs_only_and_the_skip_input_of_the_residual_add(trained, tmp_path):
    from pt2trt.backends.tensorrt.lint import lint_model

    fp32, calib, x_test = trained
    ours = _quantize(fp32, calib, tmp_path / "trt.onnx")
    producers = {t: n for n in ours.graph.node for t in n.output}
    for node in ours.graph.node:
        if node.op_type in ("Clip", "Relu"):  # no Q/DQ between a convolution and its ReLU6
            assert producers[node.input[0]].op_type in ("Conv", "BatchNormalization"), node.name
    (add,) = [n for n in ours.graph.node if n.op_type == "Add" and all(t in producers for t in n.input)]
    kinds = sorted(producers[t].op_type for t in add.input)
    assert kinds == ["Conv", "DequantizeLinear"]  # the projection stays float, the skip is quantized
    lint = lint_model(ours, "trt-10")
    assert lint.passed and not [f for f in lint.findings if f.code.startswith("qdq")]
    theirs = _quantize(fp32, calib, tmp_path / "ort.onnx", placement="onnxruntime", correct_bias=False)
    warned = [f for f in lint_model(theirs, "trt-10").findings if f.code == "qdq-placement" and "activation" in f.why]
    assert warned, "ONNX Runtime's placement puts Q/DQ between each convolution and its ReLU6"
    # and the placement is worth it: closer to FP32 on held-apart digits
    reference = _run(fp32, x_test)
    err = {name: np.abs(_run(tmp_path / f"{name}.onnx", x_test) - reference).mean() for name in ("trt", "ort")}
    assert err["trt"] < err["ort"], err


def test_bias_correction_removes_the_weight_rounding_shift(trained, tmp_path):
    fp32, calib, x_test = trained
    plain = _quantize(fp32, calib, tmp_path / "plain.onnx", correct_bias=False)
    corrected = _quantize(fp32, calib, tmp_path / "corrected.onnx")
    biases = {i.name: onnx.numpy_helper.to_array(i) for i in plain.graph.initializer}
    bias_names = {n.input[2] for n in corrected.graph.node if n.op_type in ("Conv", "Gemm") and len(n.input) > 2}
    changed = [i.name for i in corrected.graph.initializer if i.name in bias_names & set(biases)
               and not np.array_equal(biases[i.name], onnx.numpy_helper.to_array(i))]  # fmt: skip
    assert len(changed) == 5  # every quantized Conv (4) and the Gemm
    reference = _run(fp32, x_test)
    shift = {name: np.abs((_run(tmp_path / f"{name}.onnx", x_test) - reference).mean(axis=0)).mean()
             for name in ("plain", "corrected")}  # fmt: skip
    assert shift["corrected"] < shift["plain"], shift  # the per-class mean error, over the held-apart digits
