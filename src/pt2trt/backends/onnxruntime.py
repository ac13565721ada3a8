"""ONNX Runtime runner (CPU by default; CUDA / TensorRT execution providers when installed)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.backends import suffixes_of
from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.errors import Pt2trtError
from pt2trt.files import existing_file
from pt2trt.onnx.model import OnnxModel
from pt2trt.settings.runner import RunnerSettings
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import onnxruntime

PROVIDER_ALIASES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "dml": "DmlExecutionProvider",
}

_ORT_TYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(bfloat16)": "bfloat16", "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int16)": "int16",
    "tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(bool)": "bool",
}  # fmt: skip


def resolve_providers(providers: Sequence[str] | None) -> list[str]:
    """Map short names (cpu, cuda, tensorrt) to ONNX Runtime provider names and check they are available."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = [PROVIDER_ALIASES.get(p.lower(), p) for p in (providers or ["cpu"])]
    missing = [p for p in wanted if p not in available]
    if missing:
        raise Pt2trtError(
            f"ONNX Runtime {ort.__version__} here has no {', '.join(missing)}",
            f"Available: {', '.join(available)}; install onnxruntime-gpu for CUDA/TensorRT",
        )
    if "CPUExecutionProvider" not in wanted:
        wanted.append("CPUExecutionProvider")  # fallback for nodes the accelerator does not take
    return wanted


class OnnxRuntimeRunner(Runner):
    """Runs an ONNX model (a handle, a path or serialized bytes) with ``onnxruntime.InferenceSession``; a handle gives
    the session the bytes it read, so the file is not read again."""

    backend = "onnxruntime"
    suffixes = suffixes_of("onnxruntime")

    def __init__(
        self,
        model: OnnxModel | str | Path | bytes,
        *,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if isinstance(model, str | Path):
            model = OnnxModel(existing_file(model, "ONNX file"))
        self.model = model
        self.providers = list(providers) if providers else None
        self.threads = threads
        self.session: onnxruntime.InferenceSession | None = None
        self._outputs: list[str] = []

    def _activate(self) -> None:
        import onnxruntime as ort

        ort.set_default_logger_severity(4)  # ORT logs (even errors, which the exception repeats) stay off stderr
        options = ort.SessionOptions()
        options.log_severity_level = 4
        if self.threads:
            options.intra_op_num_threads = self.threads
        source = self.model if isinstance(self.model, bytes) else self.model.session_source()
        try:
            self.session = ort.InferenceSession(source, options, providers=resolve_providers(self.providers))
        except Exception as exc:  # ORT raises Fail/InvalidGraph/NotImplemented for models it cannot take
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            ir = re.search(r"Unsupported model IR version: (\d+), max supported IR version: (\d+)", text)
            if ir:
                raise Pt2trtError(
                    f"the model has ONNX IR version {ir[1]}; ONNX Runtime {ort.__version__} reads IR {ir[2]} or older",
                    f"Save it with ir_version = {ir[2]} (onnx.load, set model.ir_version, onnx.save; the ops stay the "
                    "same), or upgrade onnxruntime",
                ) from exc
            raise Pt2trtError(
                f"ONNX Runtime {ort.__version__} cannot load the model: {text}",
                "Run `pt2trt check` and `pt2trt inspect` on it to see what it needs",
            ) from exc
        self._outputs = [o.name for o in self.session.get_outputs()]

    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        assert self.session is not None
        try:
            values = self.session.run(self._outputs, dict(feed))
        except Exception as exc:
            if type(exc).__module__.startswith("onnxruntime"):
                raise Pt2trtError(
                    f"ONNX Runtime inference failed: {str(exc).strip().splitlines()[0]}",
                    "Check the input shapes and dtypes (`pt2trt inspect MODEL.onnx`) and the model (`pt2trt check`)",
                ) from exc
            raise
        return dict(zip(self._outputs, values))

    def _deactivate(self) -> None:
        self.session = None

    @classmethod
    def from_settings(
        cls, model: Any, settings: RunnerSettings, inputs: Sequence[InputSpec] | None = None
    ) -> OnnxRuntimeRunner:
        return cls(model, providers=settings.provider_list, threads=settings.threads)

    def prepared_call(self, feed: Mapping[str, np.ndarray]) -> Callable[[], object]:
        """``session.run(None, feed)``: exactly a plain ONNX Runtime loop."""
        assert self.session is not None
        return functools.partial(self.session.run, None, dict(feed))

    def timing_settings(self) -> dict[str, Any]:
        import onnxruntime as ort

        assert self.session is not None
        return {"threads": self.threads, "onnxruntime": ort.__version__, "providers": self.session.get_providers()}

    def input_metadata(self) -> list[TensorMeta]:
        assert self.session is not None, "activate() first"
        return [TensorMeta(i.name, _ORT_TYPES.get(i.type, i.type), tuple(i.shape)) for i in self.session.get_inputs()]

    def output_names(self) -> list[str]:
        return list(self._outputs)
