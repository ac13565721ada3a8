"""The sweep's manifest (convert's own config keys, checked before anything runs), the baseline verdicts and the JUnit
file.

Nothing here runs a model: these are the parts of ``pt2trt sweep`` that decide before and after the runs
(tests/test_sweep.py runs real sweeps, locally and on Ray clusters).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pt2trt.cli.config_file import load_config
from pt2trt.cli.convert import command as convert_command
from pt2trt.cli.convert import settings_of
from pt2trt.cli.main import cli
from pt2trt.cli.sweep import ConvertCommand
from pt2trt.settings import Thresholds
from pt2trt.sweeping import convert_config
from pt2trt.sweeping.baseline import IMPROVED, NEW, REGRESSION, SAME, STILL_FAILING, compare, latency_change
from pt2trt.sweeping.manifest import load_manifest
from pt2trt.sweeping.outputs import SweepReport, junit_xml
from pt2trt.sweeping.records import FAILED, PASSED, Latency, Metric, ModelResult

PREFIX = "pt2trt: error: "


def write(tmp_path: Path, text: str, name: str = "zoo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def child_config(tmp_path: Path, entry: object) -> dict[str, object]:
    """The entry's config file as the child reads it: ``convert --config`` (its own loader), by parameter name."""
    path = tmp_path / convert_config.CONFIG
    path.write_text(entry.config)  # type: ignore[attr-defined]
    return load_config(path, convert_command)


def test_manifest_merges_defaults_keeps_lines_and_writes_convert_s_config(tmp_path: Path) -> None:
    (tmp_path / "nets").mkdir()
    manifest = write(
        tmp_path,
        "defaults:\n"
        "  backend: torch,onnxruntime\n"
        "  bench_duration: 0.2\n"
        "models:\n"
        "  - name: seed\n"
        "    model: pt2trt.models:SeedNet\n"
        "    input: input:1x3x28x28\n"
        "    dynamic_batch: true\n"
        "  - name: mine\n"
        "    model: nets/mine.py:Net\n"
        "    input: [x:1x3x8x8, y:1x1x8x8]\n"
        "    backend: onnxruntime\n"
        "    precision: fp16,int8\n"
        "    calib: data/calib\n",
    )
    plan = load_manifest(manifest, ConvertCommand())
    seed, mine = plan.entries
    assert (seed.name, seed.line, mine.line) == ("seed", 5, 9)
    assert seed.lines["bench_duration"] == 3 and mine.lines["backend"] == 12  # inherited, own
    # the child runs `convert --config .convert.yaml -o NAME`: the entry is convert's config file, name left out
    assert convert_config.convert_argv("seed") == ["convert", "--config", ".convert.yaml", "-o", "seed"]
    assert yaml.safe_load(seed.config) == {
        "backend": "torch,onnxruntime", "bench_duration": 0.2, "model": "pt2trt.models:SeedNet",
        "input": "input:1x3x28x28", "dynamic_batch": True,
    }  # fmt: skip
    assert child_config(tmp_path, seed) == {
        "backends": "torch,onnxruntime", "bench_duration": 0.2, "model": "pt2trt.models:SeedNet",
        "inputs": ["input:1x3x28x28"], "dynamic_batch": True,
    }  # fmt: skip
    # relative paths are the manifest folder's; module specs stay as they are
    assert mine.model == f"{tmp_path.resolve() / 'nets' / 'mine.py'}:Net"
    mine_config = child_config(tmp_path, mine)
    assert mine_config["calib"] == str(tmp_path.resolve() / "data" / "calib")
    assert mine_config["precision"] == "fp16,int8" and mine_config["inputs"] == ["x:1x3x8x8", "y:1x1x8x8"]
    assert settings_of(mine_config).precisions == ("fp16", "int8")
    # the fingerprint follows a model's options, its inherited defaults included (--resume runs it again)
    changed = load_manifest(write(tmp_path, manifest.read_text().replace("1x3x28x28", "1x3x32x32"), "b.yaml"),
                            ConvertCommand())  # fmt: skip
    assert changed.entries[0].fingerprint != seed.fingerprint
    assert changed.entries[1].fingerprint == mine.fingerprint
    defaults = load_manifest(write(tmp_path, manifest.read_text().replace("0.2", "0.3"), "c.yaml"), ConvertCommand())
    assert all(a.fingerprint != b.fingerprint for a, b in zip(defaults.entries, plan.entries))


