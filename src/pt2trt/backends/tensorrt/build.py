"""Build a TensorRT engine from a :class:`~pt2trt.backends.tensorrt.plan.BuildPlan` with Polygraphy's TensorRT loaders.

Polygraphy (``polygraphy.backend.trt``) is NVIDIA's tested path across TensorRT versions: ``NetworkFromOnnxPath``
parses, ``CreateConfig`` holds profiles, precision flags, pool limits, timing cache, optimization level and
compatibility settings, ``EngineBytesFromNetwork`` builds. The loader objects are plain Python until called, so
:func:`engine_loader` can be built and inspected on a machine without a GPU; :func:`build_engine` runs it.

While TensorRT builds, an ``IProgressMonitor`` (TensorRT >= 10, :mod:`pt2trt.backends.tensorrt.progress`) drives a
progress display of the build phases, and Ctrl-C cancels the build cleanly: the monitor returns False, TensorRT
returns no engine, the staging directory is removed, nothing is written. After a build, the engine's layers as
``IEngineInspector`` reports them (detailed profiling verbosity) go into the metadata file's ``inspection``
section (:mod:`pt2trt.backends.tensorrt.inspect`).

The functions that need TensorRT enums take the ``tensorrt`` module as ``trt``.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pt2trt import _version
from pt2trt.backends.tensorrt.metadata import EngineMetadata, sha256_file, write_metadata
from pt2trt.backends.tensorrt.plan import HARDWARE_LEVELS, BuildPlan
from pt2trt.backends.tensorrt.profiles import onnx_inputs
from pt2trt.backends.tensorrt.progress import BuildPhases, RichPhaseDisplay, cancel_on_sigint, make_progress_monitor
from pt2trt.backends.tensorrt.versions import Gpu, import_tensorrt, require_gpu, target_of
from pt2trt.capture import capture_output
from pt2trt.errors import Pt2trtError
from pt2trt.files import format_size, publish, staging_dir


@dataclass
class BuildResult:
    """What :func:`build_engine` wrote."""

    plan: BuildPlan
    engine: Path
    metadata_path: Path
    metadata: EngineMetadata
    seconds: float
    size_bytes: int
    log: str = field(default="", repr=False)

    def closing_line(self) -> str:
        return (
            f"built {self.engine} ({format_size(self.size_bytes)}), TensorRT {self.metadata.tensorrt_version}, "
            f"{self.plan.precision}, on {self.metadata.gpu_name}, {self.seconds:.1f} s; metadata in "
            f"{self.metadata_path.name}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": str(self.engine),
            "metadata": str(self.metadata_path),
            "seconds": round(self.seconds, 3),
            "size_bytes": self.size_bytes,
            **{k: v for k, v in self.metadata.to_dict().items() if k not in ("inputs", "outputs")},
        }


# -- loaders (no GPU needed to create them) -----------------------------------------------------------------------
def polygraphy_profiles(plan: BuildPlan) -> list[Any]:
    """The plan's optimization profiles as ``polygraphy.backend.trt.Profile`` objects."""
    from polygraphy.backend.trt import Profile

    profiles = []
    for p in plan.profiles:
        profile = Profile()
        for name, (low, opt, high) in p.shapes.items():
            profile.add(name, min=low, opt=opt, max=high)
        profiles.append(profile)
    return profiles


def create_config(
    plan: BuildPlan, trt: ModuleType, calibrator: Any = None, *, progress_monitor: Any = None, detailed: bool = True
) -> Any:
    """``polygraphy.backend.trt.CreateConfig`` holding everything the plan sets on the builder config.

    ``detailed``: detailed profiling verbosity, so that ``IEngineInspector`` reports each layer's precision and
    fused ONNX nodes (else layer names only).
    """
    from polygraphy.backend.trt import CreateConfig

    kwargs: dict[str, Any] = {"profiles": polygraphy_profiles(plan) or None}
    verbosity = "DETAILED" if detailed else "LAYER_NAMES_ONLY"
    kwargs["profiling_verbosity"] = getattr(trt.ProfilingVerbosity, verbosity)
    if progress_monitor is not None:
        kwargs["progress_monitor"] = progress_monitor
    if plan.builder_flags:  # TensorRT 11 has neither flag (strongly typed): never pass them there
        kwargs["fp16"] = "FP16" in plan.builder_flags
        kwargs["int8"] = "INT8" in plan.builder_flags
        kwargs["calibrator"] = calibrator
    if plan.workspace_mib:
        kwargs["memory_pool_limits"] = {trt.MemoryPoolType.WORKSPACE: plan.workspace_mib << 20}
    if plan.timing_cache is not None and plan.timing_cache.is_file():
        kwargs["load_timing_cache"] = str(plan.timing_cache)
    if plan.builder_optimization_level is not None:
        kwargs["builder_optimization_level"] = plan.builder_optimization_level
    if plan.version_compatible:
        kwargs["version_compatible"] = True
    if plan.hardware_compatibility_level != "none":
        member = HARDWARE_LEVELS[plan.hardware_compatibility_level][0]
        kwargs["hardware_compatibility_level"] = getattr(trt.HardwareCompatibilityLevel, member)
    return CreateConfig(**kwargs)


