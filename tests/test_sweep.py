"""``pt2trt sweep`` for real: tiny models converted by real ``pt2trt convert`` processes, on local workers, on a Ray
cluster that ``--ray local`` starts, and on a two-node Ray cluster of this machine whose second node declares a GPU.

Models are written into each test's folder (so that a test can plant a change in them between two sweeps, or make
one kill its own process); they take 1x3x8x8 inputs and the sweeps bench ONNX Runtime only for a moment.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pt2trt.cli.main import cli
from tests.ray_cluster import RayCluster, ray_cluster

DEFAULTS = "defaults:\n  backend: onnxruntime\n  bench_duration: 0.05\n"

SMALL = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        {init}
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).flatten(1))
"""


def model_file(folder: Path, name: str, init: str = "pass", source: str = SMALL) -> str:
    """Write a model file ``NAME.py`` (``Net``: Conv-ReLU-Linear on 1x3x8x8) whose ``__init__`` first runs ``init``."""
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source).replace("{init}", init.replace("\n", "\n        ")))
    return f"{path}:Net"


def kill_init(marker: Path, *, always: bool, target: str) -> str:
    """``__init__`` code that appends a line to ``marker`` and SIGKILLs ``target`` (``self``: the convert process;
    ``parent``: the process that started it, a Ray worker) on the first construction only, or on every one."""
    victim = "os.getppid()" if target == "parent" else "os.getpid()"
    return textwrap.dedent(f"""\
        import os, signal
        from pathlib import Path
        marker = Path({str(marker)!r})
        first = not marker.exists()
        with marker.open("a") as f:
            f.write("constructed\\n")
        if first or {always}:
            os.kill({victim}, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)""")


def manifest(folder: Path, models: dict[str, dict[str, Any]], name: str = "zoo.yaml") -> Path:
    lines = [DEFAULTS, "models:"]
    for model_name, values in models.items():
        lines.append(f"  - name: {model_name}")
        lines += [f"    {key}: {json.dumps(value)}" for key, value in values.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def sweep(*args: str) -> Any:
    return CliRunner().invoke(cli, ["sweep", *args], catch_exceptions=False)


def results(out: Path) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in json.loads((out / "results.json").read_text())["models"]}


def junit_cases(out: Path) -> dict[str, Any]:
    from junitparser import JUnitXml

    return {case.name: case for suite in JUnitXml.fromfile(str(out / "junit.xml")) for case in suite}


def overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Seconds during which two models' converts ran at the same time."""
    return min(a["finished"], b["finished"]) - max(a["started"], b["started"])


SEEDNET = {"model": "pt2trt.models:SeedNet", "input": "input:1x3x28x28"}
TWOINPUT = {"model": "pt2trt.models:TwoInputNet", "input": ["x:1x3x28x28", "y:1x1x28x28"], "dynamic_batch": True}