def test_every_convert_option_is_a_manifest_key(tmp_path: Path) -> None:
    """Keys the sweep never listed itself (weights, preprocess, labels, eval, max_drop, profiles, task options...)
    reach the child's config and convert's settings; names stay names, files beside the manifest become paths."""
    (tmp_path / "digits.pt").write_bytes(b"")
    (tmp_path / "digits-preprocess.yaml").write_text("resize: stretch\nsize: 32x32\nchannels: L\nscale: 1/255\n")
    (tmp_path / "val").mkdir()
    manifest = write(
        tmp_path,
        "models:\n"
        "  - name: digits\n"
        "    model: digits_cnn.py:DigitsCNN\n"
        "    weights: digits.pt\n"
        "    input: input:1x1x32x32\n"
        "    preprocess: digits-preprocess.yaml\n"
        "    task: classify\n"
        "    top_k: 3\n"
        "    labels: imagenet\n"
        "    eval: val\n"
        "    max_drop: 2\n"
        "    min_shapes: input:1x1x32x32\n"
        "    max_shapes: input:4x1x32x32\n"
        "    exporter: legacy\n"
        "    elementwise: true\n"
        "    trt_version: 11\n"
        "  - name: preset\n"
        "    model: pt2trt.models:SeedNet\n"
        "    input: input:1x3x28x28\n"
        "    preprocess: imagenet-classification\n",
    )
    digits, preset = load_manifest(manifest, ConvertCommand()).entries
    settings = settings_of(child_config(tmp_path, digits))
    root = tmp_path.resolve()
    assert settings.weights.weights == root / "digits.pt"
    assert settings.preprocess.preprocess == str(root / "digits-preprocess.yaml")
    assert settings.eval_data == root / "val" and settings.max_drop == 2
    assert settings.labels == "imagenet"  # a built-in name: no file of that name beside the manifest
    assert settings.task.task == "classify" and settings.task.top_k == 3 and settings.export.exporter == "legacy"
    assert settings.trt_version == "11" and not settings.tolerance.scaled
    (profile,) = settings.profiles
    assert profile.shapes["input"] == ((1, 1, 32, 32), (4, 1, 32, 32), (4, 1, 32, 32))
    assert settings_of(child_config(tmp_path, preset)).preprocess.preprocess == "imagenet-classification"


