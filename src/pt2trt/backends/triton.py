"""Triton Inference Server runner: the same ``infer(feed)`` over HTTP (``http://``) or gRPC (``grpc://``).

``model`` is the name the server serves, or a local model file whose stem is that name (its recorded preprocessing
is then used by ``predict``); ``model_name`` overrides the name. tritonclient is optional:
``pip install "pt2trt[triton]"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.onnx.model import OnnxModel
from pt2trt.settings.runner import RunnerSettings
from pt2trt.shapes import InputSpec

DEFAULT_URL = "http://127.0.0.1:8000"


def import_tritonclient(protocol: str) -> Any:
    try:
        if protocol == "grpc":
            import tritonclient.grpc as client
        else:
            import tritonclient.http as client
    except ImportError as exc:
        raise Pt2trtError(
            f"the Triton backend needs tritonclient[{protocol}]", 'Install it with: pip install "pt2trt[triton]"'
        ) from exc
    return client


def parse_url(url: str) -> tuple[str, str, bool]:
    """``http://host:8000`` -> ("http", "host:8000", ssl); ``grpc://host:8001`` -> ("grpc", ...)."""
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https", "grpc", "grpcs") or not parsed.netloc:
        raise UsageError(f"--url '{url}' is not a Triton address", "e.g. http://127.0.0.1:8000 or grpc://host:8001")
    protocol = "grpc" if parsed.scheme.startswith("grpc") else "http"
    return protocol, parsed.netloc, parsed.scheme in ("https", "grpcs")


class TritonRunner(Runner):
    """Sends each feed to a Triton server as one inference request."""

    backend = "triton"
    suffixes = ()  # a server, not a file type: chosen with --backend triton

    def __init__(
        self,
        model: str | Path,
        *,
        url: str | None = None,
        model_name: str | None = None,
        model_version: str = "",
        timeout: float = 60.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.url = url or DEFAULT_URL
        self.protocol, self.address, self.ssl = parse_url(self.url)
        text = str(model.path or model.name) if isinstance(model, OnnxModel) else str(model)
        self.model_name = model_name or (Path(text).stem if Path(text).suffix else text)
        self.model_version = model_version
        self.timeout = timeout
        self.client: Any = None
        self._module: Any = None
        self._inputs: list[TensorMeta] = []
        self._outputs: list[str] = []

    @classmethod
    def from_settings(
        cls, model: Any, settings: RunnerSettings, inputs: Sequence[InputSpec] | None = None
    ) -> TritonRunner:
        return cls(model, url=settings.url, model_name=settings.model_name)

    def timing_settings(self) -> dict[str, Any]:
        return {"url": self.url, "model_name": self.model_name}

    def _activate(self) -> None:
        module = import_tritonclient(self.protocol)
        from tritonclient.utils import InferenceServerException

        kwargs: dict[str, Any] = {"ssl": self.ssl}
        if self.protocol == "http":
            kwargs.update(connection_timeout=self.timeout, network_timeout=self.timeout)
        try:
            client = module.InferenceServerClient(self.address, **kwargs)
            ready = client.is_model_ready(self.model_name, self.model_version)
        except (InferenceServerException, OSError) as exc:
            raise Pt2trtError(
                f"no Triton server answers at {self.url} ({_first_line(exc)})", "Start it, or check --url"
            ) from exc
        if not ready:
            raise Pt2trtError(
                f"Triton at {self.url} has no ready model '{self.model_name}'",
                "Check --model (the name in the repository) and the server log",
            )
        if self.protocol == "grpc":
            meta = client.get_model_metadata(self.model_name, self.model_version, as_json=True)
        else:
            meta = client.get_model_metadata(self.model_name, self.model_version)
        self._inputs = [_meta(t) for t in meta["inputs"]]
        self._outputs = [t["name"] for t in meta["outputs"]]
        self.client, self._module = client, module

    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        from tritonclient.utils import InferenceServerException, np_to_triton_dtype

        inputs = []
        for key, value in feed.items():
            array = np.ascontiguousarray(value)
            entry = self._module.InferInput(key, list(array.shape), np_to_triton_dtype(array.dtype))
            entry.set_data_from_numpy(array)
            inputs.append(entry)
        outputs = [self._module.InferRequestedOutput(n) for n in self._outputs]
        try:
            result = self.client.infer(self.model_name, inputs, model_version=self.model_version, outputs=outputs)
        except InferenceServerException as exc:
            raise Pt2trtError(
                f"Triton inference on '{self.model_name}' failed: {_first_line(exc)}",
                "Check the server log and the inputs against the model's config.pbtxt (`pt2trt triton --check`)",
            ) from exc
        return {n: result.as_numpy(n) for n in self._outputs}

    def _deactivate(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    def input_metadata(self) -> list[TensorMeta]:
        return list(self._inputs)

    def output_names(self) -> list[str]:
        return list(self._outputs)


def _meta(tensor: dict[str, Any]) -> TensorMeta:
    from tritonclient.utils import triton_to_np_dtype

    dtype = triton_to_np_dtype(tensor["datatype"])
    name = np.dtype(dtype).name if dtype is not None and dtype is not np.object_ else str(tensor["datatype"]).lower()
    shape = tuple(None if int(d) < 0 else int(d) for d in tensor["shape"])
    return TensorMeta(tensor["name"], name, shape)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
