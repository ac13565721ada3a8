"""What a model file offers Triton: its kind, inputs and outputs, and (for an engine) its profile and TensorRT.

MODEL is an ``.onnx`` file, a TensorRT engine (``.engine``/``.plan``, with pt2trt's ``.engine.json`` beside it) or
an OpenVINO IR (``.xml`` with its ``.bin``). Dynamic dims are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pt2trt.backends import ENGINE_SUFFIXES
from pt2trt.errors import Pt2trtError
from pt2trt.files import existing_file

#: kind -> (Triton platform or backend field, value, file name in the version folder)
KINDS: dict[str, tuple[str, str, str]] = {
    "onnx": ("platform", "onnxruntime_onnx", "model.onnx"),
    "tensorrt": ("platform", "tensorrt_plan", "model.plan"),
    "openvino": ("backend", "openvino", "model.xml"),
    "python": ("backend", "python", "model.py"),
}


@dataclass(frozen=True)
class Tensor:
    """One input or output: name, numpy dtype name, dims (``None`` for a dynamic dim)."""

    name: str
    dtype: str
    dims: tuple[int | None, ...]


@dataclass
class ModelIO:
    """A model's I/O as Triton will see it."""

    path: Path
    kind: str
    inputs: list[Tensor]
    outputs: list[Tensor]
    profile_max_batch: int | None = None  # engine: the largest batch its profiles allow
    tensorrt_version: str | None = None  # engine: the TensorRT it was built with
    metadata: dict[str, str] = field(default_factory=dict)  # pt2trt.* records (preprocessing, task...)

    @property
    def dynamic_batch(self) -> bool:
        """Every input and output has a dynamic first axis (the batch Triton may fill)."""
        tensors = self.inputs + self.outputs
        return bool(tensors) and all(t.dims and t.dims[0] is None for t in tensors)

    def tensor(self, name: str) -> Tensor | None:
        return next((t for t in self.inputs + self.outputs if t.name == name), None)


def model_kind(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix in ENGINE_SUFFIXES:
        return "tensorrt"
    if suffix == ".xml":
        return "openvino"
    raise Pt2trtError(
        f"{path} is not a model Triton serves from pt2trt (an .onnx, a TensorRT engine or an OpenVINO .xml)",
        "Export it first: pt2trt export MODEL -o model.onnx",
    )


def read_model_io(path: str | Path) -> ModelIO:
    """The I/O of an ONNX file, an engine (from its metadata file) or an OpenVINO IR."""
    p = existing_file(path, "model")
    kind = model_kind(p)
    if kind == "onnx":
        return _onnx_io(p)
    if kind == "tensorrt":
        return _engine_io(p)
    return _openvino_io(p)


def _dims(values: list[object]) -> tuple[int | None, ...]:
    return tuple(v if isinstance(v, int) and v > 0 else None for v in values)


def _onnx_io(path: Path) -> ModelIO:
    from pt2trt.onnx.dtypes import dtype_name
    from pt2trt.onnx.load import load_onnx
    from pt2trt.onnx.metadata import read_metadata

    model = load_onnx(path, load_external_data=False)
    initializers = {i.name for i in model.graph.initializer}

    def tensor(value: object) -> Tensor:
        ttype = value.type.tensor_type  # type: ignore[attr-defined]
        dims = [d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim]
        return Tensor(value.name, dtype_name(ttype.elem_type), _dims(dims))  # type: ignore[attr-defined]

    inputs = [tensor(v) for v in model.graph.input if v.name not in initializers]
    return ModelIO(path, "onnx", inputs, [tensor(v) for v in model.graph.output], metadata=read_metadata(model))


def _engine_io(path: Path) -> ModelIO:
    from pt2trt.backends.tensorrt.metadata import read_metadata, sidecar_path

    meta = read_metadata(path)
    if meta is None:
        raise Pt2trtError(
            f"engine {path} has no pt2trt metadata ({sidecar_path(path).name}): its I/O, profiles and TensorRT "
            "version cannot be checked",
            "Build it with pt2trt build, which writes the metadata beside the engine",
        )

    def tensor(d: dict[str, object]) -> Tensor:
        return Tensor(str(d["name"]), str(d["dtype"]), _dims(list(d["shape"])))  # type: ignore[arg-type]

    maxima = [int(shapes["max"][0]) for p in meta.profiles for shapes in p.values() if shapes.get("max")]
    return ModelIO(
        path,
        "tensorrt",
        [tensor(d) for d in meta.inputs],
        [tensor(d) for d in meta.outputs],
        profile_max_batch=min(maxima) if maxima else None,
        tensorrt_version=meta.tensorrt_version,
        metadata=dict(meta.onnx_metadata),
    )


def _openvino_io(path: Path) -> ModelIO:
    from pt2trt.backends.openvino.runner import _OV_TYPES, import_openvino

    ov = import_openvino()
    if not path.with_suffix(".bin").is_file():
        raise Pt2trtError(
            f"OpenVINO IR {path} has no weights file {path.with_suffix('.bin').name} beside it",
            "Keep the .bin beside the .xml (export both with `pt2trt export-openvino`)",
        )
    model = ov.Core().read_model(str(path))

    def tensor(port: object, index: int, kind: str) -> Tensor:
        shape = port.get_partial_shape()  # type: ignore[attr-defined]
        dims = [d.get_length() if d.is_static else None for d in shape]
        dtype = _OV_TYPES.get(port.get_element_type().get_type_name(), "?")  # type: ignore[attr-defined]
        try:
            name = port.get_any_name()  # type: ignore[attr-defined]
        except RuntimeError:
            name = f"{kind}_{index}"
        return Tensor(name, dtype, _dims(dims))

    inputs = [tensor(p, i, "input") for i, p in enumerate(model.inputs)]
    outputs = [tensor(p, i, "output") for i, p in enumerate(model.outputs)]
    metadata: dict[str, str] = {}
    if model.has_rt_info(["pt2trt", "preprocessing"]):
        metadata["pt2trt.preprocessing"] = model.get_rt_info(["pt2trt", "preprocessing"]).astype(str)
    return ModelIO(path, "openvino", inputs, outputs, metadata=metadata)
