"""Load ONNX files with clear errors for missing, non-ONNX and truncated files; save them atomically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError
from pt2trt.files import existing_file, publish, staging_dir

if TYPE_CHECKING:
    import onnx

# Protobuf cannot serialise a model over 2 GiB; keep a margin for the graph itself.
EXTERNAL_DATA_THRESHOLD = 1_800_000_000


def load_onnx(path: str | Path, *, load_external_data: bool = True) -> onnx.ModelProto:
    """Parse an ONNX file; a file that is not a (complete) ONNX model is a user error, not a traceback."""
    return load_onnx_bytes(path, load_external_data=load_external_data)[1]


def load_onnx_bytes(path: str | Path, *, load_external_data: bool = True) -> tuple[bytes, onnx.ModelProto, bool]:
    """Read an ONNX file once: its bytes, the parsed model (external data loaded unless told not to) and whether its
    weights live in external data files (then a runtime must load it by path, not from the bytes)."""
    import onnx
    from google.protobuf.message import DecodeError
    from onnx.external_data_helper import load_external_data_for_model, uses_external_data

    p = existing_file(path, "ONNX file")
    try:
        raw = p.read_bytes()
        model = onnx.ModelProto()
        model.ParseFromString(raw)
        external = any(uses_external_data(t) for t in model.graph.initializer)
        if external and load_external_data:
            load_external_data_for_model(model, str(p.parent))
    except DecodeError as exc:
        raise Pt2trtError(
            f"{p} is not a valid ONNX file (protobuf parse failed: {exc})",
            "The file may be truncated or of another format; export it again",
        ) from exc
    except PermissionError as exc:
        raise Pt2trtError(
            f"cannot read {exc.filename or p}: permission denied",
            "The file is not readable: check its permissions (ls -l; chmod u+r)",
        ) from exc
    except (FileNotFoundError, OSError) as exc:  # missing external data file
        raise Pt2trtError(
            f"cannot load {p}: {exc}", "Keep the .onnx file beside its external data file (.onnx.data)"
        ) from exc
    except Exception as exc:  # onnx raises assorted errors on garbage input
        raise Pt2trtError(
            f"{p} is not a valid ONNX file: {type(exc).__name__}: {exc}",
            "The file may be truncated or of another format; export it again",
        ) from exc
    if model.ir_version == 0 or not model.HasField("graph"):
        raise Pt2trtError(
            f"{p} is not an ONNX model (no IR version or graph)",
            "The file may be truncated or of another format; export it again",
        )
    return raw, model, external


def load_external_weights(model: onnx.ModelProto, path: Path) -> None:
    """Read the external data files of ``model`` (loaded from ``path``) into it."""
    from onnx.external_data_helper import load_external_data_for_model

    try:
        load_external_data_for_model(model, str(path.parent))
    except OSError as exc:
        raise Pt2trtError(
            f"cannot load the weights of {path}: {exc}",
            "Keep the .onnx file beside its external data file (.onnx.data)",
        ) from exc


def save_onnx(model: onnx.ModelProto, path: Path, *, external_data: bool = False, replace: bool = False) -> int:
    """Write ``model`` atomically (and its ``.data`` file when ``external_data``); return bytes written. An existing
    file is only replaced with ``replace`` (``--force``), even one that another process wrote meanwhile."""
    import onnx

    data_name = path.name + ".data"
    if external_data:
        check_data_file(path, force=replace)
    with staging_dir(path) as tmp:
        staged = tmp / path.name
        if external_data:
            onnx.save_model(model, str(staged), save_as_external_data=True, location=data_name, size_threshold=1024)
        else:
            onnx.save_model(model, str(staged))
        size = sum(f.stat().st_size for f in tmp.iterdir())
        if external_data and (tmp / data_name).exists():
            publish(tmp / data_name, path.parent / data_name, replace=replace)
        publish(staged, path, replace=replace)
    return size


def check_data_file(path: Path, *, force: bool) -> None:
    """Refuse to replace an existing ``PATH.data`` (the external data file of ``path``) unless ``force``."""
    data = path.parent / (path.name + ".data")
    if data.exists() and not force:
        raise Pt2trtError(
            f"{data} already exists: it would be replaced by the external data of {path.name}",
            "Pass --force to overwrite it, or choose another output name",
        )
