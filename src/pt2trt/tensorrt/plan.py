"""The build plan: everything about an engine build that can be resolved and checked without a GPU.

:func:`make_plan` reads the ONNX inputs, turns trtexec-style shape flags into optimization profiles, decides how
precision is set on the target TensorRT version and validates the output paths. ``pt2trt build --dry-run`` prints
the plan; a real build executes it (:mod:`pt2trt.tensorrt.build`).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import check_writable, existing_file
from pt2trt.onnx import metadata as meta
from pt2trt.onnx.load import load_onnx
from pt2trt.shapes import parse_input
from pt2trt.tensorrt.versions import TARGETS, Target, at_least, installed_version, parse_target, target_of

if TYPE_CHECKING:
    import onnx

Shape = tuple[int, ...]

#: --hardware-compatibility-level value -> (TensorRT enum member, oldest TensorRT that has it)
HARDWARE_LEVELS: dict[str, tuple[str, str]] = {
    "none": ("NONE", "8.6"),
    "ampere+": ("AMPERE_PLUS", "8.6"),
    "same-compute-capability": ("SAME_COMPUTE_CAPABILITY", "10.9"),
}
OPTIMIZATION_LEVELS = range(0, 6)  # trtexec --builderOptimizationLevel: 0..5, TensorRT's default is 3
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
ARRAY_SUFFIXES = (".npy", ".npz")
QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
QDQ_HINT = (
    "Quantize the ONNX first, e.g. NVIDIA ModelOpt (python -m modelopt.onnx.quantization --onnx_path MODEL.onnx "
    "--quantize_mode int8 --calibration_data calib.npy) or onnxruntime.quantization.quantize_static(..., "
    "quant_format=QuantFormat.QDQ), then build the quantized ONNX"
)


@dataclass(frozen=True)
class InputInfo:
    """One ONNX graph input: name, dtype and dims (ints, or names/None for dynamic dims)."""

    name: str
    dtype: str
    dims: tuple[int | str | None, ...]

    @property
    def dynamic_axes(self) -> list[int]:
        return [i for i, d in enumerate(self.dims) if not isinstance(d, int)]

    @property
    def dims_text(self) -> str:
        return "x".join(str(d) if d is not None else "?" for d in self.dims) or "scalar"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.dims)}


@dataclass(frozen=True)
class Profile:
    """One optimization profile: input name -> (min, opt, max) shapes."""

    shapes: dict[str, tuple[Shape, Shape, Shape]]

    def to_dict(self) -> dict[str, dict[str, list[int]]]:
        return {n: {"min": list(a), "opt": list(b), "max": list(c)} for n, (a, b, c) in self.shapes.items()}

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, list[int]]]) -> Profile:
        return cls({n: (tuple(v["min"]), tuple(v["opt"]), tuple(v["max"])) for n, v in data.items()})

    def text(self) -> str:
        parts = []
        for name, (low, opt, high) in self.shapes.items():
            if low == opt == high:
                parts.append(f"{name} {_dims(opt)}")
            else:
                parts.append(f"{name} min {_dims(low)} opt {_dims(opt)} max {_dims(high)}")
        return "; ".join(parts)


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
    int8_mode: str | None = None  # "calibration" (builder flag + calibrator) or "qdq" (explicit quantization)
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
        from pt2trt.tensorrt.metadata import sidecar_path

        return sidecar_path(self.output)

    @property
    def strongly_typed(self) -> bool:
        return self.target.strongly_typed_only

    @property
    def convert_to_fp16(self) -> bool:
        """TensorRT 11: the ONNX is converted to FP16 before parsing (no FP16 builder flag exists)."""
        return self.fp16 and self.strongly_typed

    @property
    def builder_flags(self) -> list[str]:
        """Precision builder flags (TensorRT 8.6/10 only)."""
        if self.strongly_typed:
            return []
        return [name for name, on in (("FP16", self.fp16), ("INT8", self.int8)) if on]

    @property
    def precision(self) -> str:
        return "+".join(p for p, on in (("fp16", self.fp16), ("int8", self.int8)) if on) or "fp32"

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
        precision = self.precision
        if self.builder_flags:
            precision += f" (builder flags {', '.join(self.builder_flags)})"
        if self.convert_to_fp16:
            io = "float32 I/O kept" if self.keep_io_types else "I/O converted too"
            precision += f" (ONNX converted to FP16 first, {io})"
        if self.int8:
            precision += f"; INT8 by {'Q/DQ nodes' if self.int8_mode == 'qdq' else 'calibration'}"
            if self.calibration_data:
                precision += f" on {self.calibration_data}"
            if self.calibration_cache:
                precision += f", cache {self.calibration_cache}"
        out = [
            f"build plan: {self.onnx} -> {self.output} (+ {self.metadata_path.name})",
            f"  TensorRT {self.target.name} ({installed}): {typing}",
            "  inputs: " + ", ".join(f"{i.name} {i.dtype} {i.dims_text}" for i in self.inputs),
        ]
        profiles = [f"  profile {k}: {p.text()}" for k, p in enumerate(self.profiles)]
        out += profiles or ["  profile: none (static shapes)"]
        out.append(f"  precision: {precision}")
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

    def command(self, *, force: bool = True) -> str:
        """The ``pt2trt build`` command line that reproduces this build (with --force: the rebuild advice)."""
        args = ["pt2trt", "build", str(self.onnx), "-o", str(self.output)] + (["--force"] if force else [])
        for p in self.profiles:
            fixed = all(a == b == c for a, b, c in p.shapes.values())
            kinds = [("--shapes", 1)] if fixed else [("--min-shapes", 0), ("--opt-shapes", 1), ("--max-shapes", 2)]
            for flag, k in kinds:
                args += [flag, ",".join(f"{n}:{_dims(s[k])}" for n, s in p.shapes.items())]
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


def _dims(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape)) or "scalar"


def default_output(onnx_path: str | Path) -> Path:
    return Path(onnx_path).with_suffix(".engine")


def make_plan(
    onnx_path: str | Path,
    output: str | Path | None = None,
    *,
    shapes: Sequence[str] = (),
    min_shapes: Sequence[str] = (),
    opt_shapes: Sequence[str] = (),
    max_shapes: Sequence[str] = (),
    fp16: bool = False,
    int8: bool = False,
    calibration_data: str | Path | None = None,
    calibration_cache: str | Path | None = None,
    keep_io_types: bool = True,
    workspace_mib: int | None = None,
    timing_cache: str | Path | None = None,
    builder_optimization_level: int | None = None,
    version_compatible: bool = False,
    hardware_compatibility_level: str = "none",
    trt_version: str | None = None,
    force: bool = False,
) -> BuildPlan:
    """Resolve and validate a build; raises :class:`Pt2trtError` / :class:`UsageError` for anything wrong.

    Shape flags use trtexec's spelling, ``NAME:DIMS[,NAME:DIMS...]``. The k-th ``--min/--opt/--max-shapes`` values
    form profile k (``opt`` defaults to ``max``); each ``--shapes`` value is a profile with one fixed shape.
    ``trt_version`` (``8.6``, ``10``, ``11``) chooses the target; by default the installed TensorRT decides.
    """
    src = existing_file(onnx_path, "ONNX file")
    model = load_onnx(src, load_external_data=False)
    out = Path(output) if output is not None else default_output(src)
    if out.resolve() == src.resolve():
        raise UsageError(f"output {out} is the ONNX file itself", "Name the engine file like model.engine")
    check_writable(out, force=force)
    from pt2trt.tensorrt.metadata import sidecar_path

    check_writable(sidecar_path(out), force=force)

    installed = installed_version()
    target, notes = _resolve_target(trt_version, installed)
    inputs = onnx_inputs(model)
    plan = BuildPlan(
        onnx=src,
        output=out,
        target=target,
        installed=installed,
        inputs=inputs,
        outputs=[o.name for o in model.graph.output],
        profiles=resolve_profiles(inputs, shapes, min_shapes, opt_shapes, max_shapes, meta.read_metadata(model)),
        fp16=fp16,
        int8=int8,
        keep_io_types=keep_io_types,
        onnx_metadata={k: v for k, v in meta.read_metadata(model).items() if k.startswith(meta.PREFIX)},
        notes=notes,
        force=force,
    )
    _resolve_options(plan, workspace_mib, timing_cache, builder_optimization_level, version_compatible)
    _resolve_hardware_level(plan, hardware_compatibility_level)
    _resolve_precision(plan, model, calibration_data, calibration_cache)
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


def onnx_inputs(model: onnx.ModelProto) -> list[InputInfo]:
    """The graph's real inputs (initializers excluded) with their dims."""
    from onnx import helper

    initializers = {t.name for t in model.graph.initializer}
    inputs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        ttype = value.type.tensor_type
        dims: list[int | str | None] = []
        for d in ttype.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or None))
        dtype = helper.tensor_dtype_to_np_dtype(ttype.elem_type).name if ttype.elem_type else "float32"
        inputs.append(InputInfo(value.name, dtype, tuple(dims)))
    return inputs


