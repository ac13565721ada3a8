"""ONNX models for the TensorRT tests, built with onnx.helper, and a stand-in for TensorRT's enums."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(nodes, inputs, outputs, initializers=(), opset: int = 17, **domains: int) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "trt_test", inputs, outputs, initializer=list(initializers))
    imports = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d.replace("_", "."), v) for d, v in domains.items()
    ]
    model = helper.make_model(graph, opset_imports=imports, producer_name="pt2trt-tests")
    model.ir_version = 8
    return model


def conv_relu(batch: int | str = "batch", *, qdq: bool = False, opset: int = 17) -> onnx.ModelProto:
    """input[batch,3,16,16] -> Conv(4, 3x3, pad 1) -> Relu -> output; ``qdq`` quantizes the input (Q/DQ pair)."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b"),
    ]
    nodes = []
    conv_in = "input"
    if qdq:
        inits += [numpy_helper.from_array(np.array(0.05, np.float32), "scale"),
                  numpy_helper.from_array(np.array(0, np.int8), "zero")]  # fmt: skip
        nodes += [
            helper.make_node("QuantizeLinear", ["input", "scale", "zero"], ["q"], name="quant"),
            helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["dq"], name="dequant"),
        ]
        conv_in = "dq"
    nodes += [
        helper.make_node("Conv", [conv_in, "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["output"], name="relu"),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 16, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 4, 16, 16])],
        inits,
        opset=opset,
    )


def two_inputs() -> onnx.ModelProto:
    """x[batch,3,8,8] + mask[batch,1,8,8] (broadcast) -> y; one static input 'bias'[1,3,1,1]."""
    nodes = [
        helper.make_node("Mul", ["x", "mask"], ["m"], name="mul"),
        helper.make_node("Add", ["m", "bias"], ["y"], name="add"),
    ]
    return _model(
        nodes,
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 1, 8, 8]),
            helper.make_tensor_value_info("bias", TensorProto.FLOAT, [1, 3, 1, 1]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 8, 8])],
    )


def rejected_ops() -> onnx.ModelProto:
    """Ops the TensorRT parser rejects: Det and ConvInteger, plus a custom-domain op (needs a plugin)."""
    nodes = [
        helper.make_node("Det", ["m"], ["det"], name="det_node"),
        helper.make_node("ConvInteger", ["a", "w"], ["ci"], name="conv_integer_node"),
        helper.make_node("GridAnchors", ["m"], ["anchors"], name="plugin_node", domain="com.example"),
    ]
    return _model(
        nodes,
        [
            helper.make_tensor_value_info("m", TensorProto.FLOAT, [2, 3, 3]),
            helper.make_tensor_value_info("a", TensorProto.UINT8, [1, 1, 5, 5]),
            helper.make_tensor_value_info("w", TensorProto.UINT8, [1, 1, 3, 3]),
        ],
        [
            helper.make_tensor_value_info("det", TensorProto.FLOAT, [2]),
            helper.make_tensor_value_info("ci", TensorProto.INT32, [1, 1, 3, 3]),
            helper.make_tensor_value_info("anchors", TensorProto.FLOAT, None),
        ],
        com_example=1,
    )


