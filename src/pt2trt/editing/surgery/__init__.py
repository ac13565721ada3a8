"""Graph surgery on ONNX models, one small function per edit, built on onnx-graphsurgeon.

Every edit takes a ModelProto and its parameters and returns the edited ModelProto plus a :class:`Verification` that
says how to prove the edit did what it claims (same outputs, renamed outputs, outputs of a transformed input, ...),
or ``None`` for edits that change the model's meaning on purpose. :data:`pt2trt.editing.registry.EDITS` registers
them all: the table drives the CLI flags of ``pt2trt edit``, the keys of a recipe and the order flags are applied in.

The edits live in one module per family: :mod:`.io` (renames, dynamic axes, batch size), :mod:`.uint8` (uint8 NHWC
image input), :mod:`.nodes` (remove, insert), :mod:`.subgraph` (replace, extract, expose) and :mod:`.model` (opset,
metadata). :mod:`.common` holds what they share: :class:`Verification` and the model-level wrapper
(:func:`on_graph`) that imports the graph with ``gs.import_onnx`` after shape inference, runs the edit, then
``cleanup().toposort()`` and exports, keeping what graphsurgeon does not carry (metadata, doc string).
"""

from pt2trt.editing.surgery.common import EditFn, Verification, on_graph
from pt2trt.editing.surgery.io import dynamic_axes, dynamic_batch, fix_batch, parse_pairs, rename_inputs, rename_outputs
from pt2trt.editing.surgery.model import convert_opset, set_metadata
from pt2trt.editing.surgery.nodes import InsertSpec, NodeSpec, insert_node, parse_insert, remove_nodes
from pt2trt.editing.surgery.subgraph import ReplaceSpec, expose, extract, parse_extract, parse_replace, replace_subgraph
from pt2trt.editing.surgery.uint8 import IMAGENET_MEAN, IMAGENET_STD, Uint8Input, parse_uint8, uint8_nhwc

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "EditFn",
    "InsertSpec",
    "NodeSpec",
    "ReplaceSpec",
    "Uint8Input",
    "Verification",
    "convert_opset",
    "dynamic_axes",
    "dynamic_batch",
    "expose",
    "extract",
    "fix_batch",
    "insert_node",
    "on_graph",
    "parse_extract",
    "parse_insert",
    "parse_pairs",
    "parse_replace",
    "parse_uint8",
    "remove_nodes",
    "rename_inputs",
    "rename_outputs",
    "replace_subgraph",
    "set_metadata",
    "uint8_nhwc",
]
