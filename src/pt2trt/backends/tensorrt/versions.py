"""TensorRT versions and build targets: what is installed (found without importing it) and what each target allows.

A *target* is a family of TensorRT releases that build the same way: ``8.6``, ``10`` (10.x) and ``11`` (11.x).
The table :data:`TARGETS` drives the ``--trt-version`` / ``--target`` choices, the build plan and the error messages.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pt2trt.errors import Pt2trtError, UsageError

INSTALL_HINT = (
    'Install it with pip install "pt2trt[tensorrt]" on a machine with an NVIDIA GPU and driver; without it, '
    "`pt2trt build --dry-run`, `pt2trt check --target trt-10` and ONNX Runtime (`pt2trt verify`) still work"
)


@dataclass(frozen=True)
class Target:
    """How one TensorRT family builds engines."""

    name: str
    strongly_typed_only: bool  # precision comes from the ONNX types; no FP16/INT8 builder flags, no calibrators
    int8_calibration: bool  # INT8 builder flag + calibrator available (implicit quantization)
    summary: str

    @property
    def cli_name(self) -> str:
        return f"trt-{self.name}"


TARGETS: dict[str, Target] = {
    "8.6": Target("8.6", False, True, "builder flags set precision: --fp16, --int8 with calibration data"),
    "10": Target(
        "10", False, True, "builder flags set precision: --fp16, --int8 with calibration data (deprecated in 10.x)"
    ),
    "11": Target(
        "11",
        True,
        False,
        "strongly typed networks only: precision is written into the ONNX (FP16 casts, Q/DQ nodes for INT8)",
    ),
}

#: Dist names that ship the ``tensorrt`` module (metapackage, CUDA-specific wheels, bindings-only wheels).
_DISTRIBUTIONS = ("tensorrt", "tensorrt-cu13", "tensorrt-cu12", "tensorrt-cu11", "tensorrt-cu13-bindings",
                  "tensorrt-cu12-bindings", "tensorrt-cu11-bindings", "tensorrt-bindings")  # fmt: skip
_VERSION_RE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.M)


def parse_target(text: str) -> Target:
    """``8.6``, ``10``, ``11`` (also ``trt-10``, ``10.15.1``) -> the target; a usage error otherwise."""
    key = text.strip().lower().removeprefix("trt-").removeprefix("trt")
    if key in TARGETS:
        return TARGETS[key]
    try:
        return target_of(key)
    except Pt2trtError:
        raise UsageError(f"unknown TensorRT target '{text}'", f"Use one of: {', '.join(TARGETS)}") from None


def target_of(version: str) -> Target:
    """The target family of a full TensorRT version (``10.15.1.29`` -> ``10``)."""
    numbers = [int(p) for p in re.findall(r"\d+", version)]
    major = numbers[0] if numbers else -1
    minor = numbers[1] if len(numbers) > 1 else 0
    if major == 8 and minor == 6:
        return TARGETS["8.6"]
    if major in (10, 11):
        return TARGETS[str(major)]
    raise Pt2trtError(
        f"TensorRT {version} is not supported by pt2trt",
        f"pt2trt builds for TensorRT {', '.join(TARGETS)}; install one of them",
    )


def installed_version() -> str | None:
    """The installed TensorRT version, read from its files without importing it (importing needs the GPU libs)."""
    for module in ("tensorrt", "tensorrt_bindings"):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            continue
        try:
            match = _VERSION_RE.search(Path(spec.origin).read_text(errors="replace"))
        except OSError:
            match = None
        if match:
            return match.group(1)
    for dist in _DISTRIBUTIONS:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:4])


def at_least(version: str, minimum: str) -> bool:
    return version_key(version) >= version_key(minimum)


def import_tensorrt() -> ModuleType:
    """``import tensorrt``, or a one-line user error saying how to get it and what works without it."""
    try:
        import tensorrt
    except ImportError as exc:
        found = installed_version()
        what = f"TensorRT {found} is installed but cannot be imported ({exc})" if found else "TensorRT is not installed"
        raise Pt2trtError(what, INSTALL_HINT) from exc
    target_of(tensorrt.__version__)
    return tensorrt


@dataclass(frozen=True)
class Gpu:
    """One CUDA device as the driver reports it."""

    index: int
    name: str
    compute_capability: str  # "8.6"

    def to_dict(self) -> dict[str, str | int]:
        return {"index": self.index, "name": self.name, "compute_capability": self.compute_capability}


def cuda_gpus() -> list[Gpu]:
    """The CUDA devices, asked of the NVIDIA driver (``libcuda``) through ctypes; empty without a driver or GPU."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        return []
    count = ctypes.c_int(0)
    if lib.cuInit(0) != 0 or lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return []
    gpus = []
    for i in range(count.value):
        device, major, minor = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
        buf = ctypes.create_string_buffer(256)
        if lib.cuDeviceGet(ctypes.byref(device), i) != 0:
            continue
        lib.cuDeviceGetName(buf, 256, device)
        lib.cuDeviceGetAttribute(ctypes.byref(major), 75, device)  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
        lib.cuDeviceGetAttribute(ctypes.byref(minor), 76, device)  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
        gpus.append(Gpu(i, buf.value.decode(errors="replace"), f"{major.value}.{minor.value}"))
    return gpus


def require_gpu(index: int = 0) -> Gpu:
    """The CUDA device ``index``, or a one-line user error when there is none."""
    gpus = cuda_gpus()
    if not gpus:
        raise Pt2trtError(
            "no CUDA GPU found (the NVIDIA driver reports none, or is not installed)",
            "TensorRT builds and runs engines on an NVIDIA GPU only; on this machine use ONNX Runtime "
            "(`pt2trt verify`) and `pt2trt build --dry-run` to check the build plan",
        )
    if not 0 <= index < len(gpus):
        raise UsageError(f"CUDA device {index} does not exist", f"Devices: {', '.join(g.name for g in gpus)}")
    return gpus[index]
