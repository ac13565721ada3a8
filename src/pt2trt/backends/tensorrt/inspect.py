"""What an engine became: ``IEngineInspector`` JSON -> layers with precision, fused ONNX nodes, PyTorch modules.

``engine.create_engine_inspector().get_engine_information(trt.LayerInformationFormat.JSON)`` describes every layer
of a built engine; with detailed profiling verbosity each layer carries its inputs and outputs with their data type,
its parameters (a convolution's weights), the ONNX nodes it was fused from (``Metadata``: ``[ONNX Layer: NAME]``
entries separated by ``\\x1e`` or ``\\x1f``; older engines only join node names into the layer name with `` + ``).

Two schemas are read (NVIDIA's "Migrating IEngineInspector Usage from TensorRT 10.x to 11.x"):

* TensorRT 8.6/10: per tensor ``"Format/Datatype": "Channel major FP16 format where channel % 8 == 0"``; the engine's
  I/O names in ``"Bindings"`` (a list of strings);
* TensorRT 11: per tensor separate ``"Format"`` and ``"Datatype"`` keys; ``"I/O Tensors"`` (objects with ``Name``,
  ``IOMode``, ``DataType``, ``Dimensions``, ...) replaces ``"Bindings"``.

From the layers, :class:`EngineReport` summarises the share of layers, and of FLOPs-heavy layers (convolutions,
matrix multiplies) and of their estimated FLOPs, per precision, and warns when the requested precision did not take.
Module names are joined by the caller (:meth:`EngineReport.attach_modules`) from the ONNX model's node scopes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError

#: words of a TensorRT format/data type string -> precision name
_DTYPE_WORDS = {
    "fp32": "FP32", "float": "FP32", "float32": "FP32", "fp16": "FP16", "half": "FP16", "float16": "FP16",
    "bf16": "BF16", "bfloat16": "BF16", "int8": "INT8", "fp8": "FP8", "int4": "INT4", "fp4": "FP4",
    "int32": "INT32", "int64": "INT64", "bool": "BOOL", "uint8": "UINT8", "e4m3": "FP8",
}  # fmt: skip
_HEAVY = re.compile(r"conv|matrixmultiply|gemm|fullyconnected|deconv", re.IGNORECASE)
_REFORMAT_TYPES = {"reformat", "noop"}
_ONNX_LAYER = re.compile(r"\[ONNX Layer: ([^\]]*)\]")
_QDQ = re.compile(r"QuantizeLinear|DequantizeLinear|quantize", re.IGNORECASE)
#: the share of FLOPs-heavy layers that must run in a requested reduced precision before pt2trt stops warning
MAJORITY = 0.5
_LISTED = 4


@dataclass
class EngineLayer:
    name: str
    layer_type: str
    precision: str | None
    kind: str  # "heavy" (convolution, matmul), "reformat", or "other"
    onnx_nodes: list[str]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    tactic: str | None = None
    flops: int | None = None
    qdq: bool = False  # fused with, or fed by, Q/DQ (explicit quantization)
    modules: list[str] = field(default_factory=list)


@dataclass
class EngineReport:
    schema: str  # "10" (Format/Datatype, Bindings) or "11" (Format + Datatype, I/O Tensors)
    detailed: bool
    layers: list[EngineLayer]
    io: list[dict[str, Any]]
    requested: str | None = None
    warnings: list[str] = field(default_factory=list)

    # -- summaries ----------------------------------------------------------------------------------------------
    def shares(self, kind: str | None = None, weight: str = "count") -> dict[str, float]:
        """Fraction per precision of the layers (of ``kind`` when given; reformats never), by count or by FLOPs."""
        counts: Counter[str] = Counter()
        for layer in self.layers:
            if layer.kind == "reformat" or (kind is not None and layer.kind != kind) or layer.precision is None:
                continue
            if weight == "flops":
                if layer.flops:
                    counts[layer.precision] += layer.flops
            else:
                counts[layer.precision] += 1
        total = sum(counts.values())
        return {p: n / total for p, n in counts.most_common()} if total else {}

    def heavy(self, precision: str | None = None) -> list[EngineLayer]:
        return [la for la in self.layers if la.kind == "heavy" and (precision is None or la.precision == precision)]

    def summary_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "detailed": self.detailed,
            "layers": len(self.layers),
            "reformat_layers": sum(la.kind == "reformat" for la in self.layers),
            "heavy_layers": len(self.heavy()),
            "layers_by_precision": _rounded(self.shares()),
            "heavy_layers_by_precision": _rounded(self.shares("heavy")),
            "heavy_flops_by_precision": _rounded(self.shares("heavy", "flops")),
            "requested": self.requested,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary_dict(),
            "warnings": self.warnings,
            "io": self.io,
            "layers": [asdict(la) for la in self.layers],
        }

    # -- joining ------------------------------------------------------------------------------------------------
    def attach_modules(self, node_modules: Mapping[str, str], node_names: Iterable[str] | None = None) -> None:
        """Set each layer's PyTorch modules from ``node_modules`` (ONNX node name -> module qualified name).

        ``node_names``: the ONNX model's node names; fused names that are not nodes (weights, TensorRT's own
        reformats) are then dropped from ``onnx_nodes``.
        """
        known = set(node_names) if node_names is not None else None
        for layer in self.layers:
            if known is not None:
                layer.onnx_nodes = [n for n in layer.onnx_nodes if n in known]
            layer.modules = sorted({node_modules[n] for n in layer.onnx_nodes if node_modules.get(n)})

    def tensor_names(self) -> set[str]:
        """Every tensor the engine materialises (a layer input or output): ONNX tensors not in it were fused away."""
        names = {str(t.get("Name")) for la in self.layers for t in (*la.inputs, *la.outputs)}
        return names | {str(t["name"]) for t in self.io}


# -- parsing ------------------------------------------------------------------------------------------------------
def parse_engine_information(data: Mapping[str, Any], requested: str | None = None) -> EngineReport:
    """Read ``get_engine_information(JSON)`` output of TensorRT 8.6, 10 or 11; ``requested``: "fp16", "int8"..."""
    if not isinstance(data, Mapping) or not isinstance(data.get("Layers"), list):
        raise Pt2trtError(
            "this is not TensorRT engine inspector JSON (no 'Layers' list)",
            "Give the output of IEngineInspector.get_engine_information(JSON) or trtexec --exportLayerInfo",
        )
    schema = "11" if "I/O Tensors" in data else "10"
    if "I/O Tensors" in data:
        io = [_io_tensor(t) for t in data["I/O Tensors"] if isinstance(t, Mapping)]
    else:
        io = [{"name": str(n), "mode": None, "dtype": None, "shape": None} for n in data.get("Bindings", [])]
    raw = data["Layers"]
    detailed = bool(raw) and all(isinstance(la, Mapping) and "LayerType" in la for la in raw)
    layers = [_layer(la) for la in raw]
    if detailed and schema == "10" and any("Datatype" in t for la in raw for t in la.get("Inputs", [])):
        schema = "11"  # per-layer tensors in the 11 form even if the engine-level block is missing
    _mark_qdq(layers)
    report = EngineReport(schema, detailed, layers, io, requested)
    report.warnings = precision_warnings(report)
    return report


def _io_tensor(t: Mapping[str, Any]) -> dict[str, Any]:
    dtype = t.get("DataType", t.get("Datatype"))
    return {
        "name": str(t.get("Name")),
        "mode": t.get("IOMode"),
        "dtype": _precision_of_text(str(dtype)) if dtype else None,
        "shape": t.get("Dimensions"),
    }


def _layer(raw: Any) -> EngineLayer:
    if isinstance(raw, str):  # layer-names-only verbosity
        return EngineLayer(raw, "", None, _kind("", raw), fused_nodes(raw, None))
    name = str(raw.get("Name", ""))
    layer_type = str(raw.get("LayerType", ""))
    inputs = [dict(t) for t in raw.get("Inputs", []) if isinstance(t, Mapping)]
    outputs = [dict(t) for t in raw.get("Outputs", []) if isinstance(t, Mapping)]
    kind = _kind(layer_type, name, str(raw.get("ParameterType", "")))
    in_types = [tensor_precision(t) for t in inputs]
    out_types = [tensor_precision(t) for t in outputs]
    weights = raw.get("Weights") if isinstance(raw.get("Weights"), Mapping) else None
    if kind == "heavy":  # the compute precision is the activations' type entering the kernel
        candidates = [*in_types, _precision_of_text(str(weights["Type"])) if weights else None, *out_types]
    else:
        candidates = [*out_types, *in_types]
    precision = next((p for p in candidates if p), None)
    return EngineLayer(
        name=name,
        layer_type=layer_type,
        precision=precision,
        kind=kind,
        onnx_nodes=fused_nodes(name, raw.get("Metadata")),
        inputs=[_tensor_dict(t) for t in inputs],
        outputs=[_tensor_dict(t) for t in outputs],
        tactic=raw.get("TacticName") or raw.get("TacticValue"),
        flops=_flops(kind, weights, outputs),
        qdq=str(raw.get("Origin", "")).upper() == "QDQ" or bool(_QDQ.search(name)),
    )


def _kind(layer_type: str, name: str, parameter_type: str = "") -> str:
    if layer_type.lower() in _REFORMAT_TYPES or name.startswith("Reformatting CopyNode"):
        return "reformat"
    if _HEAVY.search(parameter_type) or _HEAVY.search(layer_type):
        return "heavy"
    return "other"


def _tensor_dict(t: Mapping[str, Any]) -> dict[str, Any]:
    return {"Name": t.get("Name"), "Dimensions": t.get("Dimensions"), "precision": tensor_precision(t)}


def tensor_precision(t: Mapping[str, Any]) -> str | None:
    """A layer tensor's data type: TensorRT 11's ``Datatype`` key, else parsed from 10's ``Format/Datatype``."""
    for key in ("Datatype", "DataType", "Format/Datatype"):
        if t.get(key):
            return _precision_of_text(str(t[key]))
    return None