def test_three_models_on_two_local_workers_one_broken(tmp_path: Path) -> None:
    zoo = manifest(
        tmp_path, {"seednet": SEEDNET, "twoinput": TWOINPUT, "broken": {**SEEDNET, "model": "nosuch.net:Net"}}
    )
    out = tmp_path / "out"
    result = sweep(str(zoo), "-o", str(out), "--workers", "2")
    assert result.exit_code == 1, result.output  # one model failed; the others were converted all the same
    found = results(out)
    assert [found[n]["status"] for n in ("seednet", "twoinput", "broken")] == ["passed", "passed", "failed"]
    broken = found["broken"]
    assert broken["step"] == "export" and "cannot import module 'nosuch.net'" in broken["reason"]
    assert re.search(r"^broken +failed at export: cannot import module 'nosuch.net'", result.stdout, re.M)
    assert overlap(found["seednet"], found["twoinput"]) > 0  # two workers: converts ran side by side
    for name in ("seednet", "twoinput"):
        folder = out / name
        assert {"report.json", "report.html", "model.onnx", "build-plan.json", "sweep.json"} <= {
            p.name for p in folder.iterdir()
        }
        assert found[name]["latency"]["onnxruntime"]["median"] > 0 and found[name]["where"]["executor"] == "local"
        assert found[name]["metrics"]["verify.cosine"]["value"] > 0.9999
    assert found["twoinput"]["engine"]["status"] == "planned"  # no TensorRT here: convert wrote the plan
    # progress: one line per finished model, the count and an estimate; the last says done
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 3 and progress[-1].startswith("[3/3]") and progress[-1].endswith("(done)")
    assert "left)" in progress[0]
    cases = junit_cases(out)
    assert cases["seednet"].is_passed and cases["twoinput"].is_passed
    assert cases["broken"].result[0].type == "export" and "nosuch.net" in cases["broken"].result[0].message
    index = (out / "index.html").read_text()
    assert 'href="seednet/report.html"' in index and 'href="twoinput/report.html"' in index
    assert "2/3 models passed, 1 failed" in index and "cannot import module" in index
    assert not (out / ".work").exists()
    # a second sweep into the same folder is refused without --resume or --force
    again = sweep(str(zoo), "-o", str(out))
    assert again.exit_code == 1 and "already holds" in again.stderr and "--resume" in again.stderr


