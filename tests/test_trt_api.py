"""pt2trt's TensorRT code held against TensorRT's real Python API, on CPU (``pytest -m trt_api``).

For TensorRT 8.6.1, 10.0.1, the newest 10.x and the newest 11.x (tests/trt_api/releases.py) the registry's bindings
wheel is fetched (cached per user), stub native libraries are compiled for it, and the real module is imported in a
subprocess (tests/trt_api/probe.py). What pt2trt's code touches in TensorRT is read from its source by AST
(tests/trt_api/source_uses.py) with the version gates around each use; the probe checks every use, our trampoline
subclasses, Polygraphy's TensorRT loaders with our options, and the CPU tests' stand-in module against that release.
Nothing here runs on a GPU: a pass says the API surface matches, not that an engine builds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.trt_api.harness import ROOT, RealModule, prepare, run_probe
from tests.trt_api.releases import (
    ALL_RELEASES_SOURCES,
    NEWEST_SOURCES,
    RELEASES,
    Release,
    SetupError,
    boundary,
    registry_releases,
)
from tests.trt_api.source_uses import SourceUses, chain_text, collect

pytestmark = pytest.mark.trt_api


@pytest.fixture(scope="session")
def source_uses() -> SourceUses:
    return collect(ROOT / "src")


@pytest.fixture(scope="session", params=RELEASES, ids=[r.test_id for r in RELEASES])
def real(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RealModule:
    release: Release = request.param
    try:
        return prepare(release, tmp_path_factory.mktemp(release.test_id))
    except SetupError as exc:  # never a skip: a machine that cannot run these must say so
        pytest.fail(f"cannot import TensorRT {release.version} here: {exc}")


@pytest.fixture(scope="session")
def report(real: RealModule, source_uses: SourceUses, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = run_probe(real, source_uses.to_json(), tmp_path_factory.mktemp(f"probe-{real.release.test_id}"))
    assert result["version"] == real.release.version
    return result


def _failures(entries: list[dict[str, Any]], allowed: tuple[str, ...] = ("ok", "gated out", "absent")) -> list[str]:
    """One line per entry whose status is not allowed: what, status, why, where."""
    lines = []
    for e in entries:
        if e["status"] not in allowed:
            where = e.get("where")
            where_text = ", ".join(where) if isinstance(where, list) else str(where or "")
            lines.append(f"{e.get('text') or e.get('name')}: {e['status']}: {e.get('detail', '')} ({where_text})")
    return lines


def _find(entries: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("text") == text]


# -- what the source reading sees (no TensorRT needed) -----------------------------------------------------------------
def test_source_reading_finds_the_tensorrt_code_and_its_gates(source_uses: SourceUses) -> None:
    uses = {chain_text(u.chain): u for u in source_uses.uses.values()}
    # the runner and the benchmark reach the execution context through the engine the runtime deserialized
    execute = uses["trt.Runtime(_).deserialize_cuda_engine(_).create_execution_context().execute_async_v3(_)"]
    assert len({w.split(":")[0] for w in execute.where}) >= 2  # the runner's module and the benchmark's
    # gates read from the code: a Target field, a table row with a version, an optional member checked for None
    assert [g.text() for g in uses["trt.IInt8EntropyCalibrator2"].gates] == ["target.int8_calibration"]
    assert [g.text() for g in uses["trt.HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY"].gates] == [
        "TensorRT >= 10.9"
    ]
    monitor = next(s for s in source_uses.subclasses.values() if s.base[-1].name == "IProgressMonitor")
    assert monitor.base[-1].optional and monitor.guarded
    assert set(monitor.own) == {"phase_start", "step_complete", "phase_finish"}
    calls = {p.name: p for p in source_uses.poly_calls.values()}
    assert {"CreateConfig", "NetworkFromOnnxPath", "EngineBytesFromNetwork", "Calibrator"} <= set(calls)
    assert {"fp16", "int8", "profiles", "memory_pool_limits"} <= set(calls["CreateConfig"].keywords)


# -- per release -------------------------------------------------------------------------------------------------------
def test_version_detection_reads_the_real_install(report: dict[str, Any]) -> None:
    """installed_version() reads it from the files without importing; import_tensorrt() accepts the release."""
    assert report["installed_version"] == report["version"]
    assert report["import_tensorrt"] == report["version"]


def test_every_tensorrt_member_we_use_exists(report: dict[str, Any]) -> None:
    attributes = [e for e in report["uses"] if not e["text"].endswith(")")]
    assert len(attributes) > 20
    assert _failures(attributes) == []  # "unfollowed" (a chain going on past a non-TensorRT value) fails too


def test_every_call_fits_the_pybind_signature(report: dict[str, Any]) -> None:
    calls = [e for e in report["uses"] if e["text"].endswith(")")]
    assert len(calls) > 15
    assert _failures(calls) == []


def test_gates_decide_where_a_member_must_exist(report: dict[str, Any]) -> None:
    version, major = report["version"], int(report["version"].split(".")[0])
    calibrator = _find(report["uses"], "trt.IInt8EntropyCalibrator2")[0]
    assert calibrator["status"] == ("gated out" if major == 11 else "ok"), calibrator
    same_cc = _find(report["uses"], "trt.HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY")[0]
    newer = tuple(int(p) for p in version.split(".")[:2]) >= (10, 9)
    assert same_cc["status"] == ("ok" if newer else "gated out"), same_cc
    monitor = _find(report["uses"], "trt.IProgressMonitor")[0]
    assert monitor["status"] == ("absent" if major < 10 else "ok"), monitor


def test_trampolines_override_what_this_release_calls(report: dict[str, Any]) -> None:
    assert _failures(report["subclasses"]) == []
    assert not isinstance(report["trampolines"], dict), report["trampolines"]
    assert _failures(report["trampolines"]) == []
    major = int(report["version"].split(".")[0])
    status = {t["name"].split(" (")[0]: t["status"] for t in report["trampolines"]}
    assert status == {
        "output allocator": "ok",
        "progress monitor": "absent" if major < 10 else "ok",
        "INT8 calibrator": "absent" if major == 11 else "ok",
    }
    # where the release binds the base's C++ methods, calling them goes C++ -> pybind11 trampoline -> our override
    through = {t["name"].split(" (")[0]: t.get("through_cpp") for t in report["trampolines"] if t["status"] == "ok"}
    assert (through["output allocator"] is not None) == (major < 10)  # 10 and 11 bind none of IOutputAllocator's
    assert all(through[name] for name in through if name != "output allocator")
    allocator = next(s for s in report["subclasses"] if s["base"] == "trt.IOutputAllocator")
    expected = {"reallocate_output", "notify_shape"} | ({"reallocate_output_async"} if major >= 10 else set())
    assert set(allocator["called"]) == expected


def test_polygraphy_runs_over_this_release(report: dict[str, Any]) -> None:
    assert report["polygraphy_import"]["status"] == "ok", report["polygraphy_import"]
    names = {c["name"] for c in report["poly_calls"]}
    assert {"CreateConfig", "NetworkFromOnnxPath"} <= names
    assert _failures(report["poly_calls"]) == []


def test_our_build_options_go_through_polygraphy_on_the_real_enums(report: dict[str, Any]) -> None:
    builds = {b["name"]: b for b in report["builds"]}
    broken = {name: b.get("detail") for name, b in builds.items() if b["status"] != "ok"}
    assert broken == {}
    major = int(report["version"].split(".")[0])
    if major == 11:  # strongly typed only: no precision flag is ever asked for, the network is strongly typed
        for build in builds.values():
            assert not {"FP16", "INT8", "BF16", "FP8"} & set(build["builder_flags_set"]), build
            assert "STRONGLY_TYPED" in build["network_flags"], build
        assert "int8 with calibration" not in builds
    else:
        assert builds["fp16"]["builder_flags_set"] == ["FP16"]
        assert "INT8" in builds["int8 with calibration"]["builder_flags_set"]
        assert "int8_calibrator" in builds["int8 with calibration"]["config_set"]
        assert ("EXPLICIT_BATCH" in builds["fp16"]["network_flags"]) == (major < 10)
    timing = builds["timing cache loaded and saved"]
    assert {"create_timing_cache", "set_timing_cache", "get_timing_cache"} <= set(timing["config_calls"])
    fp32 = next(b for name, b in builds.items() if name.startswith("fp32"))
    assert fp32["memory_pool_limits"] == [["WORKSPACE", 256 << 20]]
    assert ("progress_monitor" in fp32["config_set"]) == (major >= 10)


def test_engine_inspection_call_path(report: dict[str, Any]) -> None:
    assert report["inspector"]["status"] == "ok", report["inspector"]
    assert "get_engine_information" in report["inspector"]["detail"]


def test_the_cpu_tests_stand_in_agrees_with_the_real_module(report: dict[str, Any]) -> None:
    """A stand-in member may be missing only where our own code is gated away from it (or checks for it)."""
    assert not isinstance(report["stand_ins"], dict), report["stand_ins"]
    uses = {e["text"]: e["status"] for e in report["uses"]}
    wrong = []
    for entry in report["stand_ins"]:
        ours = uses.get(f"trt.{entry['name']}")
        assert ours is not None, f"the stand-in holds {entry['name']}, which pt2trt does not use"
        if entry["status"] != "ok" and ours not in ("gated out", "absent"):
            wrong.append(f"{entry['name']}: {entry['status']} (our use: {ours})")
    assert wrong == []


# -- the check fails where it should -----------------------------------------------------------------------------------
PLANTED = """
def planted_flag(trt):
    return trt.BuilderFlag.FP16  # no gate: TensorRT 11 has no FP16 flag