def _precision_of_text(text: str) -> str | None:
    for word in re.split(r"[^0-9A-Za-z]+", text.lower()):
        if word in _DTYPE_WORDS:
            return _DTYPE_WORDS[word]
    return None


def fused_nodes(name: str, metadata: Any) -> list[str]:
    """ONNX node names a layer was built from: its ``Metadata`` entries, else the parts of its name."""
    if isinstance(metadata, str) and "[ONNX Layer:" in metadata:
        return list(dict.fromkeys(m.strip() for m in _ONNX_LAYER.findall(metadata) if m.strip()))
    if name.startswith("Reformatting CopyNode") or not name:
        return []
    parts: list[str] = []
    for part in name.split(" + "):
        if part.startswith("PWN("):  # pointwise fusions: PWN(PWN(Sigmoid_1), Mul_2)
            parts += [w for w in re.findall(r"[^(),\s]+", part) if w != "PWN"]
        else:
            parts.append(part.strip())
    return list(dict.fromkeys(p for p in parts if p))


def _flops(kind: str, weights: Mapping[str, Any] | None, outputs: Sequence[Mapping[str, Any]]) -> int | None:
    """2 x weights x output positions for a convolution (weights = out x in/groups x kernel): None when unknown."""
    if kind != "heavy" or not weights or not outputs:
        return None
    dims = outputs[0].get("Dimensions") or []
    if len(dims) < 3 or any(not isinstance(d, int) or d <= 0 for d in dims):
        return None
    positions = 1
    for d in [dims[0], *dims[2:]]:
        positions *= d
    return 2 * int(weights.get("Count", 0)) * positions


