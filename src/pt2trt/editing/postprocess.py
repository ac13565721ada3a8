"""Post-processing appended to a graph's outputs: softmax, argmax, top-k and NMS (ONNX or TensorRT's plugin).

``softmax``, ``argmax`` and ``topk`` are verified against the same operation in numpy on the original outputs.
``nms`` appends ONNX ``NonMaxSuppression`` and gathers the kept boxes, scores and classes. ``efficient_nms`` appends
TensorRT's ``EfficientNMS_TRT`` plugin node (domain ``TRT``, as TensorRT's ONNX parser and the YOLO exporters spell it):
it only runs in a TensorRT engine, so ONNX Runtime cannot check it. NVIDIA deprecated that plugin in TensorRT 10.12
(:mod:`pt2trt.backends.tensorrt.lint.plugins` holds the facts): for a ``target=`` (a TensorRT family or release, by
default the installed one) whose parser no longer imports it the edit refuses and points to ``nms``, which TensorRT
builds as its own INMSLayer; where it is deprecated the step says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.editing.surgery.common import Verification, constant, find_output, on_graph, unused_name
from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    import onnx_graphsurgeon as gs

KINDS = ("softmax", "argmax", "topk", "nms", "efficient_nms")


@dataclass(frozen=True)
class AppendSpec:
    """What to append and to which output (``output``; the first output by default)."""

    kind: str
    output: str | None = None
    axis: int = -1
    k: int = 5
    keep: bool = False
    boxes: str | None = None
    scores: str | None = None
    iou: float = 0.5
    score: float = 0.05
    max: int = 100
    box_coding: int = 0  # 0: corners (x1, y1, x2, y2); 1: center (cx, cy, w, h)
    target: str | None = None  # efficient_nms: the TensorRT family or release that will parse it (8.6, 10, 11.4)


_INT = {"axis", "k", "max", "box_coding"}
_FLOAT = {"iou", "score"}


def parse_append(value: Any) -> AppendSpec:
    """``KIND[:K][:key=value,...]`` (``softmax``, ``topk:5``, ``nms:iou=0.45,max=50``) or a mapping with ``op``."""
    if isinstance(value, Mapping):
        data = {str(k): v for k, v in value.items()}
        kind = str(data.pop("op", data.pop("kind", "")))
    else:
        parts = str(value).split(":")
        kind, data = parts[0], {}
        for part in parts[1:]:
            if "=" in part:
                for item in filter(None, part.split(",")):
                    key, _, val = item.partition("=")
                    data[key.strip()] = val.strip()
            elif part.strip():
                data["k"] = part.strip()
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise UsageError(f"unknown post-processing '{kind}'", f"Use one of: {', '.join(KINDS)}")
    known = {f.name for f in fields(AppendSpec)} - {"kind"}
    unknown = set(data) - known
    if unknown:
        raise UsageError(f"unknown {kind} option(s) {', '.join(sorted(unknown))}", f"Use {', '.join(sorted(known))}")
    typed: dict[str, Any] = {}
    for key, val in data.items():
        try:
            if key in _INT:
                typed[key] = int(val)
            elif key in _FLOAT:
                typed[key] = float(val)
            elif key == "keep":
                typed[key] = val if isinstance(val, bool) else str(val).lower() in ("1", "true", "yes")
            else:
                typed[key] = str(val)
        except ValueError:
            raise UsageError(
                f"{kind} option {key} must be a number, got '{val}'", f"Give a number, e.g. {key}=0.5"
            ) from None
    spec = AppendSpec(kind=kind, **typed)
    if spec.k < 1 or spec.max < 1:
        raise UsageError("k and max must be at least 1", "Pass k/max as a whole number of 1 or more")
    if spec.target is not None:
        _check_target(spec)
    return spec


def _check_target(spec: AppendSpec) -> None:
    from pt2trt.backends.tensorrt.lint.plugins import target_span

    if spec.kind != "efficient_nms":
        raise UsageError(f"{spec.kind} takes no target option", "target= applies to efficient_nms only")
    try:
        target_span(str(spec.target))
    except ValueError:
        raise UsageError(
            f"efficient_nms target must be a TensorRT family or release, got '{spec.target}'",
            "Use 8.6, 10, 11 or a release such as 10.15.1",
        ) from None


@on_graph
def append(graph: gs.Graph, spec: AppendSpec) -> tuple[Verification | None, str]:
    """Append ``spec.kind`` after an output; the new tensors replace it among the outputs (``keep`` keeps it too)."""
    return _APPENDERS[spec.kind](graph, spec)


def _place(graph: gs.Graph, source: gs.Tensor, new: list[gs.Tensor], keep: bool) -> None:
    """Put ``new`` where ``source`` was among the graph outputs (after it with ``keep``)."""
    index = next(i for i, t in enumerate(graph.outputs) if t is source)
    outputs = list(graph.outputs)
    outputs[index : index + 1] = [source, *new] if keep else new
    graph.outputs = outputs


def _variable(graph: gs.Graph, name: str, dtype: Any, shape: Any = None) -> gs.Variable:
    import onnx_graphsurgeon as gs

    return gs.Variable(unused_name(graph, name), dtype=np.dtype(dtype), shape=shape)


def _softmax(graph: gs.Graph, spec: AppendSpec) -> tuple[Verification, str]:
    import onnx_graphsurgeon as gs

    src = find_output(graph, spec.output)
    out = _variable(graph, "probs", src.dtype or np.float32, src.shape)
    graph.nodes.append(gs.Node("Softmax", unused_name(graph, "softmax"), {"axis": spec.axis}, [src], [out]))
    _place(graph, src, [out], spec.keep)
    name, new, keep, axis = src.name, out.name, spec.keep, spec.axis

    def expected(ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = ref[name].astype(np.float64)
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return _replace(ref, name, {new: (e / e.sum(axis=axis, keepdims=True)).astype(ref[name].dtype)}, keep)

    return Verification(expected_outputs=expected), f"appended Softmax(axis={axis}) to '{name}' -> '{new}'"


def _argmax(graph: gs.Graph, spec: AppendSpec) -> tuple[Verification, str]:
    import onnx_graphsurgeon as gs

    src = find_output(graph, spec.output)
    shape = None
    if src.shape:
        shape = list(src.shape)
        del shape[spec.axis]
    out = _variable(graph, "class_id", np.int64, shape)
    graph.nodes.append(
        gs.Node("ArgMax", unused_name(graph, "argmax"), {"axis": spec.axis, "keepdims": 0}, [src], [out])
    )
    _place(graph, src, [out], spec.keep)
    name, new, keep, axis = src.name, out.name, spec.keep, spec.axis

    def expected(ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return _replace(ref, name, {new: np.argmax(ref[name], axis=axis).astype(np.int64)}, keep)

    return Verification(expected_outputs=expected), f"appended ArgMax(axis={axis}) to '{name}' -> '{new}'"


def _topk(graph: gs.Graph, spec: AppendSpec) -> tuple[Verification, str]:
    import onnx_graphsurgeon as gs

    src = find_output(graph, spec.output)
    if src.shape and isinstance(src.shape[spec.axis], int) and src.shape[spec.axis] < spec.k:
        raise Pt2trtError(
            f"output '{src.name}' has only {src.shape[spec.axis]} values on axis {spec.axis}, k={spec.k}",
            "Pass a smaller k, or the axis that holds the values",
        )
    shape = None
    if src.shape:
        shape = list(src.shape)
        shape[spec.axis] = spec.k
    values = _variable(graph, "topk_scores", src.dtype or np.float32, shape)
    indices = _variable(graph, "topk_ids", np.int64, shape)
    k = constant(graph, "topk_k", [spec.k], np.int64)
    attrs = {"axis": spec.axis, "largest": 1, "sorted": 1}
    graph.nodes.append(gs.Node("TopK", unused_name(graph, "topk"), attrs, [src, k], [values, indices]))
    _place(graph, src, [values, indices], spec.keep)
    name, keep, axis, count = src.name, spec.keep, spec.axis, spec.k
    vname, iname = values.name, indices.name

    def expected(ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = ref[name]
        idx = np.take(np.argsort(-x, axis=axis, kind="stable"), np.arange(count), axis=axis)
        return _replace(ref, name, {vname: np.take_along_axis(x, idx, axis=axis), iname: idx.astype(np.int64)}, keep)

    return Verification(expected_outputs=expected), f"appended TopK(k={count}, axis={axis}) to '{name}'"


def _replace(ref: dict[str, np.ndarray], name: str, new: dict[str, np.ndarray], keep: bool) -> dict[str, np.ndarray]:
    out = {k: v for k, v in ref.items() if keep or k != name}
    out.update(new)
    return out


def _boxes_scores(graph: gs.Graph, spec: AppendSpec) -> tuple[gs.Tensor, gs.Tensor]:
    """The boxes [N, B, 4] and scores [N, B, C] outputs: as named, else those named boxes/scores, else the first two."""
    names = {t.name: t for t in graph.outputs}
    boxes_name = spec.boxes or ("boxes" if "boxes" in names else None)
    scores_name = spec.scores or ("scores" if "scores" in names else None)
    if boxes_name is None or scores_name is None:
        if len(graph.outputs) < 2:
            raise Pt2trtError(f"{spec.kind} needs boxes and scores outputs", "Name them with boxes=NAME,scores=NAME")
        boxes_name = boxes_name or graph.outputs[0].name
        scores_name = scores_name or graph.outputs[1].name
    boxes, scores = find_output(graph, boxes_name), find_output(graph, scores_name)
    for t, rank, layout in ((boxes, 3, "[N, boxes, 4]"), (scores, 3, "[N, boxes, classes]")):
        if t.shape is not None and len(t.shape) != rank:
            raise Pt2trtError(
                f"{spec.kind}: output '{t.name}' has shape {t.shape}, expected {layout}",
                "Pick the right output with --output-name NAME (see `pt2trt inspect MODEL.onnx`), or another layout",
            )
    if boxes.shape and isinstance(boxes.shape[-1], int) and boxes.shape[-1] != 4:
        raise Pt2trtError(
            f"{spec.kind}: boxes output '{boxes.name}' has {boxes.shape[-1]} values per box, not 4",
            "Pick the boxes output with --output-name NAME (see `pt2trt inspect MODEL.onnx`)",
        )
    return boxes, scores


def _nms(graph: gs.Graph, spec: AppendSpec) -> tuple[None, str]:
    """ONNX NonMaxSuppression, then the kept boxes, scores and classes gathered into flat outputs."""
    import onnx_graphsurgeon as gs

    boxes, scores = _boxes_scores(graph, spec)
    dtype = scores.dtype or np.float32
    per_class = _variable(graph, "scores_per_class", dtype)  # [N, C, B]
    selected = _variable(graph, "detection_indices", np.int64, ["detections", 3])  # (batch, class, box)
    batch_box = _variable(graph, "batch_box_index", np.int64, ["detections", 2])
    det_boxes = _variable(graph, "detection_boxes", boxes.dtype or np.float32, ["detections", 4])
    det_scores = _variable(graph, "detection_scores", dtype, ["detections"])
    det_classes = _variable(graph, "detection_classes", np.int64, ["detections"])
    n = unused_name(graph, "nms")
    graph.nodes += [
        gs.Node("Transpose", f"{n}_scores_t", {"perm": [0, 2, 1]}, [scores], [per_class]),
        gs.Node(
            "NonMaxSuppression",
            n,
            {"center_point_box": spec.box_coding},
            [
                boxes,
                per_class,
                constant(graph, f"{n}_max_per_class", [spec.max], np.int64),
                constant(graph, f"{n}_iou", [spec.iou], np.float32),
                constant(graph, f"{n}_score", [spec.score], np.float32),
            ],
            [selected],
        ),
        gs.Node(
            "Gather",
            f"{n}_batch_box",
            {"axis": 1},
            [selected, constant(graph, f"{n}_bb", [0, 2], np.int64)],
            [batch_box],
        ),
        gs.Node("GatherND", f"{n}_boxes", {}, [boxes, batch_box], [det_boxes]),
        gs.Node("GatherND", f"{n}_scores", {}, [per_class, selected], [det_scores]),
        gs.Node(
            "Gather", f"{n}_classes", {"axis": 1}, [selected, constant(graph, f"{n}_c", 1, np.int64)], [det_classes]
        ),
    ]
    outputs = [selected, det_boxes, det_scores, det_classes]
    _expose(graph, spec, boxes, scores, outputs)
    return None, (
        f"appended NonMaxSuppression to '{boxes.name}'/'{scores.name}' (iou {spec.iou:g}, score {spec.score:g}, "
        f"max {spec.max} per class)"
    )


def _expose(graph: gs.Graph, spec: AppendSpec, boxes: Any, scores: Any, outputs: list) -> None:
    """Make the NMS outputs graph outputs: beside the raw boxes/scores with ``keep``, else in their place."""
    if spec.keep:
        graph.outputs = [*graph.outputs, *outputs]
    else:
        graph.outputs = [t for t in graph.outputs if t is not boxes and t is not scores] + outputs


def _plugin_verdict(op: str, target: str | None) -> str:
    """A note on the plugin for ``target`` ("" when there is nothing to say); a user error when that target's parser
    cannot import it. The target defaults to the installed TensorRT, else to the newest family (said aloud)."""
    from pt2trt.backends.tensorrt.lint.plugins import REMOVED, plugin_support
    from pt2trt.backends.tensorrt.versions import TARGETS, installed_version

    judged = target or installed_version()
    assumed = "" if judged else " (no target given and no TensorRT installed: judged for the newest family)"
    support = plugin_support(op, judged or list(TARGETS)[-1])
    if support is None:
        return ""
    if support.state == REMOVED:
        raise Pt2trtError(
            f"cannot append {op} for TensorRT {judged or list(TARGETS)[-1]}: {support.why}",
            "Append ONNX NonMaxSuppression instead (--append nms): TensorRT's parser builds it as its INMSLayer",
        )
    return f"; {support.why}{assumed}. {support.fix}"


def _efficient_nms(graph: gs.Graph, spec: AppendSpec) -> tuple[None, str]:
    """TensorRT's EfficientNMS_TRT plugin: fixed-size outputs per image, run inside a TensorRT engine only."""
    import onnx_graphsurgeon as gs

    verdict = _plugin_verdict("EfficientNMS_TRT", spec.target)
    boxes, scores = _boxes_scores(graph, spec)
    batch = boxes.shape[0] if boxes.shape else "batch"
    outputs = [
        _variable(graph, "num_detections", np.int32, [batch, 1]),
        _variable(graph, "detection_boxes", np.float32, [batch, spec.max, 4]),
        _variable(graph, "detection_scores", np.float32, [batch, spec.max]),
        _variable(graph, "detection_classes", np.int32, [batch, spec.max]),
    ]
    attrs = {
        "plugin_version": "1",
        "background_class": -1,
        "max_output_boxes": spec.max,
        "score_threshold": spec.score,
        "iou_threshold": spec.iou,
        "score_activation": 0,
        "class_agnostic": 0,
        "box_coding": spec.box_coding,
    }
    name = unused_name(graph, "efficient_nms")
    graph.nodes.append(gs.Node("EfficientNMS_TRT", name, attrs, [boxes, scores], outputs, domain="TRT"))
    _expose(graph, spec, boxes, scores, outputs)
    return None, (
        f"appended TensorRT EfficientNMS_TRT to '{boxes.name}'/'{scores.name}' (iou {spec.iou:g}, score "
        f"{spec.score:g}, max {spec.max}); runs in TensorRT only{verdict}"
    )


_APPENDERS = {
    "softmax": _softmax,
    "argmax": _argmax,
    "topk": _topk,
    "nms": _nms,
    "efficient_nms": _efficient_nms,
}