def planted_gated_flag(trt, plan):
    if plan.target.int8_calibration:
        return trt.BuilderFlag.INT8  # only where the target calibrates
    return None


def planted_keyword(trt, data):
    runtime = trt.Runtime(trt.Logger(trt.Logger.ERROR))
    return runtime.deserialize_cuda_engine(engine=data)  # the parameter is serialized_engine


def planted_monitor(trt):
    class Monitor(trt.IProgressMonitor):  # not checked for None: 8.6 has no IProgressMonitor
        def phase_start(self, phase_name, parent_phase):  # TensorRT passes num_steps too
            pass

        def step_complete(self, phase_name, step):
            return True

    return Monitor()
"""


@pytest.fixture(scope="module")
def planted_uses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """pt2trt's source with one more module, planted.py, read the same way as the real source."""
    src = tmp_path_factory.mktemp("planted") / "src"
    shutil.copytree(ROOT / "src" / "pt2trt", src / "pt2trt", ignore=shutil.ignore_patterns("__pycache__", "*.json"))
    (src / "pt2trt" / "planted.py").write_text(PLANTED)
    return collect(src).to_json()


@pytest.mark.parametrize("release", [RELEASES[0], RELEASES[-1]], ids=[RELEASES[0].test_id, RELEASES[-1].test_id])
def test_a_planted_misuse_fails(release: Release, planted_uses: dict[str, Any], tmp_path: Path) -> None:
    try:
        real = prepare(release, tmp_path)
    except SetupError as exc:
        pytest.fail(str(exc))
    result = run_probe(real, planted_uses, tmp_path / "probe", dynamic=False)
    by_text = {e["text"]: e for e in result["uses"] if any("planted.py" in w for w in e["where"])}
    flag = by_text["trt.BuilderFlag.FP16"]
    gated = by_text["trt.BuilderFlag.INT8"]
    keyword = by_text["trt.Runtime(_).deserialize_cuda_engine(engine=_)"]
    monitor = next(s for s in result["subclasses"] if "planted.py" in s["where"])
    if release.major == 11:
        assert flag["status"] == "fail" and "no attribute 'FP16'" in flag["detail"]
        assert gated["status"] == "gated out"
        assert monitor["status"] == "fail"
        assert "phase_start takes 2..2 arguments, TensorRT passes 3" in monitor["detail"]
        assert "IProgressMonitor.phase_finish must be overridden" in monitor["detail"]
    else:
        assert flag["status"] == "ok" and gated["status"] == "ok"
        assert monitor["status"] == "fail" and "no attribute 'IProgressMonitor'" in monitor["detail"]
    assert keyword["status"] == "fail" and "no parameter named 'engine'" in keyword["detail"]
    line = next(i for i, text in enumerate(PLANTED.splitlines(), 1) if "BuilderFlag.FP16" in text)
    assert flag["where"] == [f"src/pt2trt/planted.py:{line}"]  # the failure names the file and line
    # the real source, probed the same way, has none of these failures (see the tests above)
    assert _failures([e for e in result["uses"] if e["text"] not in by_text]) == []