def _mark_qdq(layers: list[EngineLayer]) -> None:
    """A layer fed by a Q/DQ layer's output is Q/DQ-adjacent too."""
    produced_by_qdq = {str(t.get("Name")) for la in layers if la.qdq for t in la.outputs}
    for layer in layers:
        if any(str(t.get("Name")) in produced_by_qdq for t in layer.inputs):
            layer.qdq = True


# -- warnings -----------------------------------------------------------------------------------------------------
def precision_warnings(report: EngineReport) -> list[str]:
    """Where the requested precision did not take, in one sentence each."""
    out = []
    if not report.detailed:
        out.append(
            "the engine was built without detailed profiling verbosity: only layer names are known, not precisions "
            "(rebuild with pt2trt build, which builds with detailed verbosity)"
        )
        return out
    requested = (report.requested or "").lower()
    heavy = report.heavy()
    if not heavy:
        return out
    if "fp16" in requested:
        slow = [la for la in heavy if la.precision == "FP32"]
        if len(slow) > MAJORITY * len(heavy):
            out.append(
                f"FP16 was requested but {len(slow)} of {len(heavy)} convolution/matmul layers run FP32 "
                f"({_names(slow)})"
            )
    if "int8" in requested:
        qdq_not_int8 = [la for la in heavy if la.qdq and la.precision not in ("INT8", "FP8", "INT4")]
        if qdq_not_int8:
            out.append(
                f"INT8 was requested but {len(qdq_not_int8)} Q/DQ-adjacent convolution/matmul layers run "
                f"{'/'.join(sorted({str(la.precision) for la in qdq_not_int8}))} ({_names(qdq_not_int8)})"
            )
        if not any(la.precision == "INT8" for la in heavy):
            out.append(f"INT8 was requested but none of the {len(heavy)} convolution/matmul layers runs INT8")
    return out


