"""Engine metadata kept beside the engine (``MODEL.engine.json``) and the guard that reads it before loading.

TensorRT engines have no metadata field, and bytes prepended to an engine break trtexec and C++ loaders, so pt2trt
writes what it knows about an engine into a JSON file beside it: TensorRT version, GPU, the source ONNX (sha256),
profiles, precision, build flags, I/O and the ``pt2trt.*`` metadata of the ONNX. An engine only loads on the
TensorRT version and GPU it was built for; :func:`check_engine` refuses a mismatch *before* deserialization, with
the command that rebuilds the engine.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pt2trt.backends.tensorrt.versions import Gpu, at_least, version_key
from pt2trt.errors import Pt2trtError

FORMAT = "pt2trt-engine-metadata/1"


class EngineMetadataWarning(UserWarning):
    """An engine is loaded without metadata to check it against (it may fail inside TensorRT instead)."""


@dataclass
class EngineMetadata:
    """Everything pt2trt records about a built engine."""

    tensorrt_version: str
    gpu_name: str
    compute_capability: str
    onnx_path: str
    onnx_sha256: str
    engine_sha256: str
    precision: str
    strongly_typed: bool
    profiles: list[dict[str, Any]]
    flags: dict[str, Any]
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    onnx_metadata: dict[str, str] = field(default_factory=dict)
    pt2trt_version: str = ""
    built_at: str = ""
    build_seconds: float = 0.0
    rebuild_command: str = ""
    format: str = FORMAT
    inspection: dict[str, Any] = field(default_factory=dict)  # IEngineInspector JSON + summary (tensorrt.inspect)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineMetadata:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def hardware_compatibility_level(self) -> str:
        return str(self.flags.get("hardware_compatibility_level", "none"))

    @property
    def version_compatible(self) -> bool:
        return bool(self.flags.get("version_compatible", False))


# The JSON type of each field: a sidecar is refused field by field before anything reads it.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        ("tensorrt_version", "gpu_name", "compute_capability", "onnx_path", "onnx_sha256", "engine_sha256",
         "precision", "pt2trt_version", "built_at", "rebuild_command", "format"), (str,),
    ),
    "strongly_typed": (bool,),
    "profiles": (list,),
    "inputs": (list,),
    "outputs": (list,),
    "flags": (dict,),
    "onnx_metadata": (dict,),
    "build_seconds": (int, float),
}  # fmt: skip
_JSON_NAMES = {str: "a string", bool: "true or false", list: "a list", dict: "an object", int: "a number"}


def metadata_problems(data: dict[str, Any]) -> list[str]:
    """What is wrong with a sidecar's structure: missing fields, wrong types (empty when it is sound)."""
    problems = []
    required = [f.name for f in fields(EngineMetadata) if f.default is MISSING and f.default_factory is MISSING]
    missing = [name for name in required if name not in data]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    for name, types in _FIELD_TYPES.items():
        if name not in data:
            continue
        value: Any = data[name]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            problems.append(f'"{name}" is {type(value).__name__} {json.dumps(value)[:40]}, not {_JSON_NAMES[types[0]]}')
        elif isinstance(value, list) and types == (list,) and not all(isinstance(item, dict) for item in value):
            problems.append(f'"{name}" must be a list of objects')
    if isinstance(data.get("onnx_metadata"), dict) and not all(
        isinstance(v, str) for v in data["onnx_metadata"].values()
    ):
        problems.append('"onnx_metadata" values must be strings')
    return problems


def sidecar_path(engine: str | Path) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    p = Path(engine)
    return p.with_name(p.name + ".json")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_metadata(path: str | Path, metadata: EngineMetadata) -> None:
    Path(path).write_text(json.dumps(metadata.to_dict(), indent=2) + "\n")