# -- the releases are the newest, the gates are exact ---------------------------------------------------------------
def _registry(distribution: str) -> list[Release]:
    try:
        return registry_releases(distribution)
    except SetupError as exc:
        pytest.fail(str(exc))


def test_newest_releases_are_pinned() -> None:
    """The newest 10.x and 11.x in the registry are the ones tested (bump tests/trt_api/releases.py when this fails)."""
    for major, distribution in NEWEST_SOURCES.items():
        newest = [r for r in _registry(distribution) if r.major == major][-1]
        pinned = [r for r in RELEASES if r.major == major][-1]
        assert pinned.version == newest.version, f"{distribution} {newest.version} is newer than {pinned.version}"


def test_version_gates_hold_at_their_boundary(source_uses: SourceUses, tmp_path: Path) -> None:
    """A member our code uses from TensorRT X on (a version gate) is absent just before X and present at X."""
    gated: dict[str, list[str]] = {}
    for use in source_uses.uses.values():
        for gate in use.gates:
            if gate.kind == "version" and gate.positive:
                gated.setdefault(gate.subject, []).append(chain_text(use.chain))
    assert "10.9" in gated  # --hardware-compatibility-level same-compute-capability
    releases = sorted(
        (r for d in ALL_RELEASES_SOURCES for r in _registry(d)), key=lambda r: [int(p) for p in r.version.split(".")]
    )
    checked = 0
    for since, texts in sorted(gated.items()):
        before, first = boundary(since, releases)
        assert first is not None, f"no release {since} or newer in the registry"
        for release, present in ((before, False), (first, True)):
            if release is None:
                continue  # nothing older in the registry (8.6.1 is the oldest pt2trt supports)
            real = prepare(release, tmp_path / release.test_id)
            result = run_probe(real, source_uses.to_json(), tmp_path / f"probe-{release.test_id}", dynamic=False,
                               ignore_gates=True)  # fmt: skip
            status = {e["text"]: e["status"] for e in result["uses"]}
            for text in texts:
                assert (status[text] == "ok") is present, f"{text} on TensorRT {release.version}: {status[text]}"
                checked += 1
    assert checked >= 3