def test_convert_s_own_keys_reach_each_model_weights_preprocessing_and_eval(tmp_path: Path) -> None:
    """Keys the sweep never listed (``weights``, ``preprocess``, ``eval``, ``max_drop``, ``labels``) go to convert as
    its config file: the digits CNN of examples/ with weights trained here, its preprocessing from a YAML file and
    labelled pictures beside the manifest (relative paths), scored at FP32 and FP16 by convert's --eval."""
    import torch
    import yaml

    from tests.conftest import ROOT
    from tests.eval_data import digits_split, train_digits_cnn, write_digits

    train, train_labels, test, test_labels = digits_split()
    torch.save(train_digits_cnn(train, train_labels, epochs=2).state_dict(), tmp_path / "digits.pt")  # DigitsCNN's keys
    write_digits(tmp_path / "val", test[:40], test_labels[:40])
    (tmp_path / "digits.yaml").write_text("resize: stretch\nsize: 32x32\nchannels: L\nscale: 1/255\n")
    zoo = manifest(
        tmp_path,
        {
            "digits": {
                "model": f"{ROOT / 'examples' / 'digits_cnn.py'}:DigitsCNN", "weights": "digits.pt",
                "input": "input:1x1x32x32", "preprocess": "digits.yaml", "task": "classify", "labels": "digits.txt",
                "precision": "fp16", "eval": "val", "max_drop": 5,
            }
        },
    )  # fmt: skip
    (tmp_path / "digits.txt").write_text("".join(f"{n}\n" for n in range(10)))  # the class folders' names
    out = tmp_path / "out"
    result = sweep(str(zoo), "-o", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    model = results(out)["digits"]
    # convert's --eval ran on the 40 pictures: the sweep records each model's task metric (a baseline compares them)
    scored = {k: v for k, v in model["metrics"].items() if k.startswith("eval.")}
    assert set(scored) == {f"eval.{m}.{k}" for m in ("pytorch", "fp32", "fp16") for k in ("top1", "top5")}, scored
    assert all(m["samples"] == 40 and m["higher_is_better"] for m in scored.values())
    report = json.loads((out / "digits" / "report.json").read_text())
    (evaluation,) = [s["data"] for s in report["steps"] if s["name"] == "eval"]
    fp32 = next(m for m in evaluation["models"] if m["model"].endswith("/model.onnx"))
    assert scored["eval.fp32.top1"]["value"] == fp32["metrics"]["top1"] > 0.5  # the trained weights: far above 0.1
    # convert's effective configuration: the entry's values, paths taken from the manifest's folder
    config = yaml.safe_load((out / "digits" / "config.yaml").read_text())
    root = tmp_path.resolve()
    assert config["weights"] == str(root / "digits.pt") and config["eval"] == str(root / "val")
    assert config["preprocess"] == str(root / "digits.yaml") and config["labels"] == str(root / "digits.txt")
    assert config["max_drop"] == 5 and config["precision"] == "fp16"


def test_a_killed_convert_is_run_once_more_then_reported(tmp_path: Path) -> None:
    once, always = tmp_path / "once.log", tmp_path / "always.log"
    zoo = manifest(
        tmp_path,
        {
            "killed-once": {"model": model_file(tmp_path, "k1", kill_init(once, always=False, target="self")),
                            "input": "x:1x3x8x8"},
            "killed-always": {"model": model_file(tmp_path, "k2", kill_init(always, always=True, target="self")),
                              "input": "x:1x3x8x8"},
        },
    )  # fmt: skip
    out = tmp_path / "out"
    result = sweep(str(zoo), "-o", str(out), "--workers", "2")
    assert result.exit_code == 1
    found = results(out)
    assert found["killed-once"]["status"] == "passed" and found["killed-once"]["attempts"] == 2
    assert once.read_text().count("constructed") == 2
    gone = found["killed-always"]
    assert (gone["status"], gone["step"], gone["attempts"]) == ("error", "worker", 2)
    assert "killed by SIGKILL on each of 2 attempts" in gone["reason"]
    assert always.read_text().count("constructed") == 2  # retried once, not more
    assert "attempt 2, after SIGKILL" in (out / "killed-always" / "convert.log").read_text()
    error = junit_cases(out)["killed-always"].result[0]
    assert type(error).__name__ == "Error" and error.type == "worker"


def test_ray_local_cluster_runs_the_sweep_and_ships_the_folders_back(tmp_path: Path) -> None:
    from tests.convert_models import __file__ as drift_file

    zoo = manifest(
        tmp_path,
        {
            "seednet": SEEDNET,
            "twoinput": TWOINPUT,
            "drift": {"model": f"{drift_file}:DriftNet", "input": "x:1x3x16x16"},
        },
    )
    out = tmp_path / "out"
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("pt2trt-ray-*"))
    result = sweep(str(zoo), "-o", str(out), "--ray", "local", "--workers", "2")
    assert result.exit_code == 1, result.output
    assert "on a local Ray cluster: 1 node(s), 2 CPU(s), 0 GPU(s)" in result.stderr
    found = results(out)
    assert found["seednet"]["status"] == found["twoinput"]["status"] == "passed"
    drift = found["drift"]
    assert (drift["status"], drift["step"]) == ("failed", "verify")
    assert "ONNX Runtime does not reproduce PyTorch" in drift["reason"]
    for model in found.values():
        assert model["where"]["executor"] == "ray" and len(model["where"]["node"]) == 56
        # the output came back as bytes from the worker's own temp folder: convert's report names its own paths
        assert (out / model["name"] / "report.json").is_file() and (out / model["name"] / "convert.log").is_file()
    assert found["seednet"]["engine"]["gpu"].startswith("no GPU in the Ray cluster: not built")
    assert overlap(found["seednet"], found["twoinput"]) > 0 or overlap(found["seednet"], drift) > 0
    import ray

    assert not ray.is_initialized()  # the local cluster was shut down, its temp folder removed
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("pt2trt-ray-*")) == before


@pytest.fixture(scope="module")
def gpu_cluster() -> Any:
    with ray_cluster(gpu_node=True) as cluster:
        yield cluster


