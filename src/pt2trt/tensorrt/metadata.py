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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError
from pt2trt.tensorrt.versions import Gpu, at_least, version_key

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
    try:
        return EngineMetadata.from_dict(data)
    except TypeError as exc:
        raise Pt2trtError(f"engine metadata {path} is incomplete ({exc})", "Rebuild the engine") from exc


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
    """Refuse an engine built for another TensorRT or GPU, before TensorRT deserializes it.

    Returns the metadata, or None (with an :class:`EngineMetadataWarning`) for an engine without usable metadata.
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
        warnings.warn(
            f"{sidecar_path(path).name} describes another engine than {path.name} (sha256 differs); it is ignored",
            EngineMetadataWarning,
            stacklevel=3,
        )
        return None
    problems = compatibility_problems(metadata, tensorrt_version, gpu)
    if problems:
        command = metadata.rebuild_command or f"pt2trt build MODEL.onnx -o {path} --force"
        raise Pt2trtError(
            f"engine {path} cannot load here: {'; '.join(problems)}",
            f"Engines only load on the TensorRT version and GPU they were built for; rebuild it here: {command}",
        )
    return metadata
