"""INT8 as explicit QuantizeLinear/DequantizeLinear that TensorRT accepts, made by ONNX Runtime's quantizer.

``onnxruntime.quantization.quantize_static`` in QDQ format with symmetric INT8 activations and weights (zero point 0:
onnx-tensorrt rejects others), per-channel weights, float biases (TensorRT has no INT32 dequantization), on the op
types TensorRT runs in INT8: Conv, ConvTranspose, Gemm, MatMul, pooling, and residual Add (both inputs computed),
whose Q/DQ on the skip branch lets TensorRT fuse the add into the convolution.

The activation ranges come from :mod:`pt2trt.precision.statistics` (the same pass that serves FP16), handed to the
quantizer as its calibration cache, so the model runs over the data once whatever the method:

* ``minmax``: the largest magnitude seen;
* ``percentile``: the magnitude below which ``percentile`` % of the values fall (the folded histogram);
* ``entropy``: ONNX Runtime's KL-divergence threshold search over the same histogram.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import UsageError
from pt2trt.precision.statistics import HISTOGRAM_BINS, Statistics
from pt2trt.settings.precision import CALIBRATION_METHODS

if TYPE_CHECKING:
    import onnx

METHODS = CALIBRATION_METHODS
QUANTIZED_OPS = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "MaxPool", "AveragePool", "GlobalAveragePool"]
PERCENTILE = 99.999


def check_method(method: str) -> None:
    if method not in METHODS:
        raise UsageError(f"unknown calibration method '{method}'", f"Use one of: {', '.join(METHODS)}")


def needs_histograms(method: str) -> bool:
    return method != "minmax"


def ranges(stats: Statistics, method: str) -> dict[str, tuple[float, float]]:
    """Symmetric (-t, t) ranges per tensor for ``method``."""
    check_method(method)
    if method == "minmax" or not stats.histograms:
        return {n: (-t.abs_max, t.abs_max) for n, t in stats.tensors.items() if t.count}
    if method == "percentile":
        return {n: _percentile(h, PERCENTILE) for n, h in stats.histograms.items()}
    from onnxruntime.quantization.calibrate import HistogramCollector

    collector = HistogramCollector("entropy", True, HISTOGRAM_BINS, 128, PERCENTILE, "same")
    collector.histogram_dict = dict(stats.histograms)
    with contextlib.redirect_stdout(io.StringIO()):
        found = collector.compute_collection_result()
    out = {}
    for name, values in found.items():
        t = max(abs(float(values[0])), abs(float(values[1])))
        out[name] = (-t, t)
    return out


def _percentile(histogram: tuple, percentile: float) -> tuple[float, float]:
    """Fold ORT's signed histogram over [-T, T] into magnitudes and take the ``percentile`` threshold."""
    hist, edges = np.asarray(histogram[0], np.float64), np.asarray(histogram[1], np.float64)
    half = hist.size // 2
    magnitude = hist[half:] + hist[:half][::-1]
    total = magnitude.sum()
    if total == 0:
        return (0.0, 0.0)
    index = int(np.searchsorted(np.cumsum(magnitude) / total, percentile / 100.0))
    t = float(edges[half + min(index + 1, half)])
    return (-t, t)


def residual_adds(model: onnx.ModelProto) -> tuple[set[str], set[str]]:
    """Names of Add nodes whose inputs are both computed (residual), and of the others (bias-like, not quantized)."""
    constants = {i.name for i in model.graph.initializer}
    constants |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    residual: set[str] = set()
    other: set[str] = set()
    for node in model.graph.node:
        if node.op_type == "Add":
            (other if any(t in constants for t in node.input) else residual).add(node.name)
    return residual, other


#: Per-channel Q/DQ (the ``axis`` attribute of QuantizeLinear/DequantizeLinear) exists from opset 13 on.
QDQ_MIN_OPSET = 13