def read_metadata(engine: str | Path) -> EngineMetadata | None:
    """The metadata beside ``engine``, None when there is none; a broken file is a user error."""
    path = sidecar_path(engine)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Pt2trtError(
            f"engine metadata {path} is not readable JSON ({exc})",
            f"Delete it to load {Path(engine).name} unchecked, or rebuild the engine with pt2trt build",
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Pt2trtError(
            f"{path} is not pt2trt engine metadata (expected format {FORMAT})",
            "Move it away, or rebuild the engine with pt2trt build",
        )
    problems = metadata_problems(data)
    if problems:
        raise Pt2trtError(
            f"engine metadata {path} is malformed: {'; '.join(problems)}",
            f"Rebuild the engine with pt2trt build (which rewrites it), or move {path.name} away to load "
            f"{Path(engine).name} unchecked",
        )
    return EngineMetadata.from_dict(data)


def compatibility_problems(metadata: EngineMetadata, tensorrt_version: str, gpu: Gpu | None) -> list[str]:
    """Why an engine built as ``metadata`` says cannot load with this TensorRT and GPU (empty when it can)."""
    problems = []
    built = metadata.tensorrt_version
    if metadata.version_compatible:
        if not at_least(tensorrt_version, built):
            problems.append(f"it is version compatible from TensorRT {built} on, this is {tensorrt_version}")
    else:
        a, b = version_key(built), version_key(tensorrt_version)
        common = min(len(a), len(b))
        if a[:common] != b[:common]:
            problems.append(f"it was built with TensorRT {built}, this is {tensorrt_version}")
    if gpu is not None:
        level = metadata.hardware_compatibility_level
        here = f"{gpu.name} (compute capability {gpu.compute_capability})"
        there = f"{metadata.gpu_name} (compute capability {metadata.compute_capability})"
        if level == "ampere+":
            if version_key(gpu.compute_capability) < (8,):
                problems.append(f"it runs on Ampere or newer GPUs (compute capability 8.0+), this is {here}")
        elif level == "same-compute-capability":
            if gpu.compute_capability != metadata.compute_capability:
                problems.append(f"it was built for compute capability {metadata.compute_capability}, this is {here}")
        elif gpu.compute_capability != metadata.compute_capability or gpu.name != metadata.gpu_name:
            problems.append(f"it was built on {there}, this is {here}")
    return problems


def check_engine(engine: str | Path, tensorrt_version: str, gpu: Gpu | None) -> EngineMetadata | None:
    """Refuse an engine built for another TensorRT or GPU, or one its metadata does not describe (sha256), before
    TensorRT deserializes it; a malformed sidecar is refused too.

    Returns the metadata, or None (with an :class:`EngineMetadataWarning`) for an engine without metadata. The runner's
    ``check_metadata=False`` (``--ignore-metadata``) skips this check entirely.
    """
    path = Path(engine)
    metadata = read_metadata(path)
    if metadata is None:
        warnings.warn(
            f"{path} has no pt2trt metadata ({sidecar_path(path).name}): its TensorRT version and GPU cannot be "
            "checked before loading",
            EngineMetadataWarning,
            stacklevel=3,
        )
        return None
    if metadata.engine_sha256 and sha256_file(path) != metadata.engine_sha256:
        command = metadata.rebuild_command or f"pt2trt build MODEL.onnx -o {path} --force"
        raise Pt2trtError(
            f"{sidecar_path(path).name} describes another engine than {path} (its engine_sha256 differs): the engine "
            "was replaced after the build, or the metadata belongs to another one",
            f"Rebuild it ({command}), or load it unchecked with --ignore-metadata (API: check_metadata=False)",
        )
    problems = compatibility_problems(metadata, tensorrt_version, gpu)
    if problems:
        command = metadata.rebuild_command or f"pt2trt build MODEL.onnx -o {path} --force"
        raise Pt2trtError(
            f"engine {path} cannot load here: {'; '.join(problems)}",
            f"Engines only load on the TensorRT version and GPU they were built for; rebuild it here: {command}",
        )
    return metadata