def network_loader(plan: BuildPlan, onnx_path: Path) -> Any:
    """``NetworkFromOnnxPath`` over the (possibly FP16-converted) ONNX, strongly typed on TensorRT 11."""
    from polygraphy.backend.trt import NetworkFromOnnxPath

    return NetworkFromOnnxPath(str(onnx_path), strongly_typed=True if plan.strongly_typed else None)


def engine_loader(
    plan: BuildPlan,
    trt: ModuleType,
    onnx_path: Path | None = None,
    calibrator: Any = None,
    *,
    progress_monitor: Any = None,
    detailed: bool = True,
) -> Any:
    """``EngineBytesFromNetwork``: calling it parses, builds and returns the serialized engine (GPU needed)."""
    from polygraphy.backend.trt import EngineBytesFromNetwork

    return EngineBytesFromNetwork(
        network_loader(plan, onnx_path or plan.onnx),
        config=create_config(plan, trt, calibrator, progress_monitor=progress_monitor, detailed=detailed),
        save_timing_cache=str(plan.timing_cache) if plan.timing_cache else None,
    )


# -- FP16 conversion for strongly typed TensorRT ------------------------------------------------------------------
def convert_to_fp16(src: Path, dst: Path, *, keep_io_types: bool = True) -> Path:
    """Write an FP16 copy of an ONNX model (float32 I/O kept by default) for strongly typed builds."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    try:
        converted = convert_float_to_float16(model, keep_io_types=keep_io_types)
    except Exception as exc:  # the converter raises plain errors on graphs it cannot handle
        raise Pt2trtError(
            f"converting {src} to FP16 failed: {type(exc).__name__}: {exc}",
            "Convert it yourself (e.g. NVIDIA ModelOpt AutoCast: python -m modelopt.onnx.autocast --onnx_path "
            "MODEL.onnx) and build the result without --fp16",
        ) from exc
    onnx.save(converted, str(dst), save_as_external_data=converted.ByteSize() > 1_800_000_000)
    return dst


# -- the build ----------------------------------------------------------------------------------------------------
#: converts the plan's ONNX for a strongly typed build (mixed FP16, or Q/DQ INT8) into a folder; returns the new file.
#: ``pt2trt.precision.for_build`` is the one pt2trt passes (the precision layer sits above this package).
Converter = Callable[["BuildPlan", Path], Path]


def build_engine(
    plan: BuildPlan,
    *,
    device: int = 0,
    progress: bool = True,
    inspect: bool = True,
    phases: BuildPhases | None = None,
    onnx_file: Path | None = None,
) -> BuildResult:
    """Build ``plan.output`` and its metadata file, atomically; needs TensorRT and a CUDA GPU.

    ``progress``: show the build phases on stderr (TensorRT >= 10); Ctrl-C cancels either way. ``inspect``: build
    with detailed profiling verbosity and record the engine's layers in the metadata file. ``phases``: the phase
    accounting to use (a fresh one by default); after the build it holds every phase TensorRT reported.
    ``onnx_file``: the ONNX to parse when it is not ``plan.onnx``: the reduced-precision model a TensorRT 11 plan
    needs, written beforehand by ``pt2trt.precision`` (:func:`pt2trt.precision.build.build` does both). Without
    it, FP16 on TensorRT 11 is a whole-graph cast and a plan that quantizes is refused.
    """
    import onnx

    trt = import_tensorrt()
    installed = target_of(trt.__version__)
    if installed.name != plan.target.name:
        raise Pt2trtError(
            f"the plan targets TensorRT {plan.target.name} but {trt.__version__} is installed",
            f"Plan for the installed version (drop --trt-version or pass --trt-version {installed.name})",
        )
    gpu = require_gpu(device)
    phases = phases if phases is not None else BuildPhases()
    with staging_dir(plan.output) as tmp:
        parsed = onnx_file or plan.onnx
        if onnx_file is None and plan.int8_mode == "quantize":
            raise Pt2trtError(
                "this build plan quantizes to Q/DQ first", "Build it with pt2trt.precision.build.build (pt2trt build)"
            )
        if onnx_file is None and plan.convert_to_fp16:
            parsed = convert_to_fp16(plan.onnx, tmp / "model_fp16.onnx", keep_io_types=plan.keep_io_types)
        calibrator = None
        if plan.int8_mode == "calibration":
            from pt2trt.backends.tensorrt.calibration import make_calibrator

            calibrator = make_calibrator(plan, trt)
        monitor = make_progress_monitor(trt, phases)
        loader = engine_loader(plan, trt, parsed, calibrator, progress_monitor=monitor, detailed=inspect)
        start = time.perf_counter()
        engine_bytes, failure, log = _build_with_progress(loader, plan, phases, progress and monitor is not None)
        if phases.cancelled or phases.cancel_requested:
            raise Pt2trtError(
                f"build of {plan.output} cancelled (Ctrl-C); nothing was written", "Run the same command to build it"
            )
        if failure is not None:
            errors = [line.strip() for line in log.splitlines() if "[E]" in line or "ERROR" in line]
            detail = f" (TensorRT: {' | '.join(errors[-3:])})" if errors else ""
            raise Pt2trtError(failure.message + detail, failure.hint) from failure
        assert engine_bytes is not None
        seconds = time.perf_counter() - start
        staged = tmp / plan.output.name
        staged.write_bytes(engine_bytes)
        parsed_model = onnx.load(str(parsed), load_external_data=False)
        metadata = engine_metadata(plan, parsed_model, staged, trt.__version__, gpu, seconds)
        if inspect:
            metadata.inspection = inspection_section(trt, engine_bytes, plan.precision)
        staged_meta = tmp / plan.metadata_path.name
        write_metadata(staged_meta, metadata)
        publish(staged, plan.output, replace=plan.force)
        publish(staged_meta, plan.metadata_path, replace=plan.force)
    size = plan.output.stat().st_size
    return BuildResult(plan, plan.output, plan.metadata_path, metadata, seconds, size, log)


def _build_with_progress(
    loader: Any, plan: BuildPlan, phases: BuildPhases, show: bool
) -> tuple[bytes | None, Pt2trtError | None, str]:
    """Run the loader with Ctrl-C turned into cancellation, TensorRT's output captured, phases shown on stderr.

    The display writes to a duplicate of the real stderr taken before the capture redirects file descriptor 2.
    """
    stream = os.fdopen(os.dup(2), "w", buffering=1) if show else None
    display = RichPhaseDisplay(stream) if stream is not None else None
    phases.display = display
    engine_bytes: bytes | None = None
    failure: Pt2trtError | None = None
    try:
        with cancel_on_sigint(phases), capture_output() as captured:  # keep --json clean of TensorRT's logging
            if display is not None:
                display.__enter__()
            try:
                engine_bytes = _run_loader(loader, plan)
            except Pt2trtError as exc:
                failure = exc
            finally:
                if display is not None:
                    display.__exit__(None, None, None)
    finally:
        phases.display = None
        if stream is not None:
            stream.close()
    return engine_bytes, failure, captured.text


def inspection_section(trt: Any, engine_bytes: bytes, requested: str) -> dict[str, Any]:
    """The engine's ``IEngineInspector`` JSON and its summary, for the metadata file (empty if it cannot load)."""
    from pt2trt.backends.tensorrt.inspect import inspector_json, parse_engine_information

    raw = inspector_json(trt, engine_bytes)
    if raw is None:
        return {}
    report = parse_engine_information(json.loads(raw), requested=requested)
    return {"summary": report.summary_dict(), "warnings": report.warnings, "engine_information": json.loads(raw)}


