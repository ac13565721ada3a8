"""``config.pbtxt`` for a model, built as Triton's own ``ModelConfig`` protobuf (``tritonclient``'s schema).

The rules Triton applies when it loads a repository, applied here before anything ships: dims leave out the batch
axis when ``max_batch_size > 0``, ``-1`` marks other dynamic axes, dtypes are Triton's ``TYPE_*`` names, and an
engine's batch cannot exceed its optimization profile.
"""

from __future__ import annotations

from typing import Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.serve.model_io import KINDS, ModelIO, Tensor
from pt2trt.settings.serving import INSTANCE_KINDS, ServeSettings

DEFAULT_MAX_BATCH = 8

#: numpy dtype name -> Triton data type
TRITON_TYPES: dict[str, str] = {
    "bool": "TYPE_BOOL", "uint8": "TYPE_UINT8", "uint16": "TYPE_UINT16", "uint32": "TYPE_UINT32",
    "uint64": "TYPE_UINT64", "int8": "TYPE_INT8", "int16": "TYPE_INT16", "int32": "TYPE_INT32", "int64": "TYPE_INT64",
    "float16": "TYPE_FP16", "float32": "TYPE_FP32", "float64": "TYPE_FP64", "bfloat16": "TYPE_BF16",
    "object": "TYPE_STRING", "bytes": "TYPE_STRING",
}  # fmt: skip
NUMPY_TYPES = {v: k for k, v in TRITON_TYPES.items() if k not in ("object",)} | {"TYPE_STRING": "object"}

_COMMON = {"TYPE_BOOL", "TYPE_UINT8", "TYPE_INT8", "TYPE_INT32", "TYPE_INT64", "TYPE_FP16", "TYPE_FP32"}
_WIDE = _COMMON | {"TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64", "TYPE_INT16", "TYPE_FP64"}
#: what each backend can take as an input/output type (Triton's backends' type conversion tables)
SERVABLE: dict[str, set[str]] = {
    "onnx": _WIDE | {"TYPE_STRING"},
    "tensorrt": _COMMON | {"TYPE_BF16"},
    "openvino": _WIDE | {"TYPE_BF16"},
    "python": set(NUMPY_TYPES),
}


def model_config_pb2() -> Any:
    try:
        from tritonclient.grpc import model_config_pb2
    except ImportError as exc:
        raise Pt2trtError(
            "Triton model configs need the tritonclient package (its schema)",
            'Install it with: pip install "pt2trt[triton]"',
        ) from exc
    return model_config_pb2


def triton_type(dtype: str) -> str:
    if dtype not in TRITON_TYPES:
        raise Pt2trtError(f"Triton has no data type for {dtype} tensors", "Cast that tensor (pt2trt edit) first")
    return TRITON_TYPES[dtype]


def max_batch_size(io: ModelIO, options: ServeSettings) -> int:
    """``max_batch_size``: 0 for a static batch; else the one asked (default 8), within an engine's profile."""
    if not io.dynamic_batch:
        if options.max_batch:
            static = io.inputs[0].dims[0] if io.inputs and io.inputs[0].dims else "none"
            raise UsageError(
                f"{io.path.name} has a static batch ({static}), so --max-batch {options.max_batch} cannot be served",
                "Export with --dynamic-batch (or leave --max-batch out to serve it as it is)",
            )
        return 0
    wanted = options.max_batch if options.max_batch is not None else DEFAULT_MAX_BATCH
    if wanted < 1:
        raise UsageError(
            f"--max-batch must be at least 1, got {wanted}", "Pass --max-batch 1 or more (or 0 for no batching)"
        )
    if io.profile_max_batch is not None:
        if options.max_batch is None:
            return min(wanted, io.profile_max_batch)
        if wanted > io.profile_max_batch:
            raise Pt2trtError(
                f"--max-batch {wanted} is larger than the engine's optimization profile allows "
                f"({io.profile_max_batch})",
                f"Use --max-batch {io.profile_max_batch} or less, or rebuild the engine with a larger max batch",
            )
    return wanted


def tensor_config(message: Any, tensor: Tensor, batching: bool, dtype: str | None = None) -> None:
    message.name = tensor.name
    message.data_type = model_config_pb2().DataType.Value(dtype or triton_type(tensor.dtype))
    dims = tensor.dims[1:] if batching else tensor.dims
    message.dims.extend([-1 if d is None else d for d in dims] or [1])


def core_config(io: ModelIO, options: ServeSettings, *, parameters: dict[str, str] | None = None) -> Any:
    """The ``ModelConfig`` of the model itself (``options.core == "python"``: ONNX Runtime in a Python model)."""
    pb = model_config_pb2()
    config = pb.ModelConfig()
    config.name = options.name or io.path.stem
    kind = "python" if options.core == "python" else io.kind
    if kind == "python" and io.kind != "onnx":
        raise UsageError("--core python serves ONNX files only (with ONNX Runtime)", "Give the .onnx file")
    field, value, filename = KINDS[kind]
    setattr(config, field, value)
    if kind == "openvino":
        config.default_model_filename = filename
    batch = max_batch_size(io, options)
    config.max_batch_size = batch
    for tensor in io.inputs:
        tensor_config(config.input.add(), tensor, batch > 0)
    for tensor in io.outputs:
        tensor_config(config.output.add(), tensor, batch > 0)
    if options.dynamic_batching:
        if batch == 0:
            raise UsageError("--dynamic-batching needs a model with a dynamic batch", "Export with --dynamic-batch")
        config.dynamic_batching.preferred_batch_size.extend(options.preferred)
        config.dynamic_batching.max_queue_delay_microseconds = options.max_queue_delay_us
    elif options.preferred or options.max_queue_delay_us:
        raise UsageError("--preferred and --max-queue-delay-us set up dynamic batching", "Add --dynamic-batching")
    if options.kind not in INSTANCE_KINDS:
        raise UsageError(f"--kind must be gpu or cpu, got {options.kind}", "Pass --kind gpu or --kind cpu")
    if options.instances < 1:
        raise UsageError(f"--instances must be at least 1, got {options.instances}", "Pass --instances 1 or more")
    group = config.instance_group.add()
    group.count = options.instances
    group.kind = pb.ModelInstanceGroup.Kind.Value("KIND_GPU" if options.kind == "gpu" else "KIND_CPU")
    if options.tensorrt_accelerator:
        if io.kind != "onnx" or options.kind != "gpu" or kind == "python":
            raise UsageError("--tensorrt-accelerator is for an ONNX model on GPU instances", "Use --kind gpu")
        accelerator = config.optimization.execution_accelerators.gpu_execution_accelerator.add()
        accelerator.name = "tensorrt"
    for key, text in (parameters or {}).items():
        config.parameters[key].string_value = text
    return config


def to_text(config: Any) -> str:
    from google.protobuf import text_format

    return text_format.MessageToString(config)


def parse_config(text: str, where: str = "config.pbtxt") -> Any:
    """``text`` parsed against Triton's ``ModelConfig`` schema; a typo or unknown field is a one-line error."""
    from google.protobuf import text_format

    config = model_config_pb2().ModelConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        raise Pt2trtError(
            f"{where} does not follow Triton's model config schema: {exc}",
            "Fix the field named above (see Triton's model_config.proto), or regenerate it with `pt2trt triton`",
        ) from exc
    return config


def dtype_name(config_type: int) -> str:
    """``TYPE_FP32`` (as the enum number) -> ``TYPE_FP32``."""
    return str(model_config_pb2().DataType.Name(config_type))
