"""Run in a subprocess with one real TensorRT release importable: ``python -m tests.trt_api.probe REQUEST OUT``.

The request holds the uses read from pt2trt's source (:mod:`tests.trt_api.source_uses`), the extension's path and a
scratch directory. The probe imports ``tensorrt_bindings`` as ``tensorrt`` and writes one JSON report:

* ``uses``, ``subclasses``, ``poly_calls``: the static uses held against the real module (:mod:`tests.trt_api.resolve`)
  and against ``polygraphy.backend.trt``'s signatures;
* ``trampolines``: our output allocator, progress monitor and INT8 calibrator made by pt2trt's own factories on the
  real base classes, their overrides compared with what this release calls, and called once from Python;
* ``builds``: pt2trt's build loaders for this release's target (several plans) run through Polygraphy over shadow
  builder/network/parser objects (:mod:`tests.trt_api.shadow`): every flag, enum and method Polygraphy asks of
  TensorRT for our configuration exists here and takes those arguments;
* ``inspector``: pt2trt's ``inspector_json`` over a shadow runtime;
* ``stand_ins``: the enum names the CPU tests' fake ``tensorrt`` module holds, looked up in the real one.
"""

from __future__ import annotations

import inspect
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def import_real() -> Any:
    """``import tensorrt`` as a user of the full install does it (the metapackage's shim over the bindings)."""
    import tensorrt
    import tensorrt_bindings

    assert tensorrt.Builder is tensorrt_bindings.Builder, "the shim re-exports the bindings"
    return tensorrt


