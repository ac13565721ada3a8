"""The table of ``pt2trt edit``'s edits: recipe key, CLI flag, parser and function, in the order flags apply.

Kept free of heavy imports (numpy, onnx): ``pt2trt edit --help`` builds its options from this table. The functions
live in :mod:`pt2trt.editing.surgery` (one module per family) and :mod:`pt2trt.editing.postprocess` and are imported
when an edit runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError
from pt2trt.shapes import parse_dynamic

if TYPE_CHECKING:
    import onnx

    from pt2trt.editing.surgery.common import Verification


@dataclass(frozen=True)
class EditDef:
    """One edit: recipe key, CLI flag, how to parse its value and the function that applies it.

    ``metavar=None`` makes a boolean flag. A ``multiple`` flag given several times is one edit with all the values
    when ``combine`` (renames, removals), else one edit per value in the order given (appends, inserts).
    """

    key: str
    apply_ref: str  # "module:function", imported on first use (numpy and onnx stay out of `--help`)
    parse_ref: str | Callable[[Any], Any]
    help: str
    metavar: str | None = None
    multiple: bool = False
    combine: bool = False
    value_type: type = str
    optional_value: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def apply(self) -> Callable[[onnx.ModelProto, Any], tuple[onnx.ModelProto, Verification | None, str]]:
        return _resolve(self.apply_ref)

    def parse(self, value: Any) -> Any:
        return (self.parse_ref if callable(self.parse_ref) else _resolve(self.parse_ref))(value)


def _resolve(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise UsageError(f"expected true or false, got '{value}'", "Write true or false")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"expected a whole number, got '{value}'", "Write a whole number, e.g. 1") from None


def _batch(value: Any) -> int:
    batch = _int(value)
    if batch < 1:
        raise UsageError(f"batch size must be at least 1, got {batch}", "Pass a batch size of 1 or more")
    return batch


def _names(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [n.strip() for item in items for n in str(item).split(",") if n.strip()]


def _dynamic(value: Any) -> list[tuple[str, int, str | None]]:
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        name, axes = parse_dynamic(str(item))
        out += [(name, axis, label) for axis, label in axes]
    return out


def _metadata(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    items = [value] if isinstance(value, str) else list(value)
    out = {}
    for item in items:
        key, sep, val = str(item).partition("=")
        if not sep or not key:
            raise UsageError(f"malformed --set-metadata '{item}'", "Expected KEY=VALUE (KEY= removes the key)")
        out[key] = val
    return out


# where the edit functions live (imported when an edit runs)
_IO = "pt2trt.editing.surgery.io:"
_U8 = "pt2trt.editing.surgery.uint8:"
_NODES = "pt2trt.editing.surgery.nodes:"
_SUB = "pt2trt.editing.surgery.subgraph:"
_MODEL = "pt2trt.editing.surgery.model:"
_P = "pt2trt.editing.postprocess:"
#: Every edit, in the order the CLI applies its flags (a recipe applies its entries in its own order).
EDITS: dict[str, EditDef] = {
    e.key: e
    for e in [
        EditDef(
            "rename_input", _IO + "rename_inputs", _IO + "parse_pairs", "Rename an input.", "OLD=NEW",
            multiple=True, combine=True,
        ),
        EditDef(
            "rename_output", _IO + "rename_outputs", _IO + "parse_pairs", "Rename an output.", "OLD=NEW",
            multiple=True, combine=True,
        ),
        EditDef("dynamic_batch", _IO + "dynamic_batch", _flag, "Make dim 0 of every input and output dynamic."),
        EditDef(
            "dynamic", _IO + "dynamic_axes", _dynamic, "Make axes of an input dynamic, e.g. input:2,3.",
            "NAME:AXIS[=LABEL],...", multiple=True, combine=True,
        ),
        EditDef(
            "batch", _IO + "fix_batch", _batch, "Fix the batch size (dim 0 of every input) to N.", "N", value_type=int,
        ),
        EditDef(
            "uint8_nhwc", _U8 + "uint8_nhwc", _U8 + "parse_uint8",
            "Make an image input uint8 NHWC with (x/scale - mean)/std in the graph [default: first input, ImageNet "
            "mean/std, scale 255].", "[INPUT[:mean=R,G,B][:std=R,G,B][:scale=255]]", optional_value=True,
        ),
        EditDef(
            "remove_node", _NODES + "remove_nodes", _names, "Remove a node; its readers read its input.", "NODE",
            multiple=True, combine=True,
        ),
        EditDef(
            "insert_node", _NODES + "insert_node", _NODES + "parse_insert",
            "Insert a node after a tensor, as inline YAML: '{op: Clip, after: TENSOR, attrs: {...}, inputs: [...]}'.",
            "YAML", multiple=True,
        ),
        EditDef(
            "replace_subgraph", _SUB + "replace_subgraph", _SUB + "parse_replace",
            "Replace the nodes between tensors by one node: '{from: [A], to: [B], op: HardSwish}'.", "YAML",
            multiple=True,
        ),
        EditDef(
            "extract", _SUB + "extract", _SUB + "parse_extract", "Keep only the subgraph between tensors.",
            "IN[,IN...]:OUT[,OUT...]",
        ),
        EditDef(
            "expose", _SUB + "expose", _names, "Add intermediate tensors to the outputs.", "TENSOR", multiple=True,
            combine=True,
        ),
        EditDef(
            "append", _P + "append", _P + "parse_append",
            "Append post-processing to an output: softmax | argmax | topk:K | nms | efficient_nms "
            "(options :key=value,..., e.g. nms:iou=0.45,score=0.25,max=100; efficient_nms:target=10.15 checks the "
            "TensorRT that will parse the plugin, deprecated since 10.12).", "KIND[:OPTIONS]", multiple=True,
        ),
        EditDef("opset", _MODEL + "convert_opset", _int, "Convert to another ai.onnx opset.", "N", value_type=int),
        EditDef(
            "set_metadata", _MODEL + "set_metadata", _metadata, "Set a metadata entry (KEY= removes it).", "KEY=VALUE",
            multiple=True, combine=True,
        ),
    ]
}  # fmt: skip


def parse_edit(key: str, value: Any) -> tuple[str, Any]:
    """Validate an edit key and parse its value (a CLI string or a recipe value) into the edit's parameters."""
    if key not in EDITS:
        import difflib

        close = difflib.get_close_matches(key, list(EDITS), n=1)
        hint = f"Did you mean '{close[0]}'?" if close else f"Edits are: {', '.join(EDITS)}"
        raise UsageError(f"unknown edit '{key}'", hint)
    try:
        return key, EDITS[key].parse(value)
    except UsageError as exc:
        raise UsageError(f"{key}: {exc.message}", exc.hint) from None