def _parse_shape_list(flag: str, text: str, inputs: dict[str, InputInfo]) -> dict[str, Shape]:
    """``input:1x3x224x224,mask:1x1x224x224`` -> {name: shape}, checked against the ONNX inputs."""
    result: dict[str, Shape] = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        if ":" not in item:
            raise UsageError(f"malformed {flag} entry '{item}'", f"Write NAME:DIMS, e.g. {flag} input:1x3x224x224")
        try:
            spec = parse_input(item)
        except UsageError as exc:
            raise UsageError(f"malformed {flag} entry '{item}': {exc.message}", exc.hint) from None
        name = str(spec.name)
        if name not in inputs:
            raise UsageError(
                f"{flag} names '{name}', which is not an input of the model", f"Inputs are: {', '.join(inputs)}"
            )
        if name in result:
            raise UsageError(f"{flag} gives input '{name}' twice in one profile")
        result[name] = spec.shape
    return result


def resolve_profiles(
    inputs: Sequence[InputInfo],
    shapes: Sequence[str],
    min_shapes: Sequence[str],
    opt_shapes: Sequence[str],
    max_shapes: Sequence[str],
    metadata: dict[str, str] | None = None,
) -> list[Profile]:
    """Optimization profiles from trtexec-style flags; every dynamic input needs a range in every profile."""
    by_name = {i.name: i for i in inputs}
    if shapes and (min_shapes or opt_shapes or max_shapes):
        raise UsageError(
            "--shapes cannot be combined with --min-shapes/--opt-shapes/--max-shapes",
            "Use --shapes for fixed-shape profiles, or the min/opt/max flags for ranges",
        )
    if len(min_shapes) != len(max_shapes) or len(opt_shapes) > len(max_shapes):
        raise UsageError(
            f"{len(min_shapes)} --min-shapes, {len(opt_shapes)} --opt-shapes and {len(max_shapes)} --max-shapes given",
            "Give one --min-shapes and one --max-shapes per profile (--opt-shapes defaults to the max shapes)",
        )
    raw: list[dict[str, tuple[Shape, Shape, Shape]]] = []
    for text in shapes:
        fixed = _parse_shape_list("--shapes", text, by_name)
        raw.append({n: (s, s, s) for n, s in fixed.items()})
    for k, (low_text, high_text) in enumerate(zip(min_shapes, max_shapes)):
        low = _parse_shape_list("--min-shapes", low_text, by_name)
        high = _parse_shape_list("--max-shapes", high_text, by_name)
        opt = _parse_shape_list("--opt-shapes", opt_shapes[k], by_name) if k < len(opt_shapes) else dict(high)
        if not set(low) == set(opt) == set(high):
            raise UsageError(
                f"profile {k} names different inputs in --min-shapes ({', '.join(low)}), --opt-shapes "
                f"({', '.join(opt)}) and --max-shapes ({', '.join(high)})",
                "Give every input of a profile in all three flags",
            )
        raw.append({n: (low[n], opt[n], high[n]) for n in high})
    profiles = [_complete_profile(k, p, inputs, metadata or {}) for k, p in enumerate(raw)]
    if not profiles:
        dynamic = [i for i in inputs if i.dynamic_axes]
        if dynamic:
            raise _missing_range(dynamic[0], metadata or {})
    return profiles


