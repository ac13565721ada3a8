"""The per-node rules of the lint: operator restrictions (constant inputs, attributes, ranks, Resize modes...),
types TensorRT changes (DOUBLE, INT64) and dynamic inputs that need an optimization profile.

The restrictions each op has are data (the ``checks`` of its entry in the operator table, see
:mod:`pt2trt.backends.tensorrt.lint.facts`); each check ``kind`` is a function here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pt2trt.backends.tensorrt.lint.facts import GENERIC_FIX, op_findings
from pt2trt.backends.tensorrt.lint.graph_facts import GraphFacts as GraphFacts
from pt2trt.backends.tensorrt.lint.report import Finding, node_label
from pt2trt.backends.tensorrt.versions import Target
from pt2trt.onnx.dims import readable_dim
from pt2trt.onnx.graph import has_shape, input_dims, real_inputs

if TYPE_CHECKING:
    import onnx

FOLD_HINT = "Fold constants first (polygraphy surgeon sanitize MODEL.onnx --fold-constants -o folded.onnx, or onnxsim)"


def _attr(node: onnx.NodeProto, name: str) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return None


def _input_index(node: onnx.NodeProto, name: str, opset: int) -> int | None:
    import onnx.defs

    try:
        # an opset newer than this onnx knows reads the newest schema (onnx takes no opset above a C int)
        schema = onnx.defs.get_schema(node.op_type, min(opset, onnx.defs.onnx_opset_version()), node.domain)
    except onnx.defs.SchemaError:
        return None
    names = [i.name for i in schema.inputs]
    return names.index(name) if name in names else None


def node_findings(
    node: onnx.NodeProto,
    ops: dict[str, Any],
    oldest: dict[str, Any] | None,
    target: Target,
    info: dict[str, Any],
    graph: GraphFacts,
) -> list[Finding]:
    """What the operator table says about the node's op, then the op's restrictions checked on the node."""
    entry, findings = op_findings(node, ops, oldest, target, info)
    if entry is None:
        return findings
    label, op = node_label(node), node.op_type
    restriction = entry.get("restrictions", "")
    for check in entry.get("checks", []):
        finding = _CHECKS[check["kind"]](node, check, graph)
        if finding is not None:
            severity, why, fix, *cause = finding
            source = check.get("source", "")
            findings.append(Finding(severity, "restriction", label, op, why, fix, restriction, source, *cause))
    return findings


Outcome = tuple[str, ...]  # (severity, why, fix) and optionally the cause: the why without node-specific names


def _check_constant_inputs(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> Outcome | None:
    for name in check["inputs"]:
        index = _input_index(node, name, graph.opset)
        if index is None or index >= len(node.input) or not node.input[index]:
            continue
        tensor = node.input[index]
        if tensor not in graph.constants:
            if check["strict"]:
                why = "input '{}'{} must be an initializer but is computed at run time"
                return "error", why.format(name, f" ({tensor})"), FOLD_HINT, why.format(name, "")
            why = "input '{}'{} must resolve to a constant at build time and is computed from the inputs"
            return "warning", why.format(name, f" ({tensor})"), FOLD_HINT, why.format(name, "")
    return None


def _check_spatial_rank(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    kernel = _attr(node, "kernel_shape")
    spatial = len(kernel) if kernel else (graph.rank(node.input[0]) or 0) - 2
    if spatial > 0 and spatial not in check["allowed"]:
        return (
            "error",
            f"{spatial}D pooling; TensorRT pools over 2 or 3 spatial dims only",
            "Reshape to 2D around the pooling (Unsqueeze before, Squeeze after) in the model",
        )
    return None


def _check_unit_dilations(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    dilations = _attr(node, "dilations")
    if dilations and any(d != 1 for d in dilations):
        return "error", f"dilations {list(dilations)} are not all ones", "Use an undilated pooling window"
    return None


def _check_first_output_only(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    extra = [o for o in node.output[1:] if o]
    if not extra:
        return None
    if any(o in graph.consumed for o in extra):
        return (
            "error",
            f"output(s) {', '.join(extra)} are used but only the first output is supported",
            "Do not use the extra outputs in the model (e.g. max_pool2d(..., return_indices=False))",
        )
    return (
        "warning",
        f"unused output(s) {', '.join(extra)} are declared but only the first output is supported",
        "Drop the unused outputs from the node (onnx-graphsurgeon: clear node.outputs[1:], graph.cleanup())",
    )


def _check_zero_input(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    index = _input_index(node, check["input"], graph.opset)
    if index is None or index >= len(node.input) or not node.input[index]:
        return None
    value = graph.value(node.input[index])
    if value is not None and value.any():
        return (
            "error",
            f"{check['input']} is not zero: TensorRT quantizes symmetrically",
            "Quantize symmetrically (zero points 0): e.g. onnxruntime quantize_static(..., "
            "extra_options={'ActivationSymmetric': True, 'WeightSymmetric': True})",
        )
    return None


def _check_attr_in(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    value = _attr(node, check["attr"])
    if value is not None and value not in check["values"]:
        allowed = ", ".join(map(str, check["values"]))
        return (
            "error",
            f"{check['attr']}={value!r} is not supported (supported: {allowed})",
            f"Set {check['attr']} to one of {allowed} in the model, or replace the node",
        )
    return None


def _check_constant_below(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    index = _input_index(node, check["input"], graph.opset)
    if index is None or index >= len(node.input) or not node.input[index]:
        return None
    value = graph.value(node.input[index])
    if value is not None and value.size and int(value.max()) >= check["limit"]:
        return "error", f"{check['input']}={int(value.max())} is not below {check['limit']}", GENERIC_FIX
    return None


def _check_attrs_absent(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    present = [a.name for a in node.attribute if a.name in check["attrs"]]
    if present:
        return "error", f"attribute(s) {', '.join(present)} are not supported", GENERIC_FIX
    return None


def _check_einsum(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    equation = _attr(node, "equation") or ""
    if "..." in equation:
        return "error", f"equation '{equation}' uses an ellipsis", "Spell out every axis in the einsum equation"
    return None


def _check_attr_ignored(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    value = _attr(node, check["attr"])
    if value is None or ("default" in check and value == check["default"]):
        return None
    effect = check.get("effect", "values will differ from ONNX Runtime's")
    if "default" in check:
        why = f"{check['attr']}={value!r} is ignored by the parser ({effect}): values will differ from ONNX Runtime's"
        fix = f"Use {check['attr']}={check['default']!r} in the model, or check the engine's outputs on a GPU"
        return check.get("severity", "info"), why, fix
    return (
        check.get("severity", "info"),
        f"{check['attr']} is ignored: {effect}",
        "Compare outputs that depend on it statistically, not elementwise",
    )


def _check_attr_requires(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    if _attr(node, check["attr"]) != check["value"]:
        return None
    other = _attr(node, check["requires"])
    other = check.get("default") if other is None else other
    if other not in check["values"]:
        allowed = ", ".join(map(str, check["values"]))
        return (
            "error",
            f"{check['attr']}={check['value']!r} needs {check['requires']} in {{{allowed}}}, not {other!r}",
            f"Set {check['requires']} to one of {allowed}, or use another {check['attr']}",
        )
    return None


def _check_resize_scaled_dims(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> Outcome | None:
    mode = _attr(node, "mode") or "nearest"
    limit = check["limits"].get(mode)
    index = _input_index(node, "scales", graph.opset)
    if limit is None or index is None or index >= len(node.input) or not node.input[index]:
        return None
    scales = graph.value(node.input[index])
    if scales is None or scales.ndim != 1 or scales.size <= limit:
        return None
    outer = [i for i, s in enumerate(scales[: scales.size - limit].tolist()) if s != 1]
    if outer:
        return (
            "error",
            f"{mode} resize scales axis {outer[0]} ({scales.tolist()}): TensorRT resizes only the {limit} innermost "
            "dims in this mode",
            "Resize only the innermost (spatial) dims, or reshape around the Resize",
            f"{mode} resize scales an axis outside the {limit} innermost dims",
        )
    return None


def _check_input_rank(node: onnx.NodeProto, check: dict, graph: GraphFacts) -> tuple[str, str, str] | None:
    rank = graph.rank(node.input[check["input"]]) if len(node.input) > check["input"] else None
    if rank is not None and rank != check["rank"]:
        return "error", f"input has rank {rank}, TensorRT needs rank {check['rank']}", GENERIC_FIX
    return None


_CHECKS = {
    "constant_inputs": _check_constant_inputs,
    "spatial_rank": _check_spatial_rank,
    "unit_dilations": _check_unit_dilations,
    "first_output_only": _check_first_output_only,
    "zero_input": _check_zero_input,
    "attr_in": _check_attr_in,
    "constant_below": _check_constant_below,
    "attrs_absent": _check_attrs_absent,
    "einsum_no_ellipsis": _check_einsum,
    "attr_ignored": _check_attr_ignored,
    "attr_requires": _check_attr_requires,
    "resize_scaled_dims": _check_resize_scaled_dims,
    "input_rank": _check_input_rank,
}


def type_findings(graph: GraphFacts, info: dict[str, Any]) -> list[Finding]:
    """DOUBLE tensors (cast down to FLOAT) and INT64 constants (cast to INT32 where the target does so)."""
    import numpy as np
    from onnx import TensorProto

    findings = []
    doubles = sorted(
        {name for name, t in graph.types.items() if t.tensor_type.elem_type == TensorProto.DOUBLE}
        | {t.name for t in graph.initializers.values() if t.data_type == TensorProto.DOUBLE}
    )
    if doubles:
        findings.append(
            Finding(
                "warning", "double", ", ".join(doubles[:5]) + (" ..." if len(doubles) > 5 else ""), "-",
                f"{len(doubles)} DOUBLE tensor(s): TensorRT casts DOUBLE down to FLOAT, clamping to +-FLT_MAX",
                "Export in float32 (model.float() before export) so that the engine computes what ONNX Runtime does",
            )
        )  # fmt: skip
    if info.get("int64") == "cast":
        int64 = [t.name for t in graph.initializers.values() if t.data_type == TensorProto.INT64]
        int64 += [name for name, value in graph.values.items() if value.dtype == np.int64]
        if int64:
            info32 = np.iinfo(np.int32)
            clamped = []
            for name in int64:
                value = graph.value(name)
                if value is not None and value.size and (value.max() > info32.max or value.min() < info32.min):
                    clamped.append(name)
            why = f"{len(int64)} INT64 constant(s) will be cast to INT32"
            if clamped:
                why += f"; {len(clamped)} hold values outside INT32 that will be clamped ({', '.join(clamped[:5])})"
            findings.append(
                Finding(
                    "warning" if clamped else "info", "int64", "(constants)", "-", why,
                    "Usually harmless (shapes, indices, INT64_MAX slice ends); check outputs with a GPU run",
                )
            )  # fmt: skip
    return findings


def dynamic_input_findings(model: onnx.ModelProto) -> list[Finding]:
    """Each input with dynamic dims: the build needs an optimization profile for it."""
    findings = []
    for value in real_inputs(model):
        if not has_shape(value):
            continue
        dims = input_dims(value)  # -1 (PaddlePaddle's spelling) is as dynamic as a name
        dynamic = [readable_dim(d or "") for d in dims if not isinstance(d, int)]
        if not dynamic:
            continue
        example = "x".join(str(d) if isinstance(d, int) else "N" for d in dims)
        findings.append(
            Finding(
                "info", "dynamic-shape", value.name, "input",
                f"dynamic dim(s) {', '.join(dynamic)}: TensorRT needs an optimization profile (min/opt/max shapes)",
                f"Build with --min-shapes/--opt-shapes/--max-shapes {value.name}:{example} (N the sizes to support)",
            )
        )  # fmt: skip
    return findings
