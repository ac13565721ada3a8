"""Verdicts of quantize you can trust (issue 19, item 3): each defect found by a new user has its test here.

* a figure says how many samples it rests on, with its 95 % interval, and that a handful settles nothing;
* a model without a task metric has each output judged: a collapsed output fails loudly (exit 1);
* the preprocessing used is said and recorded in the output; no task is forced on a non-image output;
* every --auto-exclude path runs (a ranking round used to crash on debug_onnx_layers' signature);
* every option a message names is one quantize has (--size now exists);
* a detector whose outputs hold one image is measured one image at a time (issue 24).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from pt2trt.settings import Int8Settings, QuantizeSettings
from tests.precision_models import digits, export, photos, train_digits
from tests.verdict_models import (
    Encoder,
    OneImageDetector,
    RawHeads,
    TinyClassifier,
    export_dynamic,
    photo_arrays,
)


def quantize_cli(*args: str):
    from pt2trt.cli.main import cli

    return CliRunner().invoke(cli, ["quantize", *args], catch_exceptions=False)


def quantize_options() -> set[str]:
    from pt2trt.cli.quantize import command

    return {opt for param in command.params for opt in getattr(param, "opts", []) if opt.startswith("--")}


def options_named(text: str) -> set[str]:
    return set(re.findall(r"--[a-z][a-z0-9-]*", text))


@pytest.fixture(scope="module")
def digits_onnx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verdict-digits")
    x_train, y_train, x_test, _ = digits()
    path = export(train_digits(x_train, y_train), (1, 1, 8, 8), folder / "digits.onnx")
    np.save(folder / "calib.npy", x_train[:400])
    np.save(folder / "few.npy", x_train[:13])  # 13 samples: every 5th held apart leaves 2 to measure on
    np.save(folder / "blank.npy", np.zeros((16, 1, 8, 8), np.float32))
    np.save(folder / "eval.npy", x_test)
    return folder, path


@pytest.fixture(scope="module")
def photo_npy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verdict-photos")
    x = photo_arrays()
    np.save(folder / "photos.npy", x)
    np.save(folder / "dim.npy", x * 0.05)  # the same photos 20x darker: ranges far too small for real ones
    return folder


def test_a_few_samples_give_a_count_an_interval_and_say_so(digits_onnx, tmp_path):
    folder, fp32 = digits_onnx
    result = quantize_cli(
        str(fp32), "--precision", "int8", "--calib", str(folder / "few.npy"), "-o", str(tmp_path / "a.onnx")
    )
    assert result.exit_code == 0, result.output
    assert "agreement 1.0000" not in result.stdout
    assert re.search(r"top-1 agreement \d/2 = [\d.]+ % \(95 % CI [\d.]+-[\d.]+ %\)", result.stdout), result.stdout
    assert "2 samples: too few to conclude" in result.stdout and "--holdout DATA" in result.stdout
    # many samples: the same figure, now conclusive (no note)
    many = quantize_cli(
        str(fp32), "--precision", "int8", "--calib", str(folder / "calib.npy"), "--holdout", str(folder / "eval.npy"),
        "-o", str(tmp_path / "b.onnx"), "--json",
    )  # fmt: skip
    data = json.loads(many.stdout)
    counts = data["accuracy"]["agreement_counts"]
    assert counts["total"] == data["accuracy"]["samples"] == 497 and counts["unit"] == "images"
    low, high = counts["ci95"]
    assert low <= counts["fraction"] <= high and high - low < 0.03
    assert not [n for n in data["accuracy"]["notes"] if "too few" in n]


def test_raw_heads_judged_per_output_and_a_collapse_fails(photo_npy, tmp_path):
    """A detector's raw heads have no task metric: each output gets a verdict, and a collapsed one exits 1."""
    fp32 = export_dynamic(RawHeads(), (1, 3, 64, 64), tmp_path / "heads.onnx", {0: "batch"}, ["scores", "deltas"])
    good = quantize_cli(
        str(fp32), "--precision", "int8", "--calib", str(photo_npy / "photos.npy"), "-o", str(tmp_path / "good.onnx")
    )
    assert good.exit_code == 0, good.output
    assert "output scores:" in good.stdout and "close" in good.stdout and "2 outputs judged" in good.stdout
    bad = quantize_cli(
        str(fp32), "--precision", "int8", "--calib", str(photo_npy / "dim.npy"),
        "--holdout", str(photo_npy / "photos.npy"), "-o", str(tmp_path / "bad.onnx"),
    )  # fmt: skip
    assert bad.exit_code == 1, bad.output
    assert "FAILED: output" in bad.stdout and "collapsed" in bad.stdout
    recorded = json.loads({p.key: p.value for p in onnx.load(str(tmp_path / "bad.onnx")).metadata_props}[
        "pt2trt.precision.accuracy"
    ])  # fmt: skip
    assert recorded["passed"] is False and any("collapsed" in r for r in recorded["reasons"])