def test_gpu_task_lands_on_the_gpu_node_and_a_killed_ray_worker_is_retried_once(
    tmp_path: Path, gpu_cluster: RayCluster
) -> None:
    """Two nodes on 127.0.0.1, the second declaring ``num_gpus=1``. Each model's engine task asks for a GPU: it must
    run on that node, and say honestly that TensorRT is not there (no engine is claimed). A model that kills its
    Ray worker once passes on Ray's retry; one that kills it every time is reported after the retry."""
    once, always = tmp_path / "once.log", tmp_path / "always.log"
    killed_once = model_file(tmp_path, "k1", kill_init(once, always=False, target="parent"))
    killed_always = model_file(tmp_path, "k2", kill_init(always, always=True, target="parent"))
    zoo = manifest(
        tmp_path,
        {
            "seednet": SEEDNET,
            "worker-killed-once": {"model": killed_once, "input": "x:1x3x8x8"},
            "worker-killed-always": {"model": killed_always, "input": "x:1x3x8x8"},
        },
    )
    out = tmp_path / "out"
    result = sweep(str(zoo), "-o", str(out), "--ray", gpu_cluster.address)
    assert result.exit_code == 1
    assert "2 node(s), 3 CPU(s), 1 GPU(s)" in result.stderr
    found = results(out)
    for name in ("seednet", "worker-killed-once"):
        model = found[name]
        engine = model["engine"]
        assert engine["where"]["node"] == gpu_cluster.gpu_node  # placed by Ray on the node that declares the GPU
        assert engine["gpu_ids"] == ["0"] and engine["status"] == "not built"
        assert "TensorRT is not installed" in engine["reason"]
        assert (model["status"], model["step"]) == ("failed", "gpu-build")  # never claimed built
        assert all(s["status"] in ("passed", "warning") for s in model["steps"])  # convert's own steps all passed
        assert not (out / name / "model.engine").exists()
    assert once.read_text().count("constructed") == 2  # the worker died once, Ray ran the task again
    gone = found["worker-killed-always"]
    assert (gone["status"], gone["step"]) == ("error", "worker")
    assert "the Ray task failed after its retry" in gone["reason"]
    assert always.read_text().count("constructed") == 2  # max_retries=1: two tries, not more
    assert "gpu-build: engine not built on GPU node" in junit_cases(out)["seednet"].result[0].message


HEAVY = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        layers = [nn.Conv2d(3, 96, 3, padding=1), nn.ReLU()]
        for _ in range(6):
            layers += [nn.Conv2d(96, 96, 3, padding=1), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(96, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(torch.nn.functional.interpolate(x, size=48)).mean((2, 3)))
"""

TIES = """
import torch
from torch import nn


class Net(nn.Module):
    \"\"\"Ten class weights within FP16's rounding of each other: in FP16 the top-1 class changes on some inputs.\"\"\"

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)
        with torch.no_grad():
            base = torch.randn(1, 4 * 8 * 8, generator=g)
            self.fc.weight.copy_(base + 2e-4 * torch.randn(10, 4 * 8 * 8, generator=g))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).flatten(1))