def test_the_manifest_keys_are_read_from_convert_s_own_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An option convert gains is a manifest key at once: nothing in pt2trt.sweeping lists them."""
    import click

    from pt2trt.cli import convert as convert_module

    manifest = write(tmp_path, "models:\n  - name: a\n    model: m:N\n    new_knob: 3\n")
    with pytest.raises(Exception, match="unknown key 'new_knob'"):
        load_manifest(manifest, ConvertCommand())
    knob = click.Option(["--new-knob"], type=int, expose_value=False)
    monkeypatch.setattr(convert_module.command, "params", [*convert_module.command.params, knob])
    (entry,) = load_manifest(manifest, ConvertCommand()).entries
    assert yaml.safe_load(entry.config) == {"model": "m:N", "new_knob": 3}


# (id, manifest text, line named, fragment)
BAD_MANIFESTS = [
    (
        "unknown-key",
        "models:\n  - name: a\n    model: m:N\n    dynamic_bacth: true\n",
        4,
        "did you mean 'dynamic_batch'",
    ),
    ("unknown-top", "model:\n  - name: a\n", 1, "'models:' list"),
    ("unknown-default", "defaults:\n  speed: 3\nmodels:\n  - name: a\n    model: m:N\n", 2, "unknown key 'speed'"),
    ("unknown-name", "models:\n  - nmae: a\n    model: m:N\n", 2, "did you mean 'name'"),
    ("name-in-defaults", "defaults:\n  name: a\nmodels:\n  - model: m:N\n", 2, "a name of its own"),
    ("duplicate-key", "models:\n  - name: a\n    model: m:N\n    name: b\n", 4, "given twice (first on line 2)"),
    ("duplicate-name", "models:\n  - name: a\n    model: m:N\n  - name: A\n    model: m:M\n", 4, "used twice"),
    ("reserved", "models:\n  - name: a\n    model: m:N\n    output: x\n", 4, "set by the sweep"),
    ("flag-kind", "models:\n  - name: a\n    model: m:N\n    dynamic_batch: yes please\n", 4, "true or false"),
    ("list-kind", "models:\n  - name: a\n    model: m:N\n    opset: [17, 18]\n", 4, "'opset' takes one value"),
    ("comma-list", "models:\n  - name: a\n    model: m:N\n    backend: [onnxruntime, openvino]\n", 4, "one value"),
    ("no-model", "models:\n  - name: a\n    input: x:1x3\n", 2, "without 'model'"),
    ("bad-name", "models:\n  - name: ../up\n    model: m:N\n", 2, "cannot be a folder name"),
    ("yaml", "models:\n  - name: a\n    model: [m:N\n", 4, "not valid YAML"),
    ("empty-models", "models: []\n", 1, "at least one model"),
    # values convert itself refuses, found by convert's own parser before anything runs
    ("trt-version", "models:\n  - name: a\n    model: m:N\n    input: x:1x3\n    trt_version: '12'\n", 5, "12"),
    ("input-spec", "models:\n  - name: a\n    model: m:N\n    input: x:1x3xAx4\n", 4, "--input"),
    ("task", "models:\n  - name: a\n    model: m:N\n    input: x:1x3\n    task: translate\n", 5, "translate"),
    ("precision", "models:\n  - name: a\n    model: m:N\n    precision: fp16,fp7\n", 4, "unknown precision 'fp7'"),
    ("trt-99", "models:\n  - name: a\n    model: m:N\n    trt_version: 99\n", 4, "invalid value for 'trt_version': 99"),
    ("max-drop", "models:\n  - name: a\n    model: m:N\n    max_drop: -1\n", 4, "x>=0"),
    ("eval-missing", "models:\n  - name: a\n    model: m:N\n    eval: nosuch/\n", 4, "does not exist"),
    ("backend", "defaults:\n  backend: onnxrt\nmodels:\n  - name: a\n    model: m:N\n", 2, "unknown backend"),
    ("profile", "models:\n  - name: a\n    model: m:N\n    min_shapes: x\n", 4, "--min-shapes"),
    ("unknown-eval", "models:\n  - name: a\n    model: m:N\n    evall: data/\n", 4, "did you mean 'eval'"),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"), [c[1:] for c in BAD_MANIFESTS], ids=[c[0] for c in BAD_MANIFESTS]
)
def test_a_bad_manifest_is_one_line_naming_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    manifest = write(tmp_path, text)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["sweep", str(manifest), "-o", str(out)])
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"{PREFIX}{manifest}:{line}: "), result.stderr
    assert fragment.lower() in lines[0].lower(), lines[0]
    assert not out.exists()  # nothing ran, nothing was written


def test_the_python_api_checks_the_manifest_as_the_cli_does(tmp_path: Path) -> None:
    """``pt2trt.sweep`` passes convert's own options too: a bad value is refused at its line, nothing written."""
    import re

    import pt2trt
    from pt2trt.errors import UsageError
    from pt2trt.settings import SweepSettings

    manifest = write(tmp_path, "models:\n  - name: a\n    model: m:N\n    input: x:1x3\n    trt_version: '12'\n")
    with pytest.raises(UsageError, match=rf"^{re.escape(str(manifest))}:5: invalid value for 'trt_version': '12'"):
        pt2trt.sweep(manifest, tmp_path / "out", progress=False)
    with pytest.raises(UsageError, match="--resume and --force contradict"):
        pt2trt.sweep(manifest, tmp_path / "out", SweepSettings(resume=True, force=True), progress=False)
    assert not (tmp_path / "out").exists()


