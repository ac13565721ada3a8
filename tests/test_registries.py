"""The task and backend registries cover everything: a task or a backend defined in this file and registered at
runtime (no other file edited) is found by ``predict --task``/``--backend`` (choices, help, "did you mean"), by
drawing (``--save``), by ``compare --task`` and by choosing a runner from a file's suffix."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from pt2trt.backends import RUNNERS, register_backend, resolve_backend, runner_class
from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.cli.main import cli
from pt2trt.comparators.tasks import TaskComparison
from pt2trt.imaging.preprocess import Transform
from pt2trt.tasks import TASKS, register_task, task_class
from pt2trt.tasks.base import Labels, Result, Task

SIZE = 16
SPOT = (slice(3, 8), slice(4, 11))  # rows 3-7, columns 4-10 of the picture: 5 x 7 = 35 white pixels
MAGENTA = (255, 0, 255)


# -- a toy task: count the pixels brighter than a threshold ---------------------------------------------------------
class Count(Result):
    """How many pixels are bright, and where (in the original picture's pixels)."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask

    @property
    def pixels(self) -> int:
        return int(self.mask.sum())

    def to_dict(self, labels: Labels) -> dict[str, Any]:
        return {"count": self.pixels}


def compare_counts(a: Sequence[Count], b: Sequence[Count], min_agreement: float, _iou: float) -> TaskComparison:
    """Images whose counts are equal; the comparator the toy task names."""
    same = [ra.pixels == rb.pixels for ra, rb in zip(a, b)]
    agreement = float(np.mean(same)) if same else 1.0
    per_image = [{"count_a": ra.pixels, "count_b": rb.pixels} for ra, rb in zip(a, b)]
    criterion = f"same count on >= {min_agreement * 100:g}% of images"
    metrics: dict[str, float | int | None] = {"count_agreement": agreement}
    return TaskComparison("count", len(same), metrics, agreement >= min_agreement, criterion, per_image)


class CountTask(Task):
    """Pixels of the one ``[N, 1, H, W]`` output above ``threshold``."""

    name = "count"
    default_preset = "torchvision-detection"  # stretch, pixels / 255, no mean or std
    layouts = ("brightness",)
    result_type = Count
    comparator = "tests.test_registries:compare_counts"

    def __init__(self, layout: str = "auto", conf: float = 0.5) -> None:
        super().__init__(layout)
        self.threshold = conf

    def decode(self, outputs: Mapping[str, np.ndarray], transforms: Sequence[Transform]) -> list[Result]:
        (brightness,) = outputs.values()
        return [Count(t.mask_to_original(m[0] > self.threshold, fill=0)) for m, t in zip(brightness, transforms)]

    def draw(self, image: Image.Image, result: Result, labels: Labels) -> Image.Image:
        assert isinstance(result, Count)
        pixels = np.array(image)
        pixels[result.mask.astype(bool)] = MAGENTA
        return Image.fromarray(pixels)


# -- a toy backend: ".toy" files hold an .npz of constant outputs ---------------------------------------------------
class ToyRunner(Runner):
    backend = "toy"
    suffixes = (".toy",)

    def __init__(self, path: str | Path, *, name: str | None = None) -> None:
        super().__init__(name)
        self.path = Path(path)

    def _activate(self) -> None:
        with np.load(self.path) as data:
            self.outputs = {k: data[k] for k in data.files}

    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        count = next(iter(feed.values())).shape[0]
        return {k: np.repeat(v, count, axis=0) for k, v in self.outputs.items()}

    def input_metadata(self) -> list[TensorMeta]:
        return [TensorMeta("images", "float32", ("N", 3, SIZE, SIZE))]

    def output_names(self) -> list[str]:
        return list(self.outputs)


# -- fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def clean_registries() -> Iterator[None]:
    """Every test leaves TASKS and RUNNERS as it found them."""
    tasks, runners = dict(TASKS), dict(RUNNERS)
    yield
    TASKS.clear()
    TASKS.update(tasks)
    RUNNERS.clear()
    RUNNERS.update(runners)


def brightness_model(gain: float) -> onnx.ModelProto:
    """``images [N, 3, 16, 16] -> brightness [N, 1, 16, 16]``: the channel mean times ``gain``."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images", "axes"], ["mean"], keepdims=1),
            helper.make_node("Mul", ["mean", "gain"], ["brightness"]),
        ],
        "brightness",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("brightness", TensorProto.FLOAT, ["N", 1, SIZE, SIZE])],
        [
            numpy_helper.from_array(np.array([1], np.int64), "axes"),
            numpy_helper.from_array(np.array(gain, np.float32), "gain"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    pixels = np.zeros((SIZE, SIZE, 3), np.uint8)
    pixels[SPOT] = 255
    path = tmp_path / "spot.png"
    Image.fromarray(pixels).save(path)
    return path


def model_file(tmp_path: Path, gain: float = 1.0) -> Path:
    path = tmp_path / f"brightness{gain:g}.onnx"
    onnx.save(brightness_model(gain), str(path))
    return path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- tests ------------------------------------------------------------------------------------------------------------
def test_a_registered_task_is_a_predict_choice_and_draws_its_pictures(tmp_path: Path, photo: Path) -> None:
    help_before = invoke("predict", "--help").output
    assert "classify|detect|segment" in help_before and "count" not in help_before
    register_task("count", CountTask)
    help_text = invoke("predict", "--help").output
    assert "classify|detect|segment|count" in help_text and "brightness" in help_text

    model, out = model_file(tmp_path), tmp_path / "drawn"
    result = invoke("predict", str(model), str(photo), "--task", "count", "--save", str(out))
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert record["image"] == "spot.png" and record["count"] == 35
    drawn = np.asarray(Image.open(out / "spot.png").convert("RGB"))
    magenta = (drawn == MAGENTA).all(axis=2)
    expected = np.zeros((SIZE, SIZE), bool)
    expected[SPOT] = True
    assert (magenta == expected).all(), "the toy task's drawer painted exactly the counted pixels"

    wrong = invoke("predict", str(model), str(photo), "--task", "cout")
    assert wrong.exit_code == 2 and "Did you mean 'count'?" in wrong.output


def test_a_registered_task_by_name_is_found_by_compare_and_verify(tmp_path: Path, photo: Path) -> None:
    register_task("count", "tests.test_registries:CountTask")
    assert task_class("count") is CountTask
    a, b = model_file(tmp_path, 1.0), model_file(tmp_path, 0.0)

    same = invoke("compare", str(a), str(a), str(photo), "--task", "count")
    assert same.exit_code == 0, same.output
    assert "count_agreement: 100.00%" in same.output and "agree: same count" in same.output

    differ = invoke("compare", str(a), str(b), str(photo), "--task", "count", "--json")
    assert differ.exit_code == 1
    report = json.loads(differ.output)
    assert report["task"] == "count" and report["count_agreement"] == 0.0 and not report["passed"]
    assert report["per_image"] == [{"count_a": 35, "count_b": 0}]

    assert "count" in invoke("verify", "--help").output


def test_a_registered_backend_is_chosen_by_suffix(tmp_path: Path, photo: Path) -> None:
    brightness = np.zeros((1, 1, SIZE, SIZE), np.float32)
    brightness[0, 0, :2, :] = 1.0  # the top two rows are bright, whatever the image
    toy = tmp_path / "constant.toy"
    buffer = io.BytesIO()
    np.savez(buffer, brightness=brightness)
    toy.write_bytes(buffer.getvalue())

    assert resolve_backend(toy) == "torch"  # unknown suffix: a PyTorch spec, as before
    register_backend("toy", ToyRunner)
    register_task("count", CountTask)
    assert resolve_backend(toy) == "toy" and resolve_backend("x.TOY") == "toy" and runner_class("toy") is ToyRunner
    assert resolve_backend("m.onnx") == "onnxruntime" and resolve_backend("m.plan") == "tensorrt"
    assert "auto|tensorrt|onnxruntime|openvino|torch|triton|toy" in invoke("predict", "--help").output

    result = invoke("predict", str(toy), str(photo), "--task", "count")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["count"] == 2 * SIZE
    assert "on toy" in result.output


def test_choosing_by_suffix_imports_no_runner() -> None:
    register_backend("ghost", "no_such_module_anywhere:GhostRunner", suffixes=(".Ghost",))
    assert resolve_backend("model.ghost") == "ghost"  # the module is imported only to run the model
    with pytest.raises(ModuleNotFoundError):
        runner_class("ghost")
    with pytest.raises(ValueError, match="module:Class"):
        register_backend("bad", "no colon")


def test_help_imports_no_runtime() -> None:
    """`pt2trt --help` imports no numpy; `predict --help` reads the registries without torch or onnxruntime."""
    code = "import sys; from pt2trt.cli.main import main; sys.argv[1:] = {args}; main()"
    checks = {"--help": ("numpy", "torch", "onnxruntime", "PIL"), "predict --help": ("torch", "onnxruntime", "onnx")}
    for args, heavy in checks.items():
        run = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code.format(args=args.split())], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr[-2000:]
        imported = {line.split("|")[-1].strip().split(".")[0] for line in run.stderr.splitlines() if "|" in line}
        assert "pt2trt" in imported and not imported & set(heavy), imported & set(heavy)


# -- a second ONNX backend from this file alone: ONNX's own reference evaluator (pure numpy) -------------------------
class ReferenceRunner(Runner):
    """``onnx.reference.ReferenceEvaluator`` as a backend: it runs an ONNX model handle, nothing else to register."""

    backend = "reference"

    def __init__(self, model: Any, *, name: str | None = None) -> None:
        from pt2trt.onnx.model import OnnxModel

        super().__init__(name)
        self.model = OnnxModel.of(model)
        self.session: Any = None

    @classmethod
    def from_settings(cls, model: Any, settings: Any, inputs: Any = None) -> ReferenceRunner:
        return cls(model)

    def _activate(self) -> None:
        from onnx.reference import ReferenceEvaluator

        self.session = ReferenceEvaluator(self.model.proto)

    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        values = self.session.run(None, dict(feed))
        return dict(zip(self.model.output_names, values))

    def input_metadata(self) -> list[TensorMeta]:
        return [
            TensorMeta(
                str(s.name), s.dtype, tuple(s.dynamic.get(i) if i in s.dynamic else d for i, d in enumerate(s.shape))
            )
            for s in self.model.input_specs
        ]

    def output_names(self) -> list[str]:
        return self.model.output_names


def test_a_backend_registered_here_runs_in_predict_compare_bench_verify_and_convert(
    tmp_path: Path, photo: Path
) -> None:
    from pt2trt.bench import Loop, bench

    register_backend("reference", ReferenceRunner)
    register_task("count", CountTask)
    model = model_file(tmp_path)

    predicted = invoke("predict", str(model), str(photo), "--task", "count", "--backend", "reference")
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout.splitlines()[0])["count"] == 35 and "on reference" in predicted.output

    compared = invoke("compare", str(model), str(model), str(photo), "--task", "count", "--backend-b", "reference")
    assert compared.exit_code == 0, compared.output
    assert "(reference)" in compared.output and "count_agreement: 100.00%" in compared.output

    seed = tmp_path / "seed.onnx"
    exported = invoke(
        "export", "pt2trt.models:SeedNet", "-i", "input:1x3x28x28", "-o", str(seed), "--exporter", "legacy"
    )
    assert exported.exit_code == 0, exported.output
    report = bench(seed, ["onnxruntime", "reference"], loop=Loop(10, 3, 0.05))
    timed = report.result("reference")
    assert timed.status == "ok" and timed.latency is not None and timed.latency.n >= 3
    np.testing.assert_allclose(timed.outputs[0], report.result("onnxruntime").outputs[0], rtol=1e-4, atol=1e-5)

    verified = invoke("verify", "pt2trt.models:SeedNet", str(seed), "--backend", "reference", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["backend"] == "reference"

    out = tmp_path / "convert"
    converted = invoke(
        "convert", "pt2trt.models:SeedNet", "-i", "input:1x3x28x28", "-o", str(out), "--backend",
        "onnxruntime,reference", "--images", str(photo), "--bench-duration", "0.05", "-q", "--json",
    )  # fmt: skip
    assert converted.exit_code == 0, converted.output
    steps = {s["name"]: s for s in json.loads(converted.stdout)["steps"]}
    assert {r["backend"]: r["status"] for r in steps["bench"]["data"]["results"]} == {
        "onnxruntime": "ok", "reference": "ok"
    }  # fmt: skip
    assert (out / "predictions" / "reference" / "spot.png").is_file()
