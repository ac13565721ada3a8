"""Build progress and cancellation: ``IProgressMonitor`` accounting, Ctrl-C, and a build that leaves nothing behind.

TensorRT calls a monitor's ``phase_start(name, parent, num_steps)``, ``step_complete(name, step)`` (False cancels the
build) and ``phase_finish(name)``, from its builder threads. :class:`FakeBuilder` replays that contract for the
phases of a build; :func:`build_engine` runs with it in place of Polygraphy's builder (no GPU here).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from polygraphy.backend.trt import CreateConfig

from pt2trt.backends.tensorrt import build as build_module
from pt2trt.backends.tensorrt import plan as plan_module
from pt2trt.backends.tensorrt.build import create_config
from pt2trt.backends.tensorrt.progress import BuildPhases, make_progress_monitor
from pt2trt.backends.tensorrt.versions import Gpu
from pt2trt.errors import Pt2trtError
from tests.tensorrt_models import conv_relu, plan_from_flags, save, trt_enums

DATA = Path(__file__).parent / "data" / "tensorrt_inspector"
PHASES = [("Building engine", None, 3), ("Tactic selection", "Building engine", 4), ("Serialization", None, 1)]


class FakeBuilder:
    """Drives a monitor like TensorRT's builder: nested phases, a step at a time, stopping when told to."""

    def __init__(self, monitor: object, on_step: object = None) -> None:
        self.monitor = monitor
        self.on_step = on_step
        self.steps = 0

    def build(self) -> bytes | None:
        m = self.monitor
        m.phase_start("Building engine", None, 3)
        for outer in range(3):
            m.phase_start("Tactic selection", "Building engine", 4)
            for step in range(4):
                self.steps += 1
                if self.on_step is not None:
                    self.on_step(self.steps)
                if not m.step_complete("Tactic selection", step):
                    m.phase_finish("Tactic selection")
                    m.phase_finish("Building engine")
                    return None  # cancelled: TensorRT returns no engine
            m.phase_finish("Tactic selection")  # the same name is reused by the next round
            m.step_complete("Building engine", outer)
        m.phase_finish("Building engine")
        m.phase_start("Serialization", None, 1)
        m.step_complete("Serialization", 0)
        m.phase_finish("Serialization")
        return b"fake engine bytes"


def test_phase_accounting() -> None:
    phases = BuildPhases()
    assert FakeBuilder(phases).build() == b"fake engine bytes"
    summary = phases.summary()
    assert [p["phase"] for p in summary] == ["Building engine"] + ["Tactic selection"] * 3 + ["Serialization"]
    assert all(p["finished"] and p["done"] == p["steps"] for p in summary)
    assert summary[1]["parent"] == "Building engine" and phases.history[1].depth == 1
    assert phases.active == [] and not phases.cancelled


def test_cancel_request_stops_at_the_next_step() -> None:
    phases = BuildPhases()

    def cancel_at_five(step: int) -> None:
        if step == 5:
            phases.cancel_requested = True

    builder = FakeBuilder(phases, cancel_at_five)
    assert builder.build() is None
    assert phases.cancelled and builder.steps == 5
    assert phases.active == []  # phase_finish still came for every started phase


_REAL_CTRL_C = """
import os, signal
from pt2trt.backends.tensorrt.progress import BuildPhases, cancel_on_sigint
phases = BuildPhases()
before = signal.getsignal(signal.SIGINT)
with cancel_on_sigint(phases):
    os.kill(os.getpid(), signal.SIGINT)
    assert phases.cancel_requested  # no KeyboardInterrupt: the build is asked to stop instead
    assert phases.step_complete("any", 0) is False and phases.cancelled
assert signal.getsignal(signal.SIGINT) is before
print("ok")
"""


