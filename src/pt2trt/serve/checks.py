"""Cross-checks of a ``config.pbtxt`` against the model it serves, and of a whole repository on disk.

Everything Triton would only find at load time (or at the first request) is found here: names that are not in the
model, dtypes and dims that differ, a dtype the backend cannot take, a batch larger than an engine's profile, and an
engine built with another TensorRT than the Triton release ships.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError
from pt2trt.serve.config import SERVABLE, dtype_name, parse_config, triton_type
from pt2trt.serve.model_io import KINDS, ModelIO, Tensor, read_model_io


def config_problems(config: Any, io: ModelIO) -> list[str]:
    """Why ``config`` cannot serve the model ``io`` describes (empty when it can)."""
    problems: list[str] = []
    kind = "python" if config.backend == "python" else io.kind
    field, value, _ = KINDS[kind]
    if getattr(config, field) != value:
        problems.append(f"{field} is '{getattr(config, field)}' but {io.path.name} needs {field} '{value}'")
    batch = config.max_batch_size
    if batch > 0 and not io.dynamic_batch:
        problems.append(f"max_batch_size is {batch} but {io.path.name} has no dynamic batch axis (use 0)")
    if io.profile_max_batch is not None and batch > io.profile_max_batch:
        problems.append(
            f"max_batch_size {batch} is larger than the engine's optimization profile allows ({io.profile_max_batch})"
        )
    if config.HasField("dynamic_batching"):
        too_big = [b for b in config.dynamic_batching.preferred_batch_size if b > batch]
        if too_big:
            problems.append(f"preferred batch sizes {too_big} exceed max_batch_size {batch}")
    for section, tensors, required in (("input", io.inputs, True), ("output", io.outputs, False)):
        entries = list(getattr(config, section))
        names = [t.name for t in tensors]
        for entry in entries:
            tensor = next((t for t in tensors if t.name == entry.name), None)
            if tensor is None:
                problems.append(
                    f"{section} '{entry.name}' is not in {io.path.name} (its {section}s: {', '.join(names)})"
                )
                continue
            problems.extend(_tensor_problems(section, entry, tensor, batch, kind))
        if required:
            missing = [n for n in names if n not in {e.name for e in entries}]
            if missing:
                problems.append(f"{section}(s) {', '.join(missing)} of {io.path.name} are missing from the config")
    return problems


def _tensor_problems(section: str, entry: Any, tensor: Tensor, batch: int, kind: str) -> list[str]:
    problems = []
    type_name = dtype_name(entry.data_type)
    try:
        expected = triton_type(tensor.dtype)
    except Pt2trtError:
        expected = f"no Triton type ({tensor.dtype})"
    if type_name != expected:
        problems.append(f"{section} '{entry.name}' is {type_name} in the config but {expected} in the model")
    if expected in SERVABLE[kind] or expected.startswith("no "):
        pass
    else:
        backend = KINDS[kind][1]
        problems.append(f"{section} '{entry.name}' is {expected}, which Triton's {backend} backend cannot serve")
    dims = tensor.dims[1:] if batch > 0 else tensor.dims
    config_dims = list(entry.dims)
    if len(config_dims) != len(dims) or any(c != -1 and (d is None or c != d) for c, d in zip(config_dims, dims)):
        shown = [-1 if d is None else d for d in dims]
        note = " (the batch axis is left out when max_batch_size > 0)" if batch > 0 else ""
        problems.append(f"{section} '{entry.name}' has dims {config_dims} in the config, {shown} in the model{note}")
    return problems


def tensorrt_problems(io: ModelIO, release: str | None, server_tensorrt: str | None) -> list[str]:
    """An engine built with another TensorRT than the server's (named by release or version) cannot load there."""
    if io.kind != "tensorrt" or io.tensorrt_version is None:
        return []
    from pt2trt.backends.tensorrt.versions import version_key
    from pt2trt.serve.versions import DEFAULT_RELEASE, tensorrt_of

    where = f"TensorRT {server_tensorrt}" if server_tensorrt else None
    if server_tensorrt is None:
        release = release or DEFAULT_RELEASE
        server_tensorrt = tensorrt_of(release)
        where = f"Triton {release} ships TensorRT {server_tensorrt}"
    built, there = version_key(io.tensorrt_version), version_key(server_tensorrt)
    common = min(len(built), len(there), 3)
    if built[:common] != there[:common]:
        return [f"engine {io.path.name} was built with TensorRT {io.tensorrt_version} but {where}"]
    return []


def refuse(problems: list[str], where: str) -> None:
    """One line naming the first problem (and how many more there are)."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise Pt2trtError(
            f"{where}: {problems[0]}{more}", "Fix the config (or regenerate it with pt2trt triton MODEL --force)"
        )


def model_file(model_dir: Path, config: Any) -> Path | None:
    """The model file in the highest version folder of ``model_dir``, for the kinds pt2trt can read."""
    versions = sorted((p for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    if not versions:
        return None
    if config.backend == "python":
        onnx = versions[-1] / "model.onnx"  # --core python keeps the ONNX file beside model.py
        return onnx if onnx.is_file() else None
    for _, value, filename in KINDS.values():
        if value in (config.platform, config.backend):
            name = config.default_model_filename or filename
            path = versions[-1] / name
            return path if path.is_file() else None
    return None


def check_repository(repo: str | Path, *, release: str | None = None, server_tensorrt: str | None = None) -> int:
    """Check every model of a repository: schema, model cross-checks, ensemble steps. Returns the model count."""
    root = Path(repo)
    if not root.is_dir():
        raise Pt2trtError(f"Triton model repository {root} is not a directory", "Pass the folder `pt2trt triton` wrote")
    configs = sorted(root.glob("*/config.pbtxt"))
    if not configs:
        raise Pt2trtError(f"{root} holds no model (no */config.pbtxt)", "Write one with: pt2trt triton MODEL -o REPO")
    names = {p.parent.name for p in configs}
    for path in configs:
        where = f"{path.parent.name}/config.pbtxt"
        config = parse_config(path.read_text(), where)
        if config.name and config.name != path.parent.name:
            refuse([f"name '{config.name}' differs from its folder name '{path.parent.name}'"], where)
        if config.platform == "ensemble":
            unknown = [s.model_name for s in config.ensemble_scheduling.step if s.model_name not in names]
            refuse([f"step model '{n}' is not in the repository" for n in unknown], where)
            continue
        found = model_file(path.parent, config)
        if found is None:
            if config.backend == "python":
                continue  # pre/post-processing models: schema only
            refuse(["no model file in its version folder"], where)
            continue
        io = read_model_io(found)
        refuse(config_problems(config, io) + tensorrt_problems(io, release, server_tensorrt), where)
    return len(configs)
