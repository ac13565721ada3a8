"""Writing a converted model: inline, or with external data past protobuf's limit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

#: a model larger than this keeps its weights in a ``.data`` file beside it
EXTERNAL_DATA_BYTES = 1_800_000_000


def save_model(model: onnx.ModelProto, path: Path) -> None:
    """Write ``model`` to ``path`` (its weights to ``path.data`` when the model is too large for one protobuf)."""
    import onnx

    if model.ByteSize() > EXTERNAL_DATA_BYTES:
        onnx.save_model(model, str(path), save_as_external_data=True, location=path.name + ".data")
    else:
        onnx.save_model(model, str(path))