"""


def test_baseline_verdict_finds_the_planted_regressions(tmp_path: Path) -> None:
    """Sweep, then change three models' code (slower, FP16-fragile, broken) and sweep again on Ray with --baseline."""
    models = tmp_path / "models"
    models.mkdir()
    zoo = manifest(
        tmp_path,
        {
            "steady": {"model": model_file(models, "steady"), "input": "x:1x3x8x8"},
            "heavy": {"model": model_file(models, "heavy"), "input": "x:1x3x8x8"},
            "fp16": {"model": model_file(models, "fp16"), "input": "x:1x3x8x8", "precision": "fp16",
                     "task": "classify"},
            "fragile": {"model": model_file(models, "fragile"), "input": "x:1x3x8x8"},
        },
    )  # fmt: skip
    first = tmp_path / "first"
    assert sweep(str(zoo), "-o", str(first), "--workers", "2").exit_code == 0
    model_file(models, "heavy", source=HEAVY)  # ~100x the work per inference
    model_file(models, "fp16", source=TIES)
    model_file(models, "fragile", init="raise RuntimeError('planted: the model no longer builds')")
    second = tmp_path / "second"
    # This machine is shared (load 2 to 8 while measured): identical sweeps moved ONNX Runtime medians by up to 1.9x,
    # so the threshold here is x3; the planted slowdown is about two orders of magnitude.
    result = sweep(
        str(zoo), "-o", str(second), "--ray", "local", "--workers", "2", "--baseline", str(first),
        "--latency-threshold", "2", "--fail-on-regression",
    )  # fmt: skip
    assert result.exit_code == 1
    verdicts = {name: m["verdict"] for name, m in results(second).items()}
    assert verdicts["steady"]["verdict"] == "no change", verdicts["steady"]
    heavy = verdicts["heavy"]
    assert heavy["verdict"] == "regression" and heavy["latency"]["onnxruntime"]["change"] == "slower"
    assert heavy["latency"]["onnxruntime"]["ratio"] > 10
    fp16 = verdicts["fp16"]
    assert fp16["verdict"] == "regression", fp16
    drop = fp16["metrics"]["precision-fp16.top1_agreement"]
    assert drop["before"] == 1.0 and drop["after"] < 0.99 and drop["samples"] == 8
    fragile = verdicts["fragile"]
    assert fragile["verdict"] == "regression" and fragile["findings"][0]["kind"] == "new failure"
    assert "planted: the model no longer builds" in fragile["line"]
    stdout = result.stdout
    assert "against the baseline" in stdout
    assert re.search(r"^  heavy +regression: onnxruntime slower", stdout, re.M), stdout
    # below convert's --min-agreement the precision step fails; the metric it measured is still compared
    assert re.search(r"^  fp16 +regression: newly failed at precision-fp16: .*; precision-fp16.top1_agreement 1 -> ",
                     stdout, re.M), stdout  # fmt: skip
    assert "3 regression(s)" in stdout
    cases = junit_cases(second)
    assert cases["heavy"].result[0].type == "regression" and cases["steady"].is_passed
    index = (second / "index.html").read_text()
    assert index.count('class="v-regression"') == 3 and 'class="v-no-change"' in index


SLEEPY = """
import os, time
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        time.sleep(float(os.environ.get("PT2TRT_TEST_SLEEP", "0")))
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))
"""


