"""Right answers on inputs no one here made: real photos against the reference transforms, grayscale models,
dynamic sizes that need a stride, huge images, and the promise that a successful command prints only its own lines.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

import pt2trt
from pt2trt.errors import Pt2trtError
from pt2trt.imaging.preprocess import PRESETS
from pt2trt.settings import PredictSettings, PreprocessSettings, ReadSettings, TaskSettings
from tests.conftest import assert_one_line_error

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def photos() -> dict[str, np.ndarray]:
    """Real photos shipped in scikit-image's wheel, plus two sizes that exercise the crop rounding."""
    from skimage import data

    out = {name: getattr(data, name)() for name in PHOTOS}
    out["coffee-640x427"] = np.asarray(Image.fromarray(out["coffee"]).resize((640, 427)))
    out["chelsea-portrait"] = np.ascontiguousarray(out["chelsea"].transpose(1, 0, 2))
    return out


def pixels(preset: str, picture: np.ndarray) -> np.ndarray:
    """What pt2trt feeds for ``picture`` under ``preset``, as HWC uint8 pixels."""
    recipe = replace(PRESETS[preset], dtype="uint8", layout="NHWC")
    sample, _ = recipe.apply(Image.fromarray(picture))
    return sample


def test_imagenet_crop_reproduces_torchvision_eval_transform() -> None:
    import torch
    from torchvision.transforms import v2

    reference = v2.Compose([v2.Resize(256), v2.CenterCrop(224)])
    for name, picture in photos().items():
        ours = pixels("imagenet-classification", picture).astype(int)
        on_pil = np.asarray(reference(Image.fromarray(picture))).astype(int)
        on_tensor = reference(torch.from_numpy(picture.copy()).permute(2, 0, 1)).permute(1, 2, 0).numpy().astype(int)
        assert np.abs(ours - on_pil).max() <= 1, name  # torchvision on PIL images: the same PIL filter
        assert np.abs(ours - on_tensor).max() <= 1, name  # torchvision's own antialiased kernel


def test_crop_geometry_truncates_the_long_side_and_rounds_the_offset() -> None:
    new, _, offset = PRESETS["imagenet-classification"].geometry(640, 427)
    assert new == (383, 256)  # int(256 * 640 / 427) = 383, not round() = 384
    assert offset == (-80.0, -16.0)  # int(round((383 - 224) / 2)) = 80 (banker's rounding of 79.5)
    new, _, offset = PRESETS["imagenet-classification"].geometry(427, 640)
    assert new == (256, 383) and offset == (-16.0, -80.0)


def test_yolo_letterbox_reproduces_ultralytics(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path))  # ultralytics writes its settings file there
    from ultralytics.data.augment import LetterBox

    letterbox = LetterBox(new_shape=(640, 640), auto=False, stride=32)
    for name, picture in photos().items():
        ours = pixels("yolo-letterbox-640", picture).astype(int)
        theirs = letterbox(image=np.ascontiguousarray(picture[..., ::-1]))[..., ::-1].astype(int)  # BGR in and out
        assert ours.shape == theirs.shape, name
        assert np.abs(ours - theirs).max() <= 1, name


def _mean_colour_model(channels: int, path: Path, dims: tuple = ("N", None, 32, 32)) -> Path:
    """``images [N, C, H, W] -> logits [N, C + 1]``: the mean of each channel, then a 0 (so that class 0's softmax
    probability is the sigmoid of channel 0's mean)."""
    shape = [dims[0], channels, *dims[2:]]
    pads = helper.make_tensor("pads", TensorProto.INT64, [4], [0, 0, 0, 1])
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["means"], axes=[2, 3], keepdims=0),
            helper.make_node("Pad", ["means", "pads"], ["scores"]),
        ],
        "mean",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [dims[0], channels + 1])],
        [pads],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    return path


