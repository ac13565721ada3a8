"""The build plan: everything about an engine build that can be resolved and checked without a GPU.

:func:`make_plan` reads the ONNX inputs, turns trtexec-style shape flags into optimization profiles
(:mod:`~pt2trt.backends.tensorrt.profiles`), decides how precision is set on the target TensorRT version
(:mod:`~pt2trt.backends.tensorrt.precision`) and validates the output paths. ``pt2trt build --dry-run`` prints the
plan; a real build executes it (:mod:`pt2trt.backends.tensorrt.build`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.backends.tensorrt import precision as prec
from pt2trt.backends.tensorrt.profiles import InputInfo, Profile, onnx_inputs, resolve_profiles, shape_text
from pt2trt.backends.tensorrt.versions import TARGETS, Target, at_least, installed_version, parse_target, target_of
from pt2trt.errors import UsageError
from pt2trt.files import check_writable, existing_file
from pt2trt.onnx import metadata as meta
from pt2trt.onnx.model import ModelLike, OnnxModel
from pt2trt.settings.tensorrt import BuildSettings

#: --hardware-compatibility-level value -> (TensorRT enum member, oldest TensorRT that has it)
HARDWARE_LEVELS: dict[str, tuple[str, str]] = {
    "none": ("NONE", "8.6"),
    "ampere+": ("AMPERE_PLUS", "8.6"),
    "same-compute-capability": ("SAME_COMPUTE_CAPABILITY", "10.9"),
}
OPTIMIZATION_LEVELS = range(0, 6)  # trtexec --builderOptimizationLevel: 0..5, TensorRT's default is 3


@dataclass
class BuildPlan:
    """What ``pt2trt build`` will do, resolved from the ONNX file and the flags."""

    onnx: Path
    output: Path
    target: Target
    installed: str | None
    inputs: list[InputInfo]
    outputs: list[str]
    profiles: list[Profile]
    fp16: bool = False
    int8: bool = False
    int8_mode: str | None = None  # "calibration" (flag + calibrator), "qdq" (Q/DQ in the ONNX) or "quantize" (Q/DQ
    # written by pt2trt quantize before parsing, TensorRT 11)
    calibration_data: Path | None = None
    calibration_cache: Path | None = None
    keep_io_types: bool = True
    workspace_mib: int | None = None
    timing_cache: Path | None = None
    builder_optimization_level: int | None = None
    version_compatible: bool = False
    hardware_compatibility_level: str = "none"
    onnx_metadata: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    force: bool = False  # the engine and its sidecar may replace existing files

    @property
    def metadata_path(self) -> Path:
        from pt2trt.backends.tensorrt.metadata import sidecar_path

        return sidecar_path(self.output)

    @property
    def strongly_typed(self) -> bool:
        return self.target.strongly_typed_only

    @property
    def convert_to_fp16(self) -> bool:
        """TensorRT 11: the ONNX is converted to FP16 before parsing (no FP16 builder flag exists)."""
        return prec.converts_to_fp16(self.target, fp16=self.fp16)

    @property
    def builder_flags(self) -> list[str]:
        """Precision builder flags (TensorRT 8.6/10 only)."""
        return prec.builder_flags(self.target, fp16=self.fp16, int8=self.int8)

    @property
    def precision(self) -> str:
        return prec.precision_name(fp16=self.fp16, int8=self.int8)

    def to_dict(self) -> dict[str, Any]:
        return {
            "onnx": str(self.onnx),
            "output": str(self.output),
            "metadata": str(self.metadata_path),
            "target": self.target.cli_name,
            "installed_tensorrt": self.installed,
            "strongly_typed": self.strongly_typed,
            "precision": self.precision,
            "builder_flags": self.builder_flags,
            "fp16_conversion": {"keep_io_types": self.keep_io_types} if self.convert_to_fp16 else None,
            "int8": {
                "mode": self.int8_mode,
                "calibration_data": str(self.calibration_data) if self.calibration_data else None,
                "calibration_cache": str(self.calibration_cache) if self.calibration_cache else None,
            }
            if self.int8
            else None,
            "inputs": [i.to_dict() for i in self.inputs],
            "outputs": self.outputs,
            "profiles": [p.to_dict() for p in self.profiles],
            "workspace_mib": self.workspace_mib,
            "timing_cache": str(self.timing_cache) if self.timing_cache else None,
            "builder_optimization_level": self.builder_optimization_level,
            "version_compatible": self.version_compatible,
            "hardware_compatibility_level": self.hardware_compatibility_level,
            "onnx_metadata": self.onnx_metadata,
            "notes": self.notes,
            "command": self.command(),
        }

    def lines(self) -> list[str]:
        """The plan as text, one fact per line."""
        installed = f"installed {self.installed}" if self.installed else "not installed here"
        typing = "strongly typed network" if self.strongly_typed else "weakly typed network"
        out = [
            f"build plan: {self.onnx} -> {self.output} (+ {self.metadata_path.name})",
            f"  TensorRT {self.target.name} ({installed}): {typing}",
            "  inputs: " + ", ".join(f"{i.name} {i.dtype} {i.dims_text}" for i in self.inputs),
        ]
        profiles = [f"  profile {k}: {p.text()}" for k, p in enumerate(self.profiles)]
        out += profiles or ["  profile: none (static shapes)"]
        out.append(f"  precision: {self._precision_text()}")
        workspace = f"{self.workspace_mib} MiB" if self.workspace_mib else "TensorRT default"
        level = self.builder_optimization_level if self.builder_optimization_level is not None else "default (3)"
        cache = "none"
        if self.timing_cache:
            cache = f"{self.timing_cache} ({'loaded and updated' if self.timing_cache.exists() else 'created'})"
        out.append(f"  workspace: {workspace} | optimization level: {level} | timing cache: {cache}")
        out.append(
            f"  version compatible: {'yes' if self.version_compatible else 'no'}"
            f" | hardware compatibility: {self.hardware_compatibility_level}"
        )
        out += [f"  note: {n}" for n in self.notes]
        return out

    def _precision_text(self) -> str:
        """The precision line: builder flags, FP16 conversion, where INT8 comes from."""
        precision = self.precision
        if self.builder_flags:
            precision += f" (builder flags {', '.join(self.builder_flags)})"
        if self.convert_to_fp16:
            io = "float32 I/O kept" if self.keep_io_types else "I/O converted too"
            precision += f" (ONNX converted to mixed FP16 first, {io})"
        if self.int8:
            how = {"qdq": "Q/DQ nodes", "quantize": "Q/DQ nodes written by pt2trt quantize"}
            precision += f"; INT8 by {how.get(self.int8_mode or '', 'calibration')}"
            if self.calibration_data:
                precision += f" on {self.calibration_data}"
            if self.calibration_cache:
                precision += f", cache {self.calibration_cache}"
        return precision

    def command(self, *, force: bool = True) -> str:
        """The ``pt2trt build`` command line that reproduces this build (with --force: the rebuild advice)."""
        args = ["pt2trt", "build", str(self.onnx), "-o", str(self.output)] + (["--force"] if force else [])
        for p in self.profiles:
            fixed = all(a == b == c for a, b, c in p.shapes.values())
            kinds = [("--shapes", 1)] if fixed else [("--min-shapes", 0), ("--opt-shapes", 1), ("--max-shapes", 2)]
            for flag, k in kinds:
                args += [flag, ",".join(f"{n}:{shape_text(s[k])}" for n, s in p.shapes.items())]
        args += ["--fp16"] if self.fp16 else []
        args += ["--int8"] if self.int8 else []
        args += ["--calib-data", str(self.calibration_data)] if self.calibration_data else []
        args += ["--calib-cache", str(self.calibration_cache)] if self.calibration_cache else []
        args += ["--no-keep-io-types"] if self.convert_to_fp16 and not self.keep_io_types else []
        args += ["--workspace", str(self.workspace_mib)] if self.workspace_mib else []
        args += ["--timing-cache", str(self.timing_cache)] if self.timing_cache else []
        if self.builder_optimization_level is not None:
            args += ["--builder-optimization-level", str(self.builder_optimization_level)]
        args += ["--version-compatible"] if self.version_compatible else []
        if self.hardware_compatibility_level != "none":
            args += ["--hardware-compatibility-level", self.hardware_compatibility_level]
        return shlex.join(args)


def default_output(onnx_path: str | Path) -> Path:
    return Path(onnx_path).with_suffix(".engine")


def make_plan(
    onnx_path: ModelLike,
    output: str | Path | None = None,
    settings: BuildSettings | None = None,
    *,
    force: bool = False,
) -> BuildPlan:
    """Resolve and validate a build of ``onnx_path`` (a handle or a path) into ``output``; raises
    :class:`Pt2trtError` / :class:`UsageError` for anything wrong.

    ``settings`` (:class:`~pt2trt.settings.BuildSettings`) holds the target (``trt_version`` ``8.6``, ``10``,
    ``11``; by default the installed TensorRT decides), the optimization profiles (trtexec's shape flags parse into
    them with :func:`~pt2trt.settings.tensorrt.parse_profile_flags`), precision and builder options.
    """
    s = settings or BuildSettings()
    handle = OnnxModel.of(onnx_path)
    if handle.path is None:
        raise UsageError("a build plan needs the ONNX model as a file", "Save the model and pass its path")
    src = existing_file(handle.path, "ONNX file")
    model = handle.proto
    out = Path(output) if output is not None else default_output(src)
    if out.resolve() == src.resolve():
        raise UsageError(f"output {out} is the ONNX file itself", "Name the engine file like model.engine")
    check_writable(out, force=force)
    from pt2trt.backends.tensorrt.metadata import sidecar_path

    check_writable(sidecar_path(out), force=force)

    installed = installed_version()
    target, notes = _resolve_target(s.trt_version, installed)
    inputs = onnx_inputs(model)
    plan = BuildPlan(
        onnx=src,
        output=out,
        target=target,
        installed=installed,
        inputs=inputs,
        outputs=[o.name for o in model.graph.output],
        profiles=resolve_profiles(inputs, s.profiles, handle.metadata),
        fp16=s.fp16,
        int8=s.int8,
        keep_io_types=s.keep_io_types,
        onnx_metadata={k: v for k, v in handle.metadata.items() if k.startswith(meta.PREFIX)},
        notes=notes,
        force=force,
    )
    _resolve_options(plan, s.workspace_mib, s.timing_cache, s.builder_optimization_level, s.version_compatible)
    _resolve_hardware_level(plan, s.hardware_compatibility_level)
    choice = prec.resolve_precision(
        model,
        target,
        fp16=s.fp16,
        int8=s.int8,
        keep_io_types=s.keep_io_types,
        data=s.calibration_data,
        cache=s.calibration_cache,
        has_profiles=bool(plan.profiles),
    )
    plan.int8_mode = choice.int8_mode
    plan.calibration_data, plan.calibration_cache = choice.calibration_data, choice.calibration_cache
    plan.notes += choice.notes
    return plan


def _resolve_target(trt_version: str | None, installed: str | None) -> tuple[Target, list[str]]:
    if trt_version is None:
        if installed is None:
            raise UsageError(
                "TensorRT is not installed here, so the target version is unknown",
                f"Choose it with --trt-version {'|'.join(TARGETS)} (or install TensorRT: pip install "
                '"pt2trt[tensorrt]")',
            )
        return target_of(installed), []
    target = parse_target(trt_version)
    notes = []
    if installed is not None and target_of(installed).name != target.name:
        notes.append(
            f"planned for TensorRT {target.name} but {installed} is installed: only a dry run works here, "
            "the engine must be built where TensorRT matches"
        )
    return target, notes


def _resolve_options(
    plan: BuildPlan,
    workspace_mib: int | None,
    timing_cache: str | Path | None,
    level: int | None,
    version_compatible: bool,
) -> None:
    if workspace_mib is not None and workspace_mib < 1:
        raise UsageError(
            f"--workspace must be at least 1 MiB, got {workspace_mib}", "Pass --workspace 1 or more (in MiB)"
        )
    if level is not None and level not in OPTIMIZATION_LEVELS:
        raise UsageError(
            f"--builder-optimization-level must be 0 to 5, got {level}",
            "Higher levels search longer for faster kernels; 3 is TensorRT's default",
        )
    plan.workspace_mib = workspace_mib
    plan.builder_optimization_level = level
    plan.version_compatible = version_compatible
    if timing_cache is not None:
        cache = Path(timing_cache)
        if cache.is_dir():
            raise UsageError(f"--timing-cache {cache} is a directory", "Name a file, e.g. --timing-cache trt.cache")
        plan.timing_cache = cache
    if version_compatible:
        plan.notes.append(
            "version compatible: later TensorRT releases can run the engine (it embeds a lean runtime); "
            "it may run slower"
        )


def _resolve_hardware_level(plan: BuildPlan, level: str) -> None:
    key = level.strip().lower()
    if key not in HARDWARE_LEVELS:
        raise UsageError(f"unknown hardware compatibility level '{level}'", f"Use one of: {', '.join(HARDWARE_LEVELS)}")
    since = HARDWARE_LEVELS[key][1]
    if plan.target.name == "8.6" and since != "8.6":
        raise UsageError(
            f"--hardware-compatibility-level {key} needs TensorRT {since} or newer, the target is 8.6",
            "Target TensorRT 10 or newer (--target), or leave out --hardware-compatibility-level",
        )
    if plan.installed and not at_least(plan.installed, since):
        raise UsageError(
            f"--hardware-compatibility-level {key} needs TensorRT {since} or newer, {plan.installed} is installed",
            "Upgrade TensorRT, or leave out --hardware-compatibility-level",
        )
    if not plan.installed and not at_least(plan.target.name, since):
        plan.notes.append(f"--hardware-compatibility-level {key} needs TensorRT {since} or newer")
    if key != "none":
        which = "Ampere and newer GPUs" if key == "ampere+" else "GPUs of the build GPU's compute capability"
        plan.notes.append(f"hardware compatibility {key}: the engine runs on {which}, possibly slower")
    plan.hardware_compatibility_level = key