def _complete_profile(
    k: int, given: dict[str, tuple[Shape, Shape, Shape]], inputs: Sequence[InputInfo], metadata: dict[str, str]
) -> Profile:
    """Check each given range against the model; add static inputs; reject dynamic inputs without a range."""
    complete: dict[str, tuple[Shape, Shape, Shape]] = {}
    for info in inputs:
        if info.name not in given:
            if info.dynamic_axes:
                raise _missing_range(info, metadata, profile=k)
            static = tuple(int(d) for d in info.dims)  # type: ignore[arg-type]
            complete[info.name] = (static, static, static)
            continue
        low, opt, high = given[info.name]
        for label, shape in (("min", low), ("opt", opt), ("max", high)):
            if len(shape) != len(info.dims):
                raise UsageError(
                    f"profile {k}: {label} shape {_dims(shape)} of '{info.name}' has {len(shape)} dims, "
                    f"the model's input has {len(info.dims)} ({info.dims_text})"
                )
            for axis, (size, dim) in enumerate(zip(shape, info.dims)):
                if isinstance(dim, int) and size != dim:
                    raise UsageError(
                        f"profile {k}: {label} shape {_dims(shape)} of '{info.name}' sets dim {axis} to {size}, "
                        f"but the model fixes it at {dim} ({info.dims_text})",
                        "Only the model's dynamic dims can vary",
                    )
        if not all(a <= b <= c for a, b, c in zip(low, opt, high)):
            raise UsageError(
                f"profile {k}: '{info.name}' needs min <= opt <= max in every dim, got min {_dims(low)}, "
                f"opt {_dims(opt)}, max {_dims(high)}"
            )
        complete[info.name] = (low, opt, high)
    return Profile(complete)


