"""OpenVINO runner: an ``.onnx`` file or an OpenVINO IR (``.xml`` + ``.bin``) on a CPU (or another OpenVINO device).

OpenVINO is optional: ``pip install "pt2trt[openvino]"``. Inference runs in float32 by default: on CPUs with bf16
support OpenVINO would otherwise silently compute in bfloat16, which is a precision change, not a conversion check
(``precision=None`` keeps OpenVINO's own choice).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt.backends import suffixes_of
from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.errors import Pt2trtError
from pt2trt.files import existing_file

_OV_TYPES = {
    "f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64", "i64": "int64", "i32": "int32",
    "i16": "int16", "i8": "int8", "u8": "uint8", "boolean": "bool",
}  # fmt: skip


def import_openvino() -> Any:
    try:
        import openvino
    except ImportError as exc:
        raise Pt2trtError(
            "the OpenVINO backend needs the openvino package", 'Install it with: pip install "pt2trt[openvino]"'
        ) from exc
    return openvino


class OpenVinoRunner(Runner):
    """Compiles the model for ``device`` (``CPU`` by default) and runs it with an infer request."""

    backend = "openvino"
    suffixes = suffixes_of("openvino")

    def __init__(
        self, model: str | Path, *, device: str = "CPU", precision: str | None = "f32", name: str | None = None
    ) -> None:
        super().__init__(name)
        self.model = existing_file(model, "model file")
        self.device = device
        self.precision = precision
        self.compiled: Any = None
        self.request: Any = None
        self._outputs: list[str] = []

    def _activate(self) -> None:
        ov = import_openvino()
        core = ov.Core()
        if self.device.split(".")[0] not in {d.split(".")[0] for d in core.available_devices}:
            raise Pt2trtError(
                f"OpenVINO {ov.__version__} has no device {self.device}",
                f"Available: {', '.join(core.available_devices)}",
            )
        try:
            config = {"INFERENCE_PRECISION_HINT": self.precision} if self.precision else {}
            self.compiled = core.compile_model(core.read_model(str(self.model)), self.device, config)
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses for models it cannot take
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise Pt2trtError(f"OpenVINO {ov.__version__} cannot load {self.model}: {text}") from exc
        self.request = self.compiled.create_infer_request()
        onnx_names = _onnx_output_names(self.model)
        self._outputs = [_name(port, i, preferred=onnx_names) for i, port in enumerate(self.compiled.outputs)]

    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            results = self.request.infer({k: np.ascontiguousarray(v) for k, v in feed.items()})
        except Exception as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise Pt2trtError(f"OpenVINO inference failed: {text}") from exc
        values = list(results.values())
        return {name: np.array(value, copy=True) for name, value in zip(self._outputs, values)}

    def _deactivate(self) -> None:
        self.request = None
        self.compiled = None

    def input_metadata(self) -> list[TensorMeta]:
        assert self.compiled is not None, "activate() first"
        metas = []
        for i, port in enumerate(self.compiled.inputs):
            shape = tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
            dtype = _OV_TYPES.get(port.get_element_type().get_type_name(), str(port.get_element_type()))
            metas.append(TensorMeta(_name(port, i, "input"), dtype, shape))
        return metas

    def output_names(self) -> list[str]:
        return list(self._outputs)


def _name(port: Any, index: int, kind: str = "output", preferred: list[str] | None = None) -> str:
    """The tensor's name; OpenVINO keeps several per tensor, so the ONNX graph's own name is taken when known."""
    names = port.get_names()
    if preferred and index < len(preferred) and preferred[index] in names:
        return preferred[index]
    try:
        return port.get_any_name()
    except RuntimeError:  # a tensor without names
        return f"{kind}_{index}"


def _onnx_output_names(path: Path) -> list[str]:
    if path.suffix.lower() != ".onnx":
        return []
    from pt2trt.onnx.load import load_onnx

    return [o.name for o in load_onnx(path, load_external_data=False).graph.output]