def test_grayscale_models_get_grayscale_pictures(tmp_path: Path, cli) -> None:
    model = _mean_colour_model(1, tmp_path / "gray.onnx")
    photo = tmp_path / "coffee.png"
    Image.fromarray(photos()["coffee"]).save(photo)
    (prediction,) = pt2trt.predict(
        model,
        [photo],
        PredictSettings(
            task=TaskSettings(task="classify", top_k=1), preprocess=PreprocessSettings("imagenet-classification")
        ),
    )
    recipe = replace(PRESETS["imagenet-classification"], size=(32, 32), dtype="uint8", layout="NHWC")  # the model's
    crop = np.asarray(Image.fromarray(recipe.apply(Image.fromarray(photos()["coffee"]))[0]).convert("L"), np.float32)
    expected = (crop.mean() / 255 - 0.485) / 0.229  # grayscale of the crop, normalised with the first channel's stats
    assert prediction.result.probabilities[0] == pytest.approx(1 / (1 + np.exp(-expected)), abs=1e-5)
    result = cli("predict", str(model), str(photo), "--task", "classify")
    assert result.returncode == 0, result.stderr
    assert "grayscale" in result.stderr  # the closing line says what was done
    four = _mean_colour_model(4, tmp_path / "rgba.onnx")
    with pytest.raises(Pt2trtError, match="--channels RGBA"):
        pt2trt.predict(four, [photo], PredictSettings(task=TaskSettings(task="classify")))
    (rgba,) = pt2trt.predict(
        four,
        [photo],
        PredictSettings(task=TaskSettings(task="classify"), preprocess=PreprocessSettings(channels="RGBA")),
    )
    assert rgba.result.probabilities.shape == (5,)