def test_preprocessing_is_said_and_recorded_in_the_output(tmp_path):
    from pt2trt.imaging.preprocess import Preprocess

    fp32 = export(TinyClassifier().eval(), (1, 3, 32, 32), tmp_path / "tiny.onnx")
    images = photos(tmp_path / "photos", crops=1)
    given = quantize_cli(
        str(fp32), "--precision", "fp16", "--calib", str(images), "--preprocess", "imagenet-classification",
        "-o", str(tmp_path / "given.onnx"),
    )  # fmt: skip
    assert given.exit_code == 0, given.output
    assert "preprocessing: imagenet-classification" in given.stdout and "given (--preprocess)" in given.stdout
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "given.onnx")).metadata_props}
    recipe = Preprocess.from_json(meta["pt2trt.preprocessing"])
    assert recipe.preset == "imagenet-classification" and tuple(recipe.size) == (32, 32)  # the model's static size
    calibration = json.loads(meta["pt2trt.precision.calibration"])
    assert calibration["preprocessing"] == recipe.describe()
    default = quantize_cli(str(fp32), "--precision", "fp16", "--calib", str(images), "-o", str(tmp_path / "d.onnx"))
    assert "the imagenet-classification preset (the model records none" in default.stdout


def test_no_task_is_forced_on_a_non_image_output(tmp_path):
    fp32 = export_dynamic(Encoder(), (1, 16), tmp_path / "encoder.onnx", {0: "batch"})
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(40, 16)).astype(np.float32))
    result = quantize_cli(
        str(fp32), "--precision", "int8", "--calib", str(tmp_path / "x.npy"), "-o", str(tmp_path / "e.onnx"), "--json"
    )
    data = json.loads(result.stdout)
    assert data["accuracy"]["task"] is None and "no task metric" in data["accuracy"]["task_note"]
    assert data["accuracy"]["outputs"][0]["judgement"]["verdict"] in ("close", "degraded")