def _run_loader(loader: Any, plan: BuildPlan) -> bytes:
    from polygraphy.exception import PolygraphyException

    try:
        engine = loader()
    except PolygraphyException as exc:
        text = " ".join(str(exc).split())[:400]
        raise Pt2trtError(
            f"TensorRT could not build {plan.onnx}: {text}",
            f"Run `pt2trt check {plan.onnx} --target {plan.target.cli_name}` to see what the parser rejects",
        ) from exc
    if engine is None:
        raise Pt2trtError(f"TensorRT returned no engine for {plan.onnx}", "Rerun with a larger --workspace")
    return bytes(engine)


def engine_metadata(
    plan: BuildPlan, parsed: Any, engine: Path, tensorrt_version: str, gpu: Gpu, seconds: float
) -> EngineMetadata:
    """The sidecar record of an engine built from ``plan`` (I/O from the ONNX that was parsed)."""
    from onnx import helper

    def output_info(value: Any) -> dict[str, Any]:
        ttype = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in ttype.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(ttype.elem_type).name if ttype.elem_type else "float32"
        return {"name": value.name, "dtype": dtype, "shape": dims}

    return EngineMetadata(
        tensorrt_version=tensorrt_version,
        gpu_name=gpu.name,
        compute_capability=gpu.compute_capability,
        onnx_path=str(plan.onnx),
        onnx_sha256=sha256_file(plan.onnx),
        engine_sha256=sha256_file(engine),
        precision=plan.precision,
        strongly_typed=plan.strongly_typed,
        profiles=[p.to_dict() for p in plan.profiles],
        flags={
            "builder_flags": plan.builder_flags,
            "fp16_conversion": {"keep_io_types": plan.keep_io_types} if plan.convert_to_fp16 else None,
            "int8_mode": plan.int8_mode,
            "calibration_cache": str(plan.calibration_cache) if plan.calibration_cache else None,
            "workspace_mib": plan.workspace_mib,
            "timing_cache": str(plan.timing_cache) if plan.timing_cache else None,
            "builder_optimization_level": plan.builder_optimization_level,
            "version_compatible": plan.version_compatible,
            "hardware_compatibility_level": plan.hardware_compatibility_level,
        },
        inputs=[i.to_dict() for i in onnx_inputs(parsed)],
        outputs=[output_info(o) for o in parsed.graph.output],
        onnx_metadata=plan.onnx_metadata,
        pt2trt_version=_version.__version__,
        built_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        build_seconds=round(seconds, 3),
        rebuild_command=plan.command(),
    )