def without_initializer_inputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` without the graph inputs that are initializers (older exporters list weights as inputs too): ONNX
    Runtime's quantizer would take them for activations and ask for their calibration ranges."""
    weights = {t.name for t in model.graph.initializer}
    kept = [value for value in model.graph.input if value.name not in weights]
    if len(kept) != len(model.graph.input):
        del model.graph.input[:]
        model.graph.input.extend(kept)
    return model


def constants_as_initializers(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with its top-level tensor ``Constant`` nodes turned into initializers. PaddlePaddle's exporter writes
    every weight as a Constant node; ONNX Runtime's quantizer finds weights among the initializers only."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    kept = []
    for node in graph.node:
        value = next((a.t for a in node.attribute if a.name == "value"), None)
        constant = node.op_type == "Constant" and node.domain in ("", "ai.onnx") and value is not None
        if constant and node.output[0] not in outputs:
            tensor = graph.initializer.add()
            tensor.CopyFrom(value)
            tensor.name = node.output[0]
            continue
        kept.append(node)
    if len(kept) != len(graph.node):
        del graph.node[:]
        graph.node.extend(kept)
    return model


def at_least_opset(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """``model`` converted to ``opset`` when its default-domain opset is lower (PaddlePaddle's exporter writes 11),
    with onnx's version converter; a model it cannot convert is a user error naming the opset."""
    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), opset)
    if current >= opset:
        return model
    from onnx import version_converter

    from pt2trt.errors import Pt2trtError

    try:
        converted = version_converter.convert_version(model, opset)
    except Exception as exc:  # the converter raises its own C++ errors for ops it cannot adapt
        raise Pt2trtError(
            f"the model's opset {current} is below {opset}, which per-channel INT8 Q/DQ needs, and onnx cannot "
            f"convert it: {str(exc).splitlines()[0][:160]}",
            f"Export the model again with --opset {opset} or newer",
        ) from None
    converted.metadata_props.extend(m for m in model.metadata_props if m not in converted.metadata_props)
    return converted


def quantize_int8(
    model: onnx.ModelProto,
    stats: Statistics,
    output: Path,
    *,
    method: str = "minmax",
    exclude: Collection[str] = (),
    op_types: list[str] | None = None,
    correct_bias: bool = True,
    placement: str = "tensorrt",
) -> onnx.ModelProto:
    """Write ``model`` with Q/DQ nodes to ``output`` and return it; ``exclude``: node names left in float.

    ``placement="tensorrt"``: Q/DQ on the inputs of the quantized ops only, residual Adds on their skip input (see
    :func:`float_fusible_add_inputs`); ``"onnxruntime"``: ONNX Runtime's own placement (outputs quantized too, both
    Add inputs), kept to measure what the TensorRT placement gains (docs/precision.md). ``correct_bias``: see
    :func:`correct_weight_bias`.
    """
    import onnxruntime
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.calibrate import TensorData, TensorsData, save_tensors_data

    onnxruntime.set_default_logger_severity(4)  # the calibration sessions ORT makes would log warnings on stderr

    from pt2trt.onnx.load import load_onnx
    from pt2trt.precision.fp16 import named_copy

    check_method(method)
    enum = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }[method]
    named = at_least_opset(constants_as_initializers(without_initializer_inputs(named_copy(model))), QDQ_MIN_OPSET)
    _, bias_adds = residual_adds(named)
    data = {
        name: TensorData(lowest=np.array(lo, np.float32), highest=np.array(hi, np.float32))
        for name, (lo, hi) in ranges(stats, method).items()
    }
    cache = output.with_name(output.name + ".calibration.json")
    save_tensors_data(TensorsData(enum, data), cache)
    extra: dict[str, Any] = {
        "ActivationSymmetric": True,
        "WeightSymmetric": True,
        "QuantizeBias": False,  # TensorRT dequantizes INT8, not INT32: biases stay float
        "QDQOpTypePerChannelSupportToAxis": {"MatMul": 1},
        # inputs only, as TensorRT places them (and ModelOpt writes them): a Q/DQ on a convolution's output would
        # sit before its activation (ReLU6 clips a range the Q/DQ already rounded) and stop TensorRT's fusions
        "OpTypesToExcludeOutputQuantization": sorted({n.op_type for n in named.graph.node}),
        "ForceQuantizeNoInputCheck": True,  # pooling's input quantized even when its producer is not
    }
    if placement == "onnxruntime":
        del extra["OpTypesToExcludeOutputQuantization"], extra["ForceQuantizeNoInputCheck"]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # ORT logs a pre-processing advice as a warning on every call
    try:
        quantize_static(
            named,
            str(output),
            None,
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=op_types or QUANTIZED_OPS,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=sorted(set(exclude) | bias_adds),
            calibrate_method=enum,
            extra_options=extra,
            calibration_cache_path=str(cache),
        )
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:  # ORT's quantizer on a graph it does not expect
        from pt2trt.errors import Pt2trtError

        raise Pt2trtError(
            f"ONNX Runtime's quantizer cannot quantize this model: {str(exc).splitlines()[0][:200]}",
            "Leave the node it names in float with --exclude NODE, or simplify the model first (pt2trt simplify)",
        ) from exc
    finally:
        root.setLevel(level)
        cache.unlink(missing_ok=True)
    quantized = load_onnx(output)
    if placement == "tensorrt":
        quantized = float_fusible_add_inputs(quantized)
    if correct_bias:
        correct_weight_bias(quantized, named, stats)
    import onnx

    onnx.save_model(quantized, str(output), save_as_external_data=quantized.ByteSize() > 1_800_000_000)
    return quantized


def correct_weight_bias(quantized: onnx.ModelProto, original: onnx.ModelProto, stats: Statistics) -> int:
    """Move each quantized Conv/Gemm's expected weight-rounding error into its float bias; returns how many.

    Rounding the weights to INT8 shifts the mean of every output channel by ``(W - Wq) . E[x]``, the same for every
    image: the depthwise convolutions of MobileNet-style networks, 9 weights per channel, shift most. ``E[x]`` is the
    per-channel mean of the layer's float input over the calibration samples (statistics), ``Wq`` is read back from
    the Q/DQ model, and the shift is added to the bias, which TensorRT keeps in float (empirical bias correction,
    Nagel et al. 2019; NNCF's fast bias correction does the same).
    """
    from onnx import numpy_helper

    floats = {i.name: i for i in original.graph.initializer}
    by_name = {n.name: n for n in original.graph.node if n.name}
    inits = {i.name: i for i in quantized.graph.initializer}
    producers = {t: n for n in quantized.graph.node for t in n.output}
    corrected = 0
    for node in quantized.graph.node:
        source = by_name.get(node.name)
        if node.op_type not in ("Conv", "Gemm") or source is None or len(source.input) < 2:
            continue
        dq = producers.get(node.input[1])
        weight = floats.get(source.input[1])
        mean = stats.tensors[source.input[0]].channel_mean if source.input[0] in stats.tensors else None
        if dq is None or dq.op_type != "DequantizeLinear" or weight is None or mean is None:
            continue
        w = numpy_helper.to_array(weight).astype(np.float64)
        wq = _dequantized(dq, inits)
        if wq is None or wq.shape != w.shape:
            continue
        shift = _mean_shift(node, w - wq, mean)
        if shift is None:
            continue
        _add_to_bias(quantized, node, shift.astype(np.float32), inits)
        corrected += 1
    return corrected


def _dequantized(dq: onnx.NodeProto, inits: dict[str, onnx.TensorProto]) -> np.ndarray | None:
    from onnx import numpy_helper

    if dq.input[0] not in inits or dq.input[1] not in inits:
        return None
    q = numpy_helper.to_array(inits[dq.input[0]]).astype(np.float64)
    scale = numpy_helper.to_array(inits[dq.input[1]]).astype(np.float64)
    axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
    if scale.size > 1:
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale = scale.reshape(shape)
    return q * scale


def _mean_shift(node: onnx.NodeProto, delta: np.ndarray, mean: np.ndarray) -> np.ndarray | None:
    """``E[delta * x]`` per output channel for a Conv (``delta`` [Cout, Cin/g, k...]) or a Gemm."""
    if node.op_type == "Conv":
        groups = next((a.i for a in node.attribute if a.name == "group"), 1)
        cout, cin_g = delta.shape[0], delta.shape[1]
        if mean.size != cin_g * groups or cout % groups:
            return None
        per_group = cout // groups
        inputs = mean.reshape(groups, cin_g)[np.arange(cout) // per_group]  # [Cout, Cin/g]
        return (delta.reshape(cout, cin_g, -1).sum(axis=2) * inputs).sum(axis=1)
    trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
    matrix = delta if trans_b else delta.T  # [N, K]
    return matrix @ mean if matrix.shape[1] == mean.size else None


def _add_to_bias(model: onnx.ModelProto, node: onnx.NodeProto, shift: np.ndarray, inits: dict) -> None:
    from onnx import numpy_helper

    if len(node.input) > 2 and node.input[2] in inits:
        bias = inits[node.input[2]]
        values = numpy_helper.to_array(bias).astype(np.float32)
        if values.shape == shift.shape:
            bias.CopyFrom(numpy_helper.from_array(values + shift, bias.name))
        return
    name = f"{node.name or node.output[0]}_bias_corrected"
    model.graph.initializer.append(numpy_helper.from_array(shift, name))
    while len(node.input) < 3:
        node.input.append("")
    node.input[2] = name


#: ops whose output TensorRT fuses into the Add that reads it (the convolution takes the other input as its residual)
FUSIBLE_PRODUCERS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization"}


def float_fusible_add_inputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """Residual Adds keep a Q/DQ on their skip input only: the input a convolution computes reads the float value,
    so that TensorRT fuses convolution + Add (the skip input, quantized, is the convolution's residual input).

    ModelOpt's ``build_non_residual_input_map`` + ``remove_partial_input_qdq`` do the same; of two convolution
    branches the first stays float.
    """
    producers = {t: n for n in model.graph.node for t in n.output}
    for node in model.graph.node:
        if node.op_type != "Add" or len(node.input) != 2:
            continue
        sources = [_through_qdq(name, producers) for name in node.input]
        if not all(source is not None for source, _ in sources):
            continue
        fusible = [
            i for i, (source, _) in enumerate(sources) if source is not None and source.op_type in FUSIBLE_PRODUCERS
        ]
        if fusible:
            node.input[fusible[0]] = sources[fusible[0]][1]  # the float tensor before the Q/DQ pair
    return _drop_unused_qdq(model)


def _through_qdq(name: str, producers: dict[str, onnx.NodeProto]) -> tuple[onnx.NodeProto | None, str]:
    """For ``name`` = DequantizeLinear(QuantizeLinear(x)): x's producer and x; else (None, name)."""
    dq = producers.get(name)
    if dq is None or dq.op_type != "DequantizeLinear":
        return None, name
    q = producers.get(dq.input[0])
    if q is None or q.op_type != "QuantizeLinear":
        return None, name
    return producers.get(q.input[0]), q.input[0]


def _drop_unused_qdq(model: onnx.ModelProto) -> onnx.ModelProto:
    outputs = {o.name for o in model.graph.output}
    while True:
        used = {t for n in model.graph.node for t in n.input} | outputs
        unused = [n for n in model.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")
                  and not any(t in used for t in n.output)]  # fmt: skip
        if not unused:
            break
        for node in unused:
            model.graph.node.remove(node)
    used = {t for n in model.graph.node for t in n.input} | outputs
    kept = [i for i in model.graph.initializer if i.name in used]
    if len(kept) != len(model.graph.initializer):
        del model.graph.initializer[:]
        model.graph.initializer.extend(kept)
    return model


def qdq_summary(model: onnx.ModelProto) -> dict[str, Any]:
    """How many Q/DQ nodes and quantized ops the model holds."""
    from collections import Counter

    ops = Counter(n.op_type for n in model.graph.node)
    dq_inputs = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    quantized = Counter(
        n.op_type
        for n in model.graph.node
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear") and any(t in dq_inputs for t in n.input)
    )
    return {
        "quantize_linear": ops.get("QuantizeLinear", 0),
        "dequantize_linear": ops.get("DequantizeLinear", 0),
        "quantized_ops": dict(sorted(quantized.items())),
    }
