"""Turn a float NCHW image input into a uint8 NHWC one, with the cast, transpose and normalisation in the graph."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.editing.surgery.common import Verification, constant, find_input, on_graph, unused_name
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.feeds import Feed
from pt2trt.imaging.preprocess import IMAGENET_MEAN, IMAGENET_STD

if TYPE_CHECKING:
    import onnx_graphsurgeon as gs


@dataclass(frozen=True)
class Uint8Input:
    input: str | None = None
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    scale: float = 255.0

    def normalise(self, images: np.ndarray) -> np.ndarray:
        """What the edited graph computes, in numpy: uint8 NHWC -> normalised float32 NCHW."""
        x = images.astype(np.float32) / np.float32(self.scale)
        x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)


def parse_uint8(value: Any) -> Uint8Input:
    """``true`` | ``NAME`` | ``NAME:mean=a,b,c:std=a,b,c:scale=255`` | a mapping with those keys."""
    if value is True or value is None or value == "":
        return Uint8Input()
    if isinstance(value, Mapping):
        data = dict(value)
    else:
        parts = str(value).split(":")
        data = {"input": parts[0] or None}
        for part in parts[1:]:
            key, sep, val = part.partition("=")
            if not sep:
                raise UsageError(f"malformed --uint8-nhwc option '{part}'", "Expected mean=..., std=... or scale=...")
            data[key.strip()] = val
    unknown = set(data) - {"input", "mean", "std", "scale"}
    if unknown:
        raise UsageError(f"unknown uint8_nhwc option(s) {', '.join(sorted(unknown))}", "Use input, mean, std, scale")
    spec = Uint8Input(
        input=data.get("input"),
        mean=_floats(data["mean"], "mean") if "mean" in data else IMAGENET_MEAN,
        std=_floats(data["std"], "std") if "std" in data else IMAGENET_STD,
        scale=float(data.get("scale", 255.0)),
    )
    if len(spec.mean) != len(spec.std):
        raise UsageError(
            f"mean has {len(spec.mean)} values but std has {len(spec.std)}",
            "Give one mean and one std value per channel",
        )
    if any(s == 0 for s in spec.std) or spec.scale == 0:
        raise UsageError("std and scale must not be 0", "Give non-zero std/scale values")
    return spec


@on_graph
def uint8_nhwc(graph: gs.Graph, spec: Uint8Input) -> tuple[Verification, str]:
    """Replace a float NCHW image input by a uint8 NHWC one; Cast, Transpose and (x/scale - mean)/std run in-graph."""
    import onnx_graphsurgeon as gs

    old = find_input(graph, spec.input)
    if old.dtype is None or np.dtype(old.dtype) not in (np.float32, np.float16):
        raise Pt2trtError(f"input '{old.name}' is {old.dtype}, not a float image", "Choose a float NCHW input")
    if not old.shape or len(old.shape) != 4 or not isinstance(old.shape[1], int):
        raise Pt2trtError(
            f"input '{old.name}' has shape {old.shape}, not N x C x H x W with a fixed C", "Choose an NCHW image input"
        )
    channels = old.shape[1]
    if len(spec.mean) not in (1, channels):
        raise Pt2trtError(
            f"input '{old.name}' has {channels} channels but {len(spec.mean)} mean/std values",
            f"Give {channels} mean and std values, one per channel",
        )
    name = old.name
    n, c, h, w = old.shape
    new = gs.Variable(name, dtype=np.uint8, shape=[n, h, w, c])
    old.name = unused_name(graph, f"{name}_normalised")
    mean = np.asarray(spec.mean, np.float64).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, np.float64).reshape(1, -1, 1, 1)
    # (x/scale - mean)/std == x * (1/(scale*std)) + (-mean/std): one Mul and one Add, folded constants
    mul = (1.0 / (spec.scale * std)).astype(np.dtype(old.dtype))
    add = (-mean / std).astype(np.dtype(old.dtype))
    as_float = gs.Variable(unused_name(graph, f"{name}_float"), dtype=np.dtype(old.dtype), shape=[n, h, w, c])
    nchw = gs.Variable(unused_name(graph, f"{name}_nchw"), dtype=np.dtype(old.dtype), shape=[n, c, h, w])
    scaled = gs.Variable(unused_name(graph, f"{name}_scaled"), dtype=np.dtype(old.dtype), shape=[n, c, h, w])
    to = 1 if np.dtype(old.dtype) == np.float32 else 10  # TensorProto.FLOAT / FLOAT16
    graph.nodes += [
        gs.Node("Cast", f"{name}_cast", {"to": to}, [new], [as_float]),
        gs.Node("Transpose", f"{name}_to_nchw", {"perm": [0, 3, 1, 2]}, [as_float], [nchw]),
        gs.Node("Mul", f"{name}_scale", inputs=[nchw, constant(graph, f"{name}_mul", mul)], outputs=[scaled]),
        gs.Node("Add", f"{name}_shift", inputs=[scaled, constant(graph, f"{name}_add", add)], outputs=[old]),
    ]
    graph.inputs = [new if t is old else t for t in graph.inputs]

    def reference_feed(feed: Feed) -> Feed:
        out = dict(feed)
        out[name] = spec.normalise(out[name]).astype(np.dtype(old.dtype))
        return out

    mean_text = ",".join(f"{m:g}" for m in spec.mean)
    std_text = ",".join(f"{s:g}" for s in spec.std)
    return (
        Verification(feed_from_candidate=reference_feed),
        f"input '{name}' is now uint8 NHWC {new.shape}; in-graph (x/{spec.scale:g} - [{mean_text}]) / [{std_text}]",
    )


def _floats(value: Any, what: str) -> tuple[float, ...]:
    items = value if isinstance(value, list | tuple) else re.split(r"[,/ ]+", str(value).strip())
    try:
        return tuple(float(v) for v in items if v != "")
    except ValueError:
        raise UsageError(
            f"{what} must be numbers, got '{value}'", "Give comma-separated numbers, e.g. 0.485,0.456,0.406"
        ) from None
