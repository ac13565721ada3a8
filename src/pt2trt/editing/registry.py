"""The table of ``pt2trt edit``'s edits: recipe key, CLI flag, parser and function, in the order flags apply.

Kept free of heavy imports (numpy, onnx): ``pt2trt edit --help`` builds its options from this table. The functions
live in :mod:`pt2trt.editing.surgery` (one module per family) and :mod:`pt2trt.editing.postprocess` and are imported
when an edit runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError
from pt2trt.registry import Entry, Registry
from pt2trt.shapes import parse_dynamic

if TYPE_CHECKING:
    import onnx

    from pt2trt.editing.surgery.common import Verification


@dataclass(frozen=True)
class EditDef:
    """One edit: recipe key, CLI flag and how to parse its value (its registry entry holds the function).

    ``metavar=None`` makes a boolean flag. A ``multiple`` flag given several times is one edit with all the values
    when ``combine`` (renames, removals), else one edit per value in the order given (appends, inserts).
    """

    key: str
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

    def parse(self, value: Any) -> Any:
        parse = self.parse_ref if callable(self.parse_ref) else Entry(self.key, self.parse_ref).load()
        return parse(value)


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
EditFn = Callable[["onnx.ModelProto", Any], "tuple[onnx.ModelProto, Verification | None, str]"]

#: Every edit, in the order the CLI applies its flags (a recipe applies its entries in its own order): the function
#: (``"module:function"``, imported when the edit runs) with its :class:`EditDef` as the entry's ``info``.
EDITS: Registry[EditFn] = Registry("edit")


def _edit(apply_ref: str, edit: EditDef) -> None:
    EDITS.register(edit.key, apply_ref, edit)


_edit(
    _IO + "rename_inputs",
    EditDef(
        "rename_input",
        _IO + "parse_pairs",
        "Rename an input.",
        "OLD=NEW",
        multiple=True,
        combine=True,
    ),
)
_edit(
    _IO + "rename_outputs",
    EditDef(
        "rename_output",
        _IO + "parse_pairs",
        "Rename an output.",
        "OLD=NEW",
        multiple=True,
        combine=True,
    ),
)
_edit(_IO + "dynamic_batch", EditDef("dynamic_batch", _flag, "Make dim 0 of every input and output dynamic."))
_edit(
    _IO + "dynamic_axes",
    EditDef(
        "dynamic",
        _dynamic,
        "Make axes of an input dynamic, e.g. input:2,3.",
        "NAME:AXIS[=LABEL],...",
        multiple=True,
        combine=True,
    ),
)
_edit(
    _IO + "fix_batch",
    EditDef(
        "batch",
        _batch,
        "Fix the batch size (dim 0 of every input) to N.",
        "N",
        value_type=int,
    ),
)
_edit(
    _U8 + "uint8_nhwc",
    EditDef(
        "uint8_nhwc",
        _U8 + "parse_uint8",
        "Make an image input uint8 NHWC with (x/scale - mean)/std in the graph [default: first input, ImageNet "
        "mean/std, scale 255].",
        "[INPUT[:mean=R,G,B][:std=R,G,B][:scale=255]]",
        optional_value=True,
    ),
)
_edit(
    _NODES + "remove_nodes",
    EditDef(
        "remove_node",
        _names,
        "Remove a node; its readers read its input.",
        "NODE",
        multiple=True,
        combine=True,
    ),
)
_edit(
    _NODES + "insert_node",
    EditDef(
        "insert_node",
        _NODES + "parse_insert",
        "Insert a node after a tensor, as inline YAML: '{op: Clip, after: TENSOR, attrs: {...}, inputs: [...]}'.",
        "YAML",
        multiple=True,
    ),
)
_edit(
    _SUB + "replace_subgraph",
    EditDef(
        "replace_subgraph",
        _SUB + "parse_replace",
        "Replace the nodes between tensors by one node: '{from: [A], to: [B], op: HardSwish}'.",
        "YAML",
        multiple=True,
    ),
)
_edit(
    _SUB + "extract",
    EditDef(
        "extract",
        _SUB + "parse_extract",
        "Keep only the subgraph between tensors.",
        "IN[,IN...]:OUT[,OUT...]",
    ),
)
_edit(
    _SUB + "expose",
    EditDef(
        "expose",
        _names,
        "Add intermediate tensors to the outputs.",
        "TENSOR",
        multiple=True,
        combine=True,
    ),
)
_edit(
    _P + "append",
    EditDef(
        "append",
        _P + "parse_append",
        "Append post-processing to an output: softmax | argmax | topk:K | nms | efficient_nms "
        "(options :key=value,..., e.g. nms:iou=0.45,score=0.25,max=100; efficient_nms:target=10.15 checks the "
        "TensorRT that will parse the plugin, deprecated since 10.12).",
        "KIND[:OPTIONS]",
        multiple=True,
    ),
)
_edit(_MODEL + "convert_opset", EditDef("opset", _int, "Convert to another ai.onnx opset.", "N", value_type=int))
_edit(_MODEL + "set_metadata", EditDef(
    "set_metadata", _metadata, "Set a metadata entry (KEY= removes it).", "KEY=VALUE", multiple=True, combine=True,
))  # fmt: skip


def parse_edit(key: str, value: Any) -> tuple[str, Any]:
    """Validate an edit key and parse its value (a CLI string or a recipe value) into the edit's parameters."""
    edit: EditDef = EDITS.entry(key).info
    try:
        return key, edit.parse(value)
    except UsageError as exc:
        raise UsageError(f"{key}: {exc.message}", exc.hint) from None