def _names(layers: list[EngineLayer]) -> str:
    shown = ", ".join(la.name for la in layers[:_LISTED])
    return shown + (f", ... {len(layers) - _LISTED} more" if len(layers) > _LISTED else "")


def _rounded(shares: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in shares.items()}


# -- getting the JSON ---------------------------------------------------------------------------------------------
def engine_report(engine: str | Path, *, requested: str | None = None, device: int = 0) -> tuple[EngineReport, str]:
    """The report of an engine file and where its JSON came from.

    With TensorRT and a GPU here the engine is inspected live; otherwise the JSON recorded in its metadata file at
    build time (``inspection.engine_information``) is used. ``requested`` defaults to the metadata's precision.
    """
    from pt2trt.backends.tensorrt.metadata import read_metadata, sidecar_path
    from pt2trt.files import existing_file

    path = existing_file(engine, "engine file")
    metadata = read_metadata(path)
    requested = requested or (metadata.precision if metadata else None)
    live_problem = _live_problem(device)
    if live_problem is None:
        from pt2trt.backends.tensorrt.versions import import_tensorrt

        raw = inspector_json(import_tensorrt(), path.read_bytes())
        if raw is None:
            raise Pt2trtError(
                f"TensorRT cannot load {path} here (built for another TensorRT version or GPU?)",
                "Build the engine again on this machine from its ONNX (`pt2trt build`)",
            )
        return parse_engine_information(json.loads(raw), requested), "IEngineInspector (live)"
    recorded = (metadata.inspection or {}).get("engine_information") if metadata else None
    if recorded:
        return parse_engine_information(recorded, requested), f"recorded at build time in {sidecar_path(path).name}"
    raise Pt2trtError(
        f"cannot inspect {path}: {live_problem}, and {sidecar_path(path).name} holds no recorded inspection",
        "Inspect it on the GPU machine it was built on, or rebuild it with pt2trt build (which records one)",
    )


def _live_problem(device: int) -> str | None:
    from pt2trt.backends.tensorrt.versions import cuda_gpus, installed_version

    if installed_version() is None:
        return "TensorRT is not installed here"
    gpus = cuda_gpus()
    if len(gpus) <= device:
        return "no CUDA GPU is present here"
    return None


def inspector_json(trt: Any, engine_bytes: bytes) -> str | None:
    """``get_engine_information(JSON)`` of serialized engine bytes (TensorRT and the GPU it was built for)."""
    logger = trt.Logger(trt.Logger.ERROR)
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(engine_bytes)
    if engine is None:
        return None
    inspector = engine.create_engine_inspector()
    return str(inspector.get_engine_information(trt.LayerInformationFormat.JSON))