def test_task_none_on_an_image_classifier(tmp_path, photo_npy):
    fp32 = export(TinyClassifier().eval(), (1, 3, 64, 64), tmp_path / "tiny.onnx")
    guessed = quantize_cli(
        str(fp32), "--precision", "fp16", "--calib", str(photo_npy / "photos.npy"), "-o", str(tmp_path / "g.onnx")
    )
    assert "task: classify, guessed from the one output" in guessed.stdout and "--task none" in guessed.stdout
    result = quantize_cli(
        str(fp32), "--precision", "fp16", "--calib", str(photo_npy / "photos.npy"), "--task", "none",
        "-o", str(tmp_path / "n.onnx"), "--json",
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert data["accuracy"]["task"] is None and data["accuracy"]["outputs"][0]["judgement"]["verdict"] == "close"


def test_every_option_a_message_names_is_one_quantize_has(tmp_path):
    from pt2trt.precision.job import QUANTIZE_OPTIONS

    own = quantize_options()
    assert "--size" in own
    assert own == QUANTIZE_OPTIONS  # the options hints may name are the command's own
    fp32 = export(TinyClassifier().eval(), (1, 3, 32, 32), tmp_path / "tiny.onnx")
    images = photos(tmp_path / "photos", crops=0)
    wrong_task = quantize_cli(
        str(fp32), "--precision", "fp16", "--calib", str(images), "--task", "detect", "-o", str(tmp_path / "w.onnx")
    )
    assert wrong_task.exit_code == 1
    lines = [line for line in wrong_task.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pt2trt: error:"), wrong_task.stderr
    assert options_named(lines[0]) <= own, lines[0]
    # a dynamic input size: the note names --size, and --size sets the size the samples are made at
    dynamic = export_dynamic(TinyClassifier(), (1, 3, 32, 32), tmp_path / "dyn.onnx", {0: "batch", 2: "h", 3: "w"})
    noted = quantize_cli(str(dynamic), "--precision", "fp16", "--calib", str(images), "-o", str(tmp_path / "n.onnx"))
    assert noted.exit_code == 0, noted.output
    assert "--size HxW" in noted.output and options_named(noted.output) <= own
    sized = quantize_cli(
        str(dynamic), "--precision", "fp16", "--calib", str(images), "--size", "48x40", "-o", str(tmp_path / "s.onnx"),
        "--json",
    )  # fmt: skip
    data = json.loads(sized.stdout)
    assert "48x40" in data["calibration"]["preprocessing"] or "(48, 40)" in data["calibration"]["preprocessing"]


def test_a_detector_whose_outputs_hold_one_image_is_measured_image_by_image(tmp_path, photo_npy):
    """Outputs recorded as [batch, 4] that hold image 0 only: run at batch 8, concatenated, they were decoded as one
    image for a batch of 8 ("outputs hold 1 image(s) for a batch of 8"); now the samples run one at a time."""
    from pt2trt.precision import quantize

    names = ["boxes", "scores", "labels"]
    fp32 = export_dynamic(OneImageDetector(), (1, 3, 64, 64), tmp_path / "det.onnx", {0: "batch"}, names)
    settings = QuantizeSettings("int8", calib=photo_npy / "photos.npy", task="detect")
    result = quantize(fp32, tmp_path / "det8.onnx", settings, progress=False)
    assert result.accuracy.batch == 1
    counted = result.accuracy.counted
    assert counted is not None and counted.metric == "boxes agreeing" and counted.images == result.accuracy.samples
    assert counted.total == 12 * result.accuracy.samples  # 12 boxes per image, on every held-apart image
    assert result.passed and counted.fraction > 0.8


class TestAutoExclude:
    """Every path of --auto-exclude: target met at once, rounds that help, a round that does not, nothing to rank."""

    def test_target_met_at_once_runs_no_round(self, digits_onnx, tmp_path):
        from pt2trt.precision import quantize

        folder, fp32 = digits_onnx
        settings = QuantizeSettings(
            "int8", calib=folder / "calib.npy", target_agreement=0.5, int8=Int8Settings(auto_exclude=True)
        )
        result = quantize(fp32, tmp_path / "a.onnx", settings, progress=False)
        assert result.passed and result.details["auto_exclude"]["rounds"] == [] and result.excluded == []

    def test_ranking_rounds_keep_what_helps(self, digits_onnx, tmp_path):
        """Ranges from blank pages miss the target: each round ranks the layers with debug layers (it crashed here)
        and keeps an exclusion only when it brings the model closer to FP32."""
        from pt2trt.precision import quantize

        folder, fp32 = digits_onnx
        settings = QuantizeSettings(
            "int8", calib=folder / "blank.npy", holdout=folder / "eval.npy", target_agreement=0.99,
            int8=Int8Settings(auto_exclude=True, max_exclusions=2),
        )  # fmt: skip
        result = quantize(fp32, tmp_path / "r.onnx", settings, progress=False)
        rounds = result.details["auto_exclude"]["rounds"]
        assert 1 <= len(rounds) <= 2 and all(r["node"] for r in rounds)
        assert len(result.excluded) == sum(r["kept"] for r in rounds)
        assert all(x.reason.startswith("auto: added error") for x in result.excluded)
        assert result.details["auto_exclude"]["target_met"] == result.passed

    def test_a_round_that_does_not_help_is_undone(self, digits_onnx, tmp_path, monkeypatch):
        """The worst-ranked layer's exclusion changes nothing (a ReLU is not quantized): not kept, and the file
        written is the best model, not the last trial."""
        from pt2trt.precision import autoexclude, quantize
        from pt2trt.precision.autoexclude import Ranked

        folder, fp32 = digits_onnx
        relu = next(n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "Relu")
        monkeypatch.setattr(autoexclude, "rank_layers", lambda *a, **k: [Ranked(relu, "Relu", None, 1.0, 1.0)])
        plain_settings = QuantizeSettings("int8", calib=folder / "blank.npy", holdout=folder / "eval.npy")
        auto = Int8Settings(auto_exclude=True, max_exclusions=1)
        settings = replace(plain_settings, target_agreement=0.999, int8=auto)
        result = quantize(fp32, tmp_path / "u.onnx", settings, progress=False)
        rounds = result.details["auto_exclude"]["rounds"]
        assert [r["kept"] for r in rounds] == [False] and result.excluded == []
        plain = quantize(fp32, tmp_path / "p.onnx", plain_settings, progress=False)
        assert result.details["qdq"] == plain.details["qdq"]

    def test_nothing_left_to_rank_stops(self, digits_onnx, tmp_path, monkeypatch):
        from pt2trt.precision import autoexclude, quantize

        folder, fp32 = digits_onnx
        monkeypatch.setattr(autoexclude, "rank_layers", lambda *a, **k: [])
        settings = QuantizeSettings(
            "int8", calib=folder / "blank.npy", holdout=folder / "eval.npy", target_agreement=0.999,
            int8=Int8Settings(auto_exclude=True),
        )  # fmt: skip
        result = quantize(fp32, tmp_path / "n.onnx", settings, progress=False)
        assert result.details["auto_exclude"]["rounds"] == [] and not result.passed