def test_sweep_flags_and_files_each_one_line(tmp_path: Path) -> None:
    manifest = write(tmp_path, "models:\n  - name: a\n    model: m:N\n    input: x:1x3\n")
    (tmp_path / "file").write_text("x")
    cases = [
        (["--resume", "--force"], 2, "contradict"),
        (["--fail-on-regression"], 2, "needs --baseline"),
        (["--baseline", str(tmp_path / "nothing")], 1, "not a folder"),
        (["--baseline", str(tmp_path)], 1, "no results.json"),
    ]
    for args, code, fragment in cases:
        result = CliRunner().invoke(cli, ["sweep", str(manifest), "-o", str(tmp_path / "out"), *args])
        assert result.exit_code == code, (args, result.stderr)
        assert fragment in result.stderr and len(result.stderr.splitlines()) <= 2, (args, result.stderr)
    missing = CliRunner().invoke(cli, ["sweep", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "o")])
    assert missing.exit_code == 1 and "none.yaml not found" in missing.stderr
    into_file = CliRunner().invoke(cli, ["sweep", str(manifest), "-o", str(tmp_path / "file")])
    assert into_file.exit_code != 0 and "file" in into_file.stderr
    assert not (tmp_path / "out").exists()


def test_sweep_ray_without_ray_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    manifest = write(tmp_path, "models:\n  - name: a\n    model: m:N\n    input: x:1x3\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError, as without the extra
    result = CliRunner().invoke(cli, ["sweep", str(manifest), "-o", str(tmp_path / "out"), "--ray", "local"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'{PREFIX}pt2trt sweep --ray needs Ray, which is not installed. Install it with: pip install "pt2trt[ray]"'
    ]
    assert not (tmp_path / "out").exists()


# -- the baseline verdict ----------------------------------------------------------------------------------------------
def latency(median: float, p90: float, n: int = 100) -> Latency:
    return Latency(median=median, p90=p90, min=median * 0.9, n=n)


def test_a_latency_change_counts_only_beyond_the_runs_own_spread() -> None:
    steady, jittery = latency(1.0, 1.02), latency(1.0, 1.40)  # p90 2 % and 40 % above the median
    # 25 % slower: beyond the 10 % threshold of a steady run, within the spread of a jittery one
    assert latency_change(steady, latency(1.25, 1.27), 0.10)[2] == "slower"
    ratio, band, change = latency_change(jittery, latency(1.25, 1.27), 0.10)
    assert change == "same" and band == pytest.approx(0.40) and ratio == pytest.approx(1.25)
    assert latency_change(jittery, latency(1.5, 1.6), 0.10)[2] == "slower"
    assert latency_change(steady, latency(0.8, 0.81), 0.10)[2] == "faster"
    assert latency_change(steady, latency(1.05, 1.06), 0.10)[2] == "same"  # under the threshold


def result(name: str, status: str = PASSED, **fields: object) -> ModelResult:
    return ModelResult(name=name, model=f"m:{name}", line=2, status=status, **fields)  # type: ignore[arg-type]


def test_verdicts_new_failures_metric_drops_and_fixes() -> None:
    th = Thresholds(latency=0.10, metric_drop=0.01)
    agreement = lambda v: {"precision-fp16.top1_agreement": Metric(v, 8, True)}  # noqa: E731
    errors = lambda v: {"verify.max_abs_error": Metric(v, 1, False)}  # noqa: E731
    before = result("a", metrics=agreement(1.0) | errors(1e-7), latency={"onnxruntime": latency(1.0, 1.02)})
    same = compare(result("a", metrics=agreement(1.0) | errors(3e-7), latency={"onnxruntime": latency(1.01, 1.03)}),
                   before, th)  # fmt: skip
    assert same.verdict == SAME and not same.findings  # an error growing within tolerance is shown, not flagged
    assert same.metrics["verify.max_abs_error"]["delta"] == pytest.approx(2e-7)
    drop = compare(result("a", metrics=agreement(0.625)), before, th)
    assert drop.verdict == REGRESSION and "top1_agreement 1 -> 0.625 (-0.375 on 8 sample(s))" in drop.line()
    failing = result("a", FAILED, step="verify", reason="ONNX Runtime does not reproduce PyTorch")
    new_failure = compare(failing, before, th)
    assert new_failure.regression and "newly failed at verify: ONNX Runtime does not" in new_failure.line()
    assert compare(before, failing, th).verdict == IMPROVED  # fixed
    assert compare(failing, failing, th).verdict == STILL_FAILING
    assert compare(before, None, th).verdict == NEW
    slower = compare(result("a", latency={"onnxruntime": latency(3.0, 3.1)}), before, th)
    assert slower.regression and "onnxruntime slower 1 -> 3 ms (x3.00" in slower.line()


def test_junit_xml_is_read_by_a_junit_reader(tmp_path: Path) -> None:
    """junitparser (what CI plugins are built on) reads one case per model, failures with the step and reason."""
    from junitparser import Error, Failure, JUnitXml

    models = [
        result("good", seconds=1.5, report="good/report.html"),
        result("drift", FAILED, step="verify", reason="ONNX Runtime does not reproduce PyTorch (max abs error 0.1)"),
        result("gone", "error", step="worker", reason="the convert process was killed by SIGKILL on each of 2"),
        result("slow", seconds=2.0),
    ]
    report = SweepReport(tmp_path / "zoo.yaml", tmp_path, "2 local worker process(es)", models, seconds=7.25)
    report.baseline = tmp_path / "prev"
    report.verdicts = {"slow": compare(models[3], result("slow"), Thresholds())}
    report.verdicts["slow"].verdict = REGRESSION  # as if its latency had grown
    path = tmp_path / "junit.xml"
    path.write_text(junit_xml(report))
    xml = JUnitXml.fromfile(str(path))
    suite = next(iter(xml))
    cases = {case.name: case for case in suite}
    assert set(cases) == {"good", "drift", "gone", "slow"} and suite.tests == 4
    assert suite.failures == 2 and suite.errors == 1 and suite.time == pytest.approx(7.25)
    assert cases["good"].is_passed and cases["good"].time == pytest.approx(1.5)
    (failure,) = cases["drift"].result
    assert isinstance(failure, Failure) and failure.type == "verify"
    assert failure.message == "verify: ONNX Runtime does not reproduce PyTorch (max abs error 0.1)"
    (error,) = cases["gone"].result
    assert isinstance(error, Error) and error.type == "worker" and "SIGKILL" in error.message
    assert cases["slow"].result[0].type == "regression"


def test_results_json_round_trips_as_a_baseline(tmp_path: Path) -> None:
    from pt2trt.sweeping.baseline import load_baseline

    model = result("a", metrics={"verify.cosine": Metric(0.99999, 1)}, latency={"openvino": latency(2.0, 2.2)})
    report = SweepReport(tmp_path / "zoo.yaml", tmp_path, "x", [model])
    (tmp_path / "results.json").write_text(json.dumps(report.to_dict()))
    assert load_baseline(tmp_path) == {"a": model}


def test_report_reading_judges_detectors_by_their_boxes_not_their_raw_outputs() -> None:
    """A detector's raw outputs are sets of boxes whose order may change: no cosine metric for them (the box matching
    is the metric), while a classifier's logits keep theirs. The report's shape is convert's (report.json)."""
    from pt2trt.sweeping.convert_report import outcome

    def report(task: str, metric: str) -> dict[str, object]:
        outputs = [{"name": "boxes", "cosine_similarity": 0.57, "max_abs_error": 293.5}]
        verify = {"outputs": outputs, "task": {"task": task, "images": 1, metric: 1.0, "detections_a": 7}}
        return {"passed": True, "steps": [{"name": "verify", "status": "passed", "line": "ok", "data": verify}]}

    detect = outcome(report("detect", "matched_fraction"))["metrics"]
    assert set(detect) == {"verify.matched_fraction", "verify.max_abs_error"}  # counts (detections_a) left out
    assert detect["verify.max_abs_error"].higher_is_better is False
    classify = outcome(report("classify", "top1_agreement"))["metrics"]
    assert set(classify) == {"verify.cosine", "verify.max_abs_error", "verify.top1_agreement"}
    assert classify["verify.cosine"].value == 0.57 and classify["verify.top1_agreement"].samples == 1
