"""Model-level edits: convert the opset, set metadata entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pt2trt.editing.surgery.common import Verification
from pt2trt.errors import Pt2trtError

if TYPE_CHECKING:
    import onnx


def convert_opset(model: onnx.ModelProto, opset: int) -> tuple[onnx.ModelProto, Verification, str]:
    """``onnx.version_converter`` to another ai.onnx opset."""
    from onnx import version_converter

    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if current == opset:
        raise Pt2trtError(f"the model already uses opset {opset}", "Pass another --opset, or leave this edit out")
    try:
        converted = version_converter.convert_version(model, int(opset))
    except Exception as exc:
        raise Pt2trtError(
            f"onnx.version_converter cannot convert opset {current} to {opset}: {_first_line(exc)}",
            "Try a nearer opset, or re-export with --opset",
        ) from exc
    converted.graph.ClearField("value_info")
    return converted, Verification(), f"converted opset {current} -> {opset}"


def set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> tuple[onnx.ModelProto, Verification, str]:
    """Set ``metadata_props`` entries; an empty value removes the key."""
    import onnx

    from pt2trt.onnx import metadata as meta

    out = onnx.ModelProto()
    out.CopyFrom(model)
    keep = [p for p in out.metadata_props if p.key not in values or values[p.key]]
    del out.metadata_props[:]
    out.metadata_props.extend(keep)
    meta.write_metadata(out, {k: v for k, v in values.items() if v})
    return (
        out,
        Verification(mode="unchanged"),
        "metadata " + ", ".join(f"{k}={v!r}" if v else f"-{k}" for k, v in values.items()),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