def _needs_stride_32(path: Path) -> Path:
    """A dynamic-size segmenter whose skip connection only adds up when H and W are multiples of 32."""
    rng = np.random.default_rng(0)
    inits = [
        helper.make_tensor("down_w", TensorProto.FLOAT, [2, 3, 32, 32], rng.normal(size=6144).astype(np.float32)),
        helper.make_tensor("skip_w", TensorProto.FLOAT, [2, 3, 1, 1], rng.normal(size=6).astype(np.float32)),
        helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 32, 32]),
    ]
    nodes = [
        helper.make_node("Conv", ["images", "down_w"], ["down"], strides=[32, 32]),
        helper.make_node("Resize", ["down", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("Conv", ["images", "skip_w"], ["skip"]),
        helper.make_node("Add", ["up", "skip"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fpn",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2, "H", "W"])],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    return path


def test_dynamic_sizes_run_as_asked_and_a_failure_says_which_fit(tmp_path: Path, cli) -> None:
    """The stride estimate never changes or refuses a size: the preset's 520x520 runs, ONNX Runtime fails on the
    Add, and the one-line error suggests the size the estimate gives (more in tests/test_strides.py)."""
    from pt2trt.onnx.strides import estimate_strides

    model = _needs_stride_32(tmp_path / "fpn.onnx")
    assert estimate_strides(onnx.load(str(model))).multiple == (32, 32)
    photo = tmp_path / "chelsea.png"
    Image.fromarray(photos()["chelsea"]).save(photo)
    result = cli("predict", str(model), str(photo), "--task", "segment")
    assert_one_line_error(result, "cannot run at 520x520", "--size 544x544")
    (prediction,) = pt2trt.predict(
        model,
        [photo],
        PredictSettings(task=TaskSettings(task="segment"), preprocess=PreprocessSettings(size=(544, 544))),
    )
    assert prediction.result.mask.shape == photos()["chelsea"].shape[:2]
    with pytest.raises(Pt2trtError, match=r"cannot run at 500x540") as info:
        pt2trt.predict(
            model,
            [photo],
            PredictSettings(task=TaskSettings(task="segment"), preprocess=PreprocessSettings(size=(500, 540))),
        )
    assert "--size 512x544" in (info.value.hint or "")


def test_decompression_bombs_are_one_line_errors(tmp_path: Path, cli) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb)  # 400 megapixels in a small file
    model = _mean_colour_model(3, tmp_path / "m.onnx")
    result = cli("predict", str(model), str(bomb), "--task", "classify")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "too large" in result.stderr and "--allow-large-images" in result.stderr


def test_the_same_photo_gives_the_same_answer_whatever_the_flags(tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(photos()["astronaut"]).resize((1600, 1600)).save(photo, quality=92)
    model = _mean_colour_model(3, tmp_path / "m.onnx")
    options = PredictSettings(TaskSettings(task="classify", top_k=3), PreprocessSettings("imagenet-classification"))
    (plain,) = pt2trt.predict(model, [photo], options)
    (saved,) = pt2trt.predict(model, [photo], options, save=tmp_path / "pictures")
    (batched,) = pt2trt.predict(model, [photo], replace(options, read=ReadSettings(batch=2, workers=0)))
    assert plain.result.top == saved.result.top == batched.result.top
    fast_read = replace(options, read=ReadSettings(fast_decode=True))
    (fast,) = pt2trt.predict(model, [photo], fast_read)  # opt-in approximation
    assert fast.result.top != plain.result.top


def test_a_successful_export_prints_only_its_own_lines(tmp_path: Path, cli_process) -> None:
    result = cli_process(
        "export", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "-o", str(tmp_path / "s.onnx")
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no "nanobind: leaked ..." at exit
    assert result.stdout.startswith("exported ") and result.stdout.count("\n") == 1


def test_publish_never_replaces_a_file_another_process_wrote(tmp_path: Path) -> None:
    from pt2trt.files import check_writable, publish, staging_dir

    final = check_writable(tmp_path / "model.onnx")
    with staging_dir(final) as tmp:
        staged = tmp / "model.onnx"
        staged.write_text("second")
        final.write_text("first, finished meanwhile")  # another process published between check and publish
        with pytest.raises(Pt2trtError, match="another process"):
            publish(staged, final)
    assert final.read_text() == "first, finished meanwhile"
    with staging_dir(final) as tmp:
        (tmp / "model.onnx").write_text("forced")
        publish(tmp / "model.onnx", final, replace=True)
    assert final.read_text() == "forced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no staging left behind


def test_two_exports_racing_for_one_path(tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "race.onnx"
    command = [sys.executable, "-m", "pt2trt.cli.main", "export", "pt2trt.models:SeedNet", "-o", str(out)]
    command += ["--input", "input:1x3x28x28", "--exporter", "legacy"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    procs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 1], results  # one wins; the other refuses, whenever it checked
    loser = next(err for code, err in results if code == 1)
    assert "already exists" in loser and loser.count("\n") == 1
    onnx.checker.check_model(str(out))


def test_an_existing_external_data_file_is_not_replaced(tmp_path: Path, cli) -> None:
    data = tmp_path / "s.onnx.data"
    data.write_text("someone else's weights")
    result = cli(
        "export", "pt2trt.models:SeedNet", "--input", "input:1x3x28x28", "-o", str(tmp_path / "s.onnx"),
        "--external-data",
    )  # fmt: skip
    assert result.returncode == 1 and "s.onnx.data already exists" in result.stderr and "--force" in result.stderr
    assert data.read_text() == "someone else's weights"
    assert not (tmp_path / "s.onnx").exists()


@pytest.mark.slow
def test_auto_export_remembers_that_dynamo_failed_on_an_architecture(tmp_path: Path, monkeypatch) -> None:
    import time

    monkeypatch.setenv("PT2TRT_CACHE_DIR", str(tmp_path / "cache"))
    spec, shape = "torchvision:ssdlite320_mobilenet_v3_large", [pt2trt.parse_input("images:1x3x320x320")]
    times, results = [], []
    for attempt in range(2):
        start = time.perf_counter()
        results.append(pt2trt.export(spec, shape, tmp_path / f"ssd{attempt}.onnx"))
        times.append(time.perf_counter() - start)
    first, second = results
    assert first.exporter == second.exporter == "legacy"
    assert first.fallback_reason.startswith("dynamo:")
    assert "remembered from an earlier export" in second.fallback_reason  # and why, in the file's metadata too
    assert second.fallback_reason.startswith(first.fallback_reason)
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "ssd1.onnx"), load_external_data=False).metadata_props}
    assert "remembered" in meta["pt2trt.exporter_fallback_reason"] and meta["pt2trt.exporter"] == "legacy"
    assert times[1] < times[0] / 2, times


def test_model_code_that_exits_or_returns_nothing_is_a_one_line_error(tmp_path: Path, cli) -> None:
    (tmp_path / "exits_at_import.py").write_text("import sys\nsys.exit(3)\n")
    (tmp_path / "exits_in_init.py").write_text(
        "import sys, torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        sys.exit(0)\n"
    )
    (tmp_path / "returns_none.py").write_text(
        "import torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n        x = x * 2\n"
    )
    cases = [
        ("exits_at_import.py:Net", "called sys.exit(3)"),
        ("exits_in_init.py:Net", "called sys.exit(0)"),
        ("returns_none.py:Net", "nothing to export"),
    ]
    for spec, fragment in cases:
        out = tmp_path / "m.onnx"
        result = cli("export", str(tmp_path / spec), "--input", "x:1x3x8x8", "-o", str(out))
        assert result.returncode == 1, (spec, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.stderr, (spec, result.stderr)
        assert not out.exists()