def test_ctrl_c_requests_cancellation_and_the_handler_is_restored() -> None:
    # a real SIGINT, in a fresh interpreter: in the test process, other libraries' threads (torch, ONNX Runtime)
    # make a self-sent signal crash the whole run
    proc = subprocess.run([sys.executable, "-c", _REAL_CTRL_C], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_monitor_is_thread_safe() -> None:
    phases = BuildPhases()
    phases.phase_start("p", None, 4000)
    threads = [threading.Thread(target=lambda k=k: [phases.step_complete("p", k * 1000 + i) for i in range(1000)])
               for k in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert phases.phases["p"].done == 4000


def test_monitor_subclasses_the_tensorrt_interface() -> None:
    trt = trt_enums()
    phases = BuildPhases()
    monitor = make_progress_monitor(trt, phases)
    assert isinstance(monitor, trt.IProgressMonitor)
    monitor.phase_start("Building engine", None, 2)
    assert monitor.step_complete("Building engine", 0) is True
    assert phases.phases["Building engine"].done == 1
    assert make_progress_monitor(SimpleNamespace(), phases) is None  # TensorRT 8.6: no monitor


def test_config_carries_monitor_and_detailed_verbosity(tmp_path) -> None:
    trt = trt_enums()
    plan = plan_from_flags(save(conv_relu(batch=2), tmp_path / "m.onnx"), trt_version="10")
    monitor = make_progress_monitor(trt, BuildPhases())
    config = create_config(plan, trt, progress_monitor=monitor)
    assert isinstance(config, CreateConfig) and config.progress_monitor is monitor
    assert config.profiling_verbosity == trt.ProfilingVerbosity.DETAILED
    assert create_config(plan, trt, detailed=False).profiling_verbosity == trt.ProfilingVerbosity.LAYER_NAMES_ONLY


# -- build_engine with the fake builder ---------------------------------------------------------------------------
class FakeEngine:
    def create_engine_inspector(self) -> SimpleNamespace:
        text = json.dumps(json.loads((DATA / "trt10_resnet18_fp32_a100.json").read_text()))
        return SimpleNamespace(get_engine_information=lambda fmt: text)


class FakeLogger:
    ERROR = 0

    def __init__(self, severity: int) -> None:
        self.severity = severity


def _fake_trt() -> SimpleNamespace:
    base = trt_enums()
    return SimpleNamespace(
        **{k: getattr(base, k) for k in ("IProgressMonitor", "ProfilingVerbosity", "MemoryPoolType")},
        __version__="10.9.0.34",
        Logger=FakeLogger,
        Runtime=lambda logger: SimpleNamespace(deserialize_cuda_engine=lambda data: FakeEngine()),
        LayerInformationFormat=SimpleNamespace(JSON="JSON"),
    )


@pytest.fixture
def fake_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    trt = _fake_trt()
    monkeypatch.setattr(plan_module, "installed_version", lambda: None)
    monkeypatch.setattr(build_module, "import_tensorrt", lambda: trt)
    monkeypatch.setattr(build_module, "require_gpu", lambda device: Gpu(0, "Fake GPU", "8.6"))
    state: dict[str, object] = {}

    def loader(plan, trt_module, onnx_path, calibrator, *, progress_monitor, detailed):
        state["detailed"] = detailed
        return lambda: FakeBuilder(progress_monitor, state.get("on_step")).build()

    monkeypatch.setattr(build_module, "engine_loader", loader)
    onnx_path = save(conv_relu(batch=2), tmp_path / "m.onnx")
    return onnx_path, state


def test_build_records_the_inspection_in_the_sidecar(fake_build, tmp_path) -> None:
    onnx_path, state = fake_build
    phases = BuildPhases()
    result = build_module.build_engine(
        plan_from_flags(onnx_path, tmp_path / "m.engine", fp16=True, trt_version="10"), progress=False, phases=phases
    )
    assert result.engine.read_bytes() == b"fake engine bytes" and state["detailed"] is True
    assert [p["phase"] for p in phases.summary()][-1] == "Serialization"
    inspection = json.loads(result.metadata_path.read_text())["inspection"]
    assert inspection["summary"]["heavy_layers_by_precision"] == {"FP32": 1.0}
    assert any("FP16 was requested" in w for w in inspection["warnings"])


def test_ctrl_c_during_a_build_leaves_nothing_behind(fake_build, tmp_path) -> None:
    onnx_path, state = fake_build
    # Ctrl-C as the handler the build installed receives it (a real self-sent SIGINT crashes the test process when
    # torch's and ONNX Runtime's threads are alive; test_ctrl_c_requests_cancellation... sends a real one elsewhere)
    state["on_step"] = lambda step: signal.getsignal(signal.SIGINT)(signal.SIGINT, None) if step == 3 else None
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(Pt2trtError, match="cancelled") as exc:
        build_module.build_engine(plan_from_flags(onnx_path, tmp_path / "m.engine", trt_version="10"), progress=True)
    assert "nothing was written" in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no engine, no sidecar, no staging directory