def test_a_sweep_killed_half_way_loses_nothing_done(tmp_path: Path) -> None:
    zoo = manifest(
        tmp_path,
        {
            "first": {"model": model_file(tmp_path, "first"), "input": "x:1x3x8x8"},
            "sleepy": {"model": model_file(tmp_path, "sleepy", source=SLEEPY), "input": "x:1x3x8x8"},
            "last": {"model": model_file(tmp_path, "last"), "input": "x:1x3x8x8"},
        },
    )
    out = tmp_path / "out"
    env = {**os.environ, "PT2TRT_TEST_SLEEP": "300"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pt2trt.cli.main", "sweep", str(zoo), "-o", str(out), "--workers", "1", "-q"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not (out / "first" / "sweep.json").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        assert (out / "first" / "sweep.json").exists(), "the first model never finished"
        time.sleep(3)  # the sweep is in the sleepy model now
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its convert child, as a killed CI job
        proc.wait()
    record = (out / "first" / "sweep.json").stat().st_mtime_ns
    assert json.loads((out / "results.json").read_text())["pending"] == ["sleepy", "last"]
    result = sweep(str(zoo), "-o", str(out), "--resume", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "1 kept from the earlier run (--resume)" in result.stderr
    assert (out / "first" / "sweep.json").stat().st_mtime_ns == record  # kept, not run again
    data = json.loads((out / "results.json").read_text())
    assert data["resumed"] == ["first"] and data["pending"] == []
    assert [m["status"] for m in data["models"]] == ["passed"] * 3
    assert not (out / ".work").exists()


@pytest.mark.slow
def test_the_readme_zoo_on_two_workers_then_on_ray_against_it(tmp_path: Path) -> None:
    """examples/zoo.yaml (the built-in models and three torchvision architectures): on 2 local workers, then on a
    local Ray cluster with the first run as the baseline: every model passes, no regression."""
    from tests.conftest import ROOT

    zoo = ROOT / "examples" / "zoo.yaml"
    first, second = tmp_path / "zoo", tmp_path / "zoo-ray"
    result = sweep(str(zoo), "-o", str(first), "--workers", "2")
    assert result.exit_code == 0, result.output
    # Shared 2-core machine, both workers busy: identical sweeps of this zoo moved ONNX Runtime and OpenVINO medians
    # by up to x2.7, so the latency threshold is x5 here; failures and agreement drops are judged as by default.
    result = sweep(
        str(zoo), "-o", str(second), "--ray", "local", "--workers", "2", "--baseline", str(first),
        "--latency-threshold", "4", "--fail-on-regression",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((second / "results.json").read_text())
    assert data["summary"] == {"models": 5, "passed": 5, "failed": 0, "error": 0, "not finished": 0, "regressions": 0}
    assert {m["verdict"]["verdict"] for m in data["models"]} <= {"no change", "improved"}
    assert sum(len(m["latency"]) for m in data["models"]) == 10  # ONNX Runtime and OpenVINO for each
    squeezenet = next(m for m in data["models"] if m["name"] == "squeezenet")
    assert squeezenet["metrics"]["precision-fp16.top1_agreement"]["samples"] == 8
    for out in (first, second):
        assert {p.name for p in out.iterdir()} >= {"index.html", "results.json", "junit.xml", "resnet18", "seednet"}
        assert len(junit_cases(out)) == 5 and all(case.is_passed for case in junit_cases(out).values())
    assert "0 regression(s)" in result.stdout


def _group_alive(pgid: int) -> list[int]:
    """Processes of the process group ``pgid`` still running (zombies left out)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def test_sigterm_stops_the_sweep_and_its_converts(tmp_path: Path) -> None:
    """A cancelled CI job sends SIGTERM to the sweep only: its running convert children are stopped with it."""
    zoo = manifest(tmp_path, {"sleepy": {"model": model_file(tmp_path, "sleepy", source=SLEEPY), "input": "x:1x3x8x8"}})
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pt2trt.cli.main", "sweep", str(zoo), "-o", str(out), "-q"],
        env={**os.environ, "PT2TRT_TEST_SLEEP": "300"}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        log = out / ".work" / "sleepy" / "sleepy" / "convert.log"
        deadline = time.monotonic() + 120
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert log.exists() and len(_group_alive(proc.pid)) >= 2  # the sweep and its convert child
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 10
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group_alive(proc.pid) == []
        assert "Traceback" not in proc.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert json.loads((out / "results.json").read_text())["pending"] == ["sleepy"]


def test_python_api_and_json_output(tmp_path: Path) -> None:
    """``pt2trt.sweep(...)`` returns the report the CLI prints; ``--json`` prints results.json's content."""
    import pt2trt
    from pt2trt.settings import SweepSettings
    from pt2trt.sweeping import SweepReport

    zoo = manifest(tmp_path, {"gone": {**SEEDNET, "model": "nosuch.net:Net"}})
    report = pt2trt.sweep(zoo, tmp_path / "api", SweepSettings(workers=1), progress=False)
    assert isinstance(report, SweepReport) and not report.passed
    (model,) = report.models
    assert (model.status, model.step, model.attempts) == ("failed", "export", 1)
    assert report.summary() == {
        "models": 1, "passed": 0, "failed": 1, "error": 0, "not finished": 0, "regressions": None,
    }  # fmt: skip
    result = sweep(str(zoo), "-o", str(tmp_path / "cli"), "--json", "--baseline", str(tmp_path / "api"))
    assert result.exit_code == 1 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["format"] == "pt2trt-sweep/1" and data["summary"]["regressions"] == 0
    assert data["models"][0]["verdict"]["verdict"] == "still failing"
    assert data == json.loads((tmp_path / "cli" / "results.json").read_text()) | {"seconds": data["seconds"]}