def restricted_ops(opset: int = 17) -> onnx.ModelProto:
    """Supported ops used outside their documented restrictions.

    MaxPool with dilations 2 and its Indices output used; Resize with tf_crop_and_resize coordinates; Unsqueeze whose
    axes come from the input's (dynamic) shape; QuantizeLinear with a zero point of 3; a DOUBLE initializer cast to
    float.
    """
    inits = [
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
        numpy_helper.from_array(np.array(0.1, np.float32), "qscale"),
        numpy_helper.from_array(np.array(3, np.int8), "qzero"),
        numpy_helper.from_array(np.array([0], np.int64), "zero_index"),
        numpy_helper.from_array(np.array([1.5], np.float64), "double_const"),
    ]
    nodes = [
        helper.make_node("MaxPool", ["x"], ["pooled", "indices"], name="pool", kernel_shape=[2, 2], dilations=[2, 2]),
        helper.make_node(
            "Resize",
            ["x", "", "scales"],
            ["resized"],
            name="resize",
            coordinate_transformation_mode="tf_crop_and_resize",
        ),
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero_index"], ["axis"], name="gather", axis=0),
        helper.make_node("Sub", ["axis", "axis"], ["axes"], name="sub"),
        helper.make_node("Unsqueeze", ["x", "axes"], ["unsqueezed"], name="unsqueeze"),
        helper.make_node("QuantizeLinear", ["x", "qscale", "qzero"], ["quantized"], name="quantize"),
        helper.make_node("Cast", ["double_const"], ["as_float"], name="cast_double", to=TensorProto.FLOAT),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [
            helper.make_tensor_value_info("pooled", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("indices", TensorProto.INT64, None),
            helper.make_tensor_value_info("resized", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("unsqueezed", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("quantized", TensorProto.INT8, None),
            helper.make_tensor_value_info("as_float", TensorProto.FLOAT, None),
        ],
        inits,
        opset=opset,
    )


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def trt_enums():
    """The real ``tensorrt`` module when it imports here, else :func:`stand_in_trt`.

    TensorRT cannot be installed on these CPU machines (its libraries are only on NVIDIA's index), so the
    configuration tests check Polygraphy's objects against these names; on a TensorRT machine they use the
    real enums.
    """
    try:
        import tensorrt

        return tensorrt
    except ImportError:
        return stand_in_trt()


def stand_in_trt() -> SimpleNamespace:
    """A stand-in ``tensorrt`` holding only the enum names and base classes pt2trt uses.

    tests/test_trt_api.py checks each name against the real modules of every supported release.
    """

    class EntropyCalibrator2:  # the base class Polygraphy's Calibrator derives from
        def __init__(self) -> None:
            pass

    class ProgressMonitor:  # tensorrt.IProgressMonitor: the base a Python monitor derives from
        def __init__(self) -> None:
            pass

    return SimpleNamespace(
        __version__="stand-in",
        MemoryPoolType=SimpleNamespace(WORKSPACE="MemoryPoolType.WORKSPACE"),
        HardwareCompatibilityLevel=SimpleNamespace(
            NONE="HardwareCompatibilityLevel.NONE",
            AMPERE_PLUS="HardwareCompatibilityLevel.AMPERE_PLUS",
            SAME_COMPUTE_CAPABILITY="HardwareCompatibilityLevel.SAME_COMPUTE_CAPABILITY",
        ),
        IInt8EntropyCalibrator2=EntropyCalibrator2,
        IProgressMonitor=ProgressMonitor,
        ProfilingVerbosity=SimpleNamespace(
            DETAILED="ProfilingVerbosity.DETAILED", LAYER_NAMES_ONLY="ProfilingVerbosity.LAYER_NAMES_ONLY"
        ),
    )


def nonzero_model() -> onnx.ModelProto:
    """x[4,4] -> NonZero -> Transpose -> indices[N,2] (int64): an output whose shape only execution knows."""
    graph = helper.make_graph(
        [
            helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
            helper.make_node("Transpose", ["nz"], ["indices"], name="transpose", perm=[1, 0]),
        ],
        "nonzero",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])],
        [helper.make_tensor_value_info("indices", TensorProto.INT64, ["n", 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pt2trt-tests")
    model.ir_version = 8
    return model


def gpu_skip_reason() -> str | None:
    """Why the GPU tests cannot run here (None when ``tensorrt`` imports and a CUDA device is present)."""
    try:
        import tensorrt  # noqa: F401
    except ImportError as exc:
        return f"tensorrt does not import here ({exc}); install pt2trt[tensorrt] on a GPU machine"
    try:
        import torch
    except ImportError:
        return "torch is missing"
    from pt2trt.backends.tensorrt.versions import cuda_gpus

    if not cuda_gpus() or not torch.cuda.is_available():
        return "no CUDA device (the NVIDIA driver reports none, or torch has no CUDA)"
    return None


def plan_from_flags(
    onnx_path: Any,
    output: Any = None,
    *,
    force: bool = False,
    shapes: Sequence[str] = (),
    min_shapes: Sequence[str] = (),
    opt_shapes: Sequence[str] = (),
    max_shapes: Sequence[str] = (),
    **options: Any,
) -> Any:
    """``make_plan`` with trtexec's shape flags, as the CLI (and these tests) spell them."""
    from pt2trt.backends.tensorrt.plan import make_plan
    from pt2trt.settings import BuildSettings
    from pt2trt.settings.tensorrt import parse_profile_flags

    profiles = parse_profile_flags(shapes, min_shapes, opt_shapes, max_shapes)
    return make_plan(onnx_path, output, BuildSettings(profiles=profiles, **options), force=force)