def guarded(func: Callable[..., Any], *args: Any) -> Any:
    try:
        return func(*args)
    except Exception as exc:  # a probe bug or an API mismatch: reported, never hidden
        return {"status": "error", "detail": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


# -- Polygraphy --------------------------------------------------------------------------------------------------------
def accepted_keywords(target: Any) -> tuple[set[str], bool, int]:
    """(keyword names, takes any keyword, max positional) of a callable, following ``**kwargs`` to the parents."""
    names: set[str] = set()
    positional = 0
    chain = (
        [c.__init__ for c in inspect.getmro(target) if "__init__" in vars(c)] if inspect.isclass(target) else [target]
    )
    for index, func in enumerate(chain):
        params = list(inspect.signature(func).parameters.values())
        if inspect.isclass(target):
            params = params[1:]
        if index == 0:
            positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names, False, positional
    return names, True, positional


def check_poly_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import polygraphy.backend.trt as poly

    results = []
    for call in calls:
        owner, _, method = call["name"].partition(".")
        entry = {"name": call["name"], "keywords": call["keywords"], "where": call["where"]}
        target = getattr(poly, owner, None)
        if target is not None and method:
            target = getattr(target, method, None)
        if target is None:
            results.append({**entry, "status": "fail", "detail": f"polygraphy.backend.trt has no {call['name']}"})
            continue
        names, anything, positional = accepted_keywords(target)
        if method:
            positional -= 1  # self
        unknown = [k for k in call["keywords"] if k not in names]
        problems = []
        if unknown and not anything:
            problems.append(f"no parameter {', '.join(unknown)}")
        if call["nargs"] > positional:
            problems.append(f"{call['nargs']} positional arguments, it takes {positional}")
        results.append({**entry, "status": "fail" if problems else "ok", "detail": "; ".join(problems)})
    return results


def polygraphy_import(trt: Any) -> dict[str, Any]:
    """Polygraphy's TensorRT backend imports over this module (its lazy import resolves to it)."""
    import polygraphy
    from polygraphy.backend.trt import util as trt_util  # noqa: F401  (imports the backend's modules)
    from polygraphy.mod.trt_importer import lazy_import_trt

    seen = lazy_import_trt().__version__
    ok = seen == trt.__version__
    return {"status": "ok" if ok else "fail", "detail": f"polygraphy {polygraphy.__version__} sees TensorRT {seen}"}


# -- our trampolines --------------------------------------------------------------------------------------------------
def _overrides_of(cls: type, base: type) -> dict[str, tuple[int, int, bool]]:
    methods = {}
    for klass in reversed(cls.__mro__):
        if klass is base or issubclass(base, klass):
            continue
        for name, value in vars(klass).items():
            if inspect.isfunction(value) and not name.startswith("__"):
                params = list(inspect.signature(value).parameters.values())[1:]
                plain = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
                required = sum(p.default is p.empty for p in plain)
                methods[name] = (required, len(plain), any(p.kind == p.VAR_POSITIONAL for p in params))
    return methods


def trampolines(trt: Any, scratch: Path, extension: Path) -> list[dict[str, Any]]:
    from tests.trt_api.pybind import member_kind
    from tests.trt_api.resolve import check_overrides, pure_virtuals

    virtuals = pure_virtuals(extension)
    results = []

    def judge(what: str, instance: Any, base_name: str, exercise: Callable[[Any], str], ours: bool = True) -> None:
        base = getattr(trt, base_name)
        entry = {"name": what, "base": base_name}
        if not isinstance(instance, base):
            results.append({**entry, "status": "fail", "detail": f"not an instance of the real {base_name}"})
            return
        own = {n for n, v in vars(type(instance)).items() if inspect.isfunction(v) and not n.startswith("_")}
        problems = check_overrides(_overrides_of(type(instance), base), own if ours else set(), base, virtuals)
        outcome = guarded(exercise, instance)
        if outcome.get("status") == "error":
            problems.append(outcome["detail"])
        problems += outcome.get("problems", [])
        results.append({**entry, "status": "fail" if problems else "ok", "detail": "; ".join(problems),
                        "exercised": outcome.get("exercised", ""),
                        "through_cpp": outcome.get("through_cpp")})  # fmt: skip

    from tests.trt_api.ours import make_output_allocator

    buffers: dict[int, bytearray] = {}

    def allocate(n: int) -> bytearray:
        buffers[len(buffers)] = buf = bytearray(n)
        return buf

    allocator = make_output_allocator(trt, allocate, lambda b: 4096 * (1 + list(buffers.values()).index(b)))

    def use_allocator(a: Any) -> dict[str, Any]:
        calls = [a.reallocate_output("boxes", 0, 100, 256), a.reallocate_output_async("boxes", 0, 400, 256, 0)]
        a.notify_shape("boxes", trt.Dims([3, 4]))  # TensorRT passes a real Dims
        outcome: dict[str, Any] = {"exercised": f"pointers {calls}, shape {a.shapes['boxes']}"}
        if member_kind(trt.IOutputAllocator, "reallocate_output") != "method":
            return outcome  # 10 and 11 bind no method of it: only TensorRT's own calls reach the trampoline
        # 8.6 binds the C++ methods: calling them goes C++ -> pybind11 trampoline -> our override -> C++ void*
        wanted = a.reallocate_output("scores", 0, 64, 256)
        capsule = trt.IOutputAllocator.reallocate_output(a, "scores", _capsule(0), 64, 256)
        trt.IOutputAllocator.notify_shape(a, "scores", trt.Dims([2, 5]))
        pointer = _capsule_pointer(capsule)
        failing = make_output_allocator(trt, _out_of_memory, lambda b: 0)  # a failed allocation: NULL to TensorRT
        null = _capsule_pointer(trt.IOutputAllocator.reallocate_output(failing, "scores", _capsule(0), 64, 256))
        outcome["through_cpp"] = (f"reallocate_output -> {pointer}, notify_shape -> {a.shapes.get('scores')}, "
                                  f"failed allocation -> {null} ({failing.error})")  # fmt: skip
        if pointer != wanted or a.shapes.get("scores") != (2, 5) or null is not None or failing.error is None:
            outcome["problems"] = [f"through TensorRT's trampoline: {outcome['through_cpp']} (wanted {wanted})"]
        return outcome

    judge("output allocator (make_output_allocator)", allocator, "IOutputAllocator", use_allocator)

    from tests.trt_api.ours import BuildPhases, make_progress_monitor

    phases = BuildPhases()
    monitor = make_progress_monitor(trt, phases)
    if monitor is None:
        present = hasattr(trt, "IProgressMonitor")
        results.append({"name": "progress monitor (make_progress_monitor)", "base": "IProgressMonitor",
                        "status": "fail" if present else "absent",
                        "detail": "IProgressMonitor exists but no monitor was made" if present
                        else "no IProgressMonitor in this release: no monitor, as intended"})  # fmt: skip
    else:

        def use_monitor(m: Any) -> dict[str, Any]:
            # through the C++ methods: C++ -> pybind11 trampoline -> our override, the bool back to C++
            base = trt.IProgressMonitor
            base.phase_start(m, "Building engine", None, 2)
            go = base.step_complete(m, "Building engine", 0)
            phases.cancel_requested = True
            stop = base.step_complete(m, "Building engine", 1)
            base.phase_finish(m, "Building engine")
            seen = phases.summary()
            problems = (
                [] if (go, stop) == (True, False) and seen and seen[0]["finished"] else [f"saw {go}, {stop}, {seen}"]
            )
            return {
                "through_cpp": f"step_complete -> {go}, after Ctrl-C -> {stop}, phases {seen}",
                "problems": problems,
            }

        judge("progress monitor (make_progress_monitor)", monitor, "IProgressMonitor", use_monitor)

    results.append(calibrator_check(trt, scratch, judge))
    return [r for r in results if r is not None]


def _out_of_memory(size: int) -> Any:
    raise MemoryError(f"no device memory for {size} bytes (planted)")


def _capsule(pointer: int) -> Any:
    import ctypes

    new = ctypes.pythonapi.PyCapsule_New
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return new(pointer or 1, None, None)


def _capsule_pointer(capsule: Any) -> int | None:
    import ctypes

    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return None if capsule is None else get(capsule, None)


def calibrator_check(trt: Any, scratch: Path, judge: Callable[..., None]) -> dict[str, Any] | None:
    """make_calibrator on a plan for this release's target; on targets without calibration it must refuse."""
    from tests.trt_api.ours import Pt2trtError, make_calibrator, make_plan, target_of

    target = target_of(trt.__version__)
    files = scenario_files(scratch)
    plan = make_plan(files["model"], scratch / "cal.engine", trt_version=target.name, int8=True,
                     calibration_data=files["calibration"], calibration_cache=scratch / "int8.cache",
                     min_shapes=["input:1x3x16x16"],
                     opt_shapes=["input:2x3x16x16"], max_shapes=["input:4x3x16x16"], force=True)  # fmt: skip
    entry = {"name": "INT8 calibrator (make_calibrator)", "base": "IInt8EntropyCalibrator2"}
    if not target.int8_calibration:
        try:
            make_calibrator(plan, trt)
        except Pt2trtError as exc:
            return {
                **entry,
                "status": "absent",
                "detail": f"int8 mode {plan.int8_mode}; make_calibrator refuses: {exc}",
            }
        return {**entry, "status": "fail", "detail": f"make_calibrator made a calibrator for TensorRT {target.name}"}
    calibrator = make_calibrator(plan, trt)

    def use_calibrator(c: Any) -> dict[str, Any]:
        # get_batch_size is pure virtual in C++: the bound base method dispatches to Polygraphy's override
        size, algorithm = trt.IInt8EntropyCalibrator2.get_batch_size(c), trt.IInt8EntropyCalibrator2.get_algorithm(c)
        problems = [] if size == type(c).get_batch_size(c) else [f"get_batch_size through C++ gave {size}"]
        return {"through_cpp": f"get_batch_size -> {size}, get_algorithm -> {algorithm.name}", "problems": problems}

    judge(entry["name"], calibrator, "IInt8EntropyCalibrator2", use_calibrator, False)
    return None


def scenario_files(scratch: Path) -> dict[str, Path]:
    import numpy as np

    from tests.tensorrt_models import conv_relu, save

    scratch.mkdir(parents=True, exist_ok=True)
    model = scratch / "conv_relu.onnx"
    if not model.exists():
        save(conv_relu(), model)
    calibration = scratch / "calibration"
    if not calibration.exists():
        calibration.mkdir()
        for i in range(2):
            data = np.random.default_rng(i).standard_normal((2, 3, 16, 16)).astype(np.float32)
            np.save(calibration / f"batch{i}.npy", data)
    return {"model": model, "calibration": calibration}


# -- builds through Polygraphy over shadows ----------------------------------------------------------------------------
def build_scenarios(trt: Any) -> list[tuple[str, dict[str, Any]]]:
    """Plans for this release's target: every build option whose loader code differs, each where the plan allows it."""
    from tests.trt_api.ours import HARDWARE_LEVELS, at_least, target_of

    target = target_of(trt.__version__)
    shapes = {"min_shapes": ["input:1x3x16x16"], "opt_shapes": ["input:2x3x16x16"], "max_shapes": ["input:4x3x16x16"]}
    plans = [
        ("fp32, dynamic profile, workspace, optimization level", {**shapes, "workspace_mib": 256,
                                                                   "builder_optimization_level": 3}),
        ("fp16", {**shapes, "fp16": True}),
        ("version compatible", {**shapes, "version_compatible": True}),
        ("timing cache loaded and saved", {**shapes, "timing_cache": "TIMING"}),
    ]  # fmt: skip
    if target.int8_calibration:
        plans.append(("int8 with calibration", {**shapes, "int8": True, "calibration_data": "CALIBRATION"}))
    for level, (_, since) in HARDWARE_LEVELS.items():
        if level != "none" and at_least(trt.__version__, since):
            plans.append((f"hardware compatibility {level}", {**shapes, "hardware_compatibility_level": level}))
    return plans


def run_build(trt: Any, scratch: Path, name: str, options: dict[str, Any]) -> dict[str, Any]:
    from tests.trt_api.ours import (
        BuildPhases,
        engine_loader,
        make_calibrator,
        make_plan,
        make_progress_monitor,
        target_of,
    )
    from tests.trt_api.shadow import install, uninstall

    files = scenario_files(scratch)
    if options.get("timing_cache") == "TIMING":
        cache = scratch / "timing.cache"
        cache.write_bytes(b"an earlier timing cache")
        options = {**options, "timing_cache": cache}
    if options.get("calibration_data") == "CALIBRATION":
        options = {**options, "calibration_data": files["calibration"]}
    plan = make_plan(files["model"], scratch / "model.engine", trt_version=target_of(trt.__version__).name,
                     force=True, **options)  # fmt: skip
    calibrator = make_calibrator(plan, trt) if plan.int8_mode == "calibration" else None
    monitor = make_progress_monitor(trt, BuildPhases())
    world = install(trt)
    try:
        network_input = world.module.ITensor
        tensor = {"name": "input", "shape": (-1, 3, 16, 16), "is_shape_tensor": False, "dtype": trt.DataType.FLOAT}
        world.returns[("INetworkDefinition", "num_inputs")] = lambda: 1
        world.returns[("INetworkDefinition", "get_input")] = lambda index: _tensor(world, network_input, tensor)
        world.returns[("INetworkDefinition", "num_outputs")] = lambda: 0
        world.returns[("INetworkDefinition", "num_layers")] = lambda: 0
        profile_shapes: dict[str, list[Any]] = {}
        world.returns[("IOptimizationProfile", "set_shape")] = lambda n, *s: profile_shapes.__setitem__(n, list(s))
        world.returns[("IOptimizationProfile", "get_shape")] = lambda n: profile_shapes.get(n, [])
        world.returns[("ITimingCache", "serialize")] = lambda: memoryview(b"timing cache")  # Polygraphy writes it
        loader = engine_loader(plan, trt, files["model"], calibrator, progress_monitor=monitor)
        loader()
    finally:
        uninstall(world)
    flags = [_name(args[0]) for args in world.calls("IBuilderConfig", "set_flag")]
    network_flags = [args[0] for args in world.calls("Builder", "create_network")]
    return {
        "name": name,
        "status": "ok",
        "plan": {
            "precision": plan.precision,
            "builder_flags": plan.builder_flags,
            "int8_mode": plan.int8_mode,
            "strongly_typed": plan.strongly_typed,
        },
        "builder_flags_set": flags,
        "network_flags": _network_flag_names(trt, network_flags),
        "config_set": sorted({n for kind, c, n, _ in world.log if kind == "set" and c == "IBuilderConfig"}),
        "config_calls": sorted({n for kind, c, n, _ in world.log if kind == "call" and c == "IBuilderConfig"}),
        "memory_pool_limits": [[_name(a[0]), a[1]] for a in world.calls("IBuilderConfig", "set_memory_pool_limit")],
        "calls": len(world.log),
    }


def _tensor(world: Any, cls: type, values: dict[str, Any]) -> Any:
    from tests.trt_api.shadow import Shadow

    shadow = Shadow(cls, world)
    shadow._values.update(values)
    return shadow


def _name(value: Any) -> str:
    return str(getattr(value, "name", value))


def _network_flag_names(trt: Any, values: list[Any]) -> list[str]:
    names = []
    for value in values:
        for member_name, member in trt.NetworkDefinitionCreationFlag.__members__.items():
            if int(value) & (1 << int(member)):
                names.append(member_name)
    return names


def builds(trt: Any, scratch: Path) -> list[dict[str, Any]]:
    results = []
    for name, options in build_scenarios(trt):
        outcome = guarded(run_build, trt, scratch, name, options)
        if outcome.get("status") == "error":
            outcome = {"name": name, **outcome}
        results.append(outcome)
    return results


def inspector(trt: Any) -> dict[str, Any]:
    from tests.trt_api.ours import inspector_json
    from tests.trt_api.shadow import install, uninstall

    world = install(trt)
    try:
        text = inspector_json(trt, b"engine bytes")
    finally:
        uninstall(world)
    asked = [f"{c}.{n}" for kind, c, n, _ in world.log if kind in ("call", "new")]
    return {"status": "ok", "detail": f"inspector_json -> {text!r} after {', '.join(asked)}"}


# -- the CPU tests' stand-ins ------------------------------------------------------------------------------------------
def stand_ins(trt: Any) -> list[dict[str, Any]]:
    """Each enum member the stand-in ``tensorrt`` of tests/tensorrt_models.py holds, where its enum exists here."""
    from types import SimpleNamespace

    from tests.tensorrt_models import stand_in_trt

    fake = stand_in_trt()
    results = []
    for name, value in vars(fake).items():
        if not isinstance(value, SimpleNamespace):
            continue
        real = getattr(trt, name, None)
        for member in vars(value):
            status = "absent" if real is None else ("ok" if hasattr(real, member) else "fail")
            results.append({"name": f"{name}.{member}", "status": status})
    return results


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[1]).read_text())
    trt = import_real()
    from tests.trt_api.resolve import check_subclasses, check_uses

    scratch = Path(request["scratch"])
    extension = Path(request["extension"])
    from tests.trt_api.ours import import_tensorrt, installed_version

    report: dict[str, Any] = {"version": trt.__version__, "installed_version": installed_version(),
                              "import_tensorrt": import_tensorrt().__version__}  # fmt: skip
    uses = request["uses"]
    report["uses"] = check_uses(uses["uses"], trt, trt.__version__, ignore_gates=request.get("ignore_gates", False))
    report["subclasses"] = check_subclasses(uses["subclasses"], trt, trt.__version__, extension)
    report["poly_calls"] = check_poly_calls(uses["poly_calls"])
    if request.get("dynamic", True):
        report["polygraphy_import"] = guarded(polygraphy_import, trt)
        report["trampolines"] = guarded(trampolines, trt, scratch, extension)
        report["builds"] = builds(trt, scratch)
        report["inspector"] = guarded(inspector, trt)
        report["stand_ins"] = guarded(stand_ins, trt)
    Path(argv[2]).write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