def _missing_range(info: InputInfo, metadata: dict[str, str], profile: int | None = None) -> UsageError:
    """The error for a dynamic input without a shape range, with example flags filled in from the model."""
    example = {}
    recorded = meta.recorded_inputs(metadata) or []
    for spec in recorded:
        if spec.name == info.name and len(spec.shape) == len(info.dims):
            example = dict(enumerate(spec.shape))
    sizes = []
    for axis, dim in enumerate(info.dims):
        if isinstance(dim, int):
            sizes.append((dim, dim, dim))
        elif axis == 0:
            sizes.append((1, 8, 32))
        else:
            size = example.get(axis) or 224
            sizes.append((size, size, size))
    low, opt, high = ("x".join(str(s[k]) for s in sizes) for k in range(3))
    where = f" in profile {profile}" if profile is not None else ""
    return UsageError(
        f"input '{info.name}' has dynamic shape {info.dims_text} and no shape range{where}",
        f"Give one, e.g. --min-shapes {info.name}:{low} --opt-shapes {info.name}:{opt} --max-shapes "
        f"{info.name}:{high} (or --shapes {info.name}:{opt} for one fixed shape)",
    )


def _resolve_options(
    plan: BuildPlan,
    workspace_mib: int | None,
    timing_cache: str | Path | None,
    level: int | None,
    version_compatible: bool,
) -> None:
    if workspace_mib is not None and workspace_mib < 1:
        raise UsageError(f"--workspace must be at least 1 MiB, got {workspace_mib}")
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
        raise UsageError(f"--hardware-compatibility-level {key} needs TensorRT {since} or newer, the target is 8.6")
    if plan.installed and not at_least(plan.installed, since):
        raise UsageError(
            f"--hardware-compatibility-level {key} needs TensorRT {since} or newer, {plan.installed} is installed"
        )
    if not plan.installed and not at_least(plan.target.name, since):
        plan.notes.append(f"--hardware-compatibility-level {key} needs TensorRT {since} or newer")
    if key != "none":
        which = "Ampere and newer GPUs" if key == "ampere+" else "GPUs of the build GPU's compute capability"
        plan.notes.append(f"hardware compatibility {key}: the engine runs on {which}, possibly slower")
    plan.hardware_compatibility_level = key


def _resolve_precision(
    plan: BuildPlan, model: onnx.ModelProto, data: str | Path | None, cache: str | Path | None
) -> None:
    has_qdq = any(n.op_type in QDQ_OPS for n in model.graph.node)
    if (data or cache) and not plan.int8:
        raise UsageError("--calib-data/--calib-cache are given without --int8", "Add --int8, or drop them")
    if not plan.int8:
        if has_qdq:
            plan.notes.append("the ONNX holds Q/DQ nodes: those tensors run in INT8 whatever the flags")
        if plan.convert_to_fp16:
            plan.notes.append(
                "TensorRT 11 has no FP16 builder flag: the ONNX is converted to FP16 before parsing "
                f"({'float32 inputs/outputs kept' if plan.keep_io_types else 'inputs/outputs become float16'})"
            )
        return
    if has_qdq:
        plan.int8_mode = "qdq"
        if data or cache:
            plan.notes.append("the ONNX holds Q/DQ nodes, so no calibration runs: --calib-data/--calib-cache unused")
        if plan.strongly_typed:
            plan.notes.append("TensorRT 11 takes INT8 from the Q/DQ nodes; --int8 only documents it")
        return
    if plan.strongly_typed:
        raise Pt2trtError(
            "--int8 on TensorRT 11 needs an ONNX with QuantizeLinear/DequantizeLinear nodes: TensorRT 11 builds "
            "strongly typed networks only and has no INT8 calibration",
            QDQ_HINT,
        )
    plan.int8_mode = "calibration"
    plan.calibration_cache = Path(cache) if cache else None
    if data is None:
        if plan.calibration_cache is None or not plan.calibration_cache.is_file():
            raise UsageError(
                f"--int8 on TensorRT {plan.target.name} needs calibration data for a model without Q/DQ nodes",
                "Pass --calib-data DIR (images, preprocessed like the model's input) or .npy batches, "
                "and --calib-cache FILE to reuse the result; or build a Q/DQ-quantized ONNX",
            )
        plan.notes.append(f"INT8 scales are read from the calibration cache {plan.calibration_cache}")
    else:
        plan.calibration_data = _calibration_source(Path(data))
    if plan.target.name == "10":
        plan.notes.append("INT8 calibration (implicit quantization) is deprecated in TensorRT 10; Q/DQ is the future")
    if plan.profiles:
        plan.notes.append("calibration batches must have the last profile's opt shapes")


def _calibration_source(path: Path) -> Path:
    if not path.exists():
        raise Pt2trtError(f"calibration data not found: {path}", "Pass a folder of images or .npy/.npz batches")
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    usable = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES + ARRAY_SUFFIXES]
    if not usable:
        raise Pt2trtError(
            f"no calibration data in {path}",
            f"Put images ({', '.join(IMAGE_SUFFIXES)}) or .npy/.npz batches there",
        )
    return path
