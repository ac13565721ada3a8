"""Load ONNX files with clear errors for missing, non-ONNX and truncated files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError
from pt2trt.files import existing_file

if TYPE_CHECKING:
    import onnx


def load_onnx(path: str | Path, *, load_external_data: bool = True) -> onnx.ModelProto:
    """Parse an ONNX file; a file that is not a (complete) ONNX model is a user error, not a traceback."""
    import onnx
    from google.protobuf.message import DecodeError

    p = existing_file(path, "ONNX file")
    try:
        model = onnx.load(str(p), load_external_data=load_external_data)
    except DecodeError as exc:
        raise Pt2trtError(
            f"{p} is not a valid ONNX file (protobuf parse failed: {exc})",
            "The file may be truncated or of another format; export it again",
        ) from exc
    except (FileNotFoundError, OSError) as exc:  # missing external data file
        raise Pt2trtError(
            f"cannot load {p}: {exc}", "Keep the .onnx file beside its external data file (.onnx.data)"
        ) from exc
    except Exception as exc:  # onnx raises assorted errors on garbage input
        raise Pt2trtError(f"{p} is not a valid ONNX file: {type(exc).__name__}: {exc}") from exc
    if model.ir_version == 0 or not model.HasField("graph"):
        raise Pt2trtError(
            f"{p} is not an ONNX model (no IR version or graph)",
            "The file may be truncated or of another format; export it again",
        )
    return model
