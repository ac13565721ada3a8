"""OpenVINO runner: an ``.onnx`` file or an OpenVINO IR (``.xml`` + ``.bin``) on a CPU (or another OpenVINO device).

OpenVINO is optional: ``pip install "pt2trt[openvino]"``. Inference runs in float32 by default: on CPUs with bf16
support OpenVINO would otherwise silently compute in bfloat16, which is a precision change, not a conversion check
(``precision=None`` keeps OpenVINO's own choice).
"""

from __future__ import annotations

import functools
import importlib.util
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt.backends import suffixes_of
from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.backends.timing import Loop, Progress, Timings, warm_up
from pt2trt.errors import Pt2trtError
from pt2trt.files import existing_file
from pt2trt.onnx.model import OnnxModel
from pt2trt.settings.runner import RunnerSettings
from pt2trt.shapes import InputSpec

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
    """Compiles the model for ``device`` (``CPU`` by default) and runs it with an infer request.

    ``mode`` is OpenVINO's performance hint: ``latency`` (one synchronous request) or ``throughput`` (timed with the
    device's optimal number of asynchronous requests in flight, see :meth:`time`); ``threads`` caps its inference
    threads.
    """

    backend = "openvino"
    suffixes = suffixes_of("openvino")
    modes = ("latency", "throughput")

    def __init__(
        self,
        model: OnnxModel | str | Path,
        *,
        device: str = "CPU",
        precision: str | None = "f32",
        threads: int | None = None,
        mode: str = "latency",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.handle = model if isinstance(model, OnnxModel) else None
        path = model.path if isinstance(model, OnnxModel) else model
        if path is None:
            raise Pt2trtError("OpenVINO runs models from files", "Save the model first, then run the file")
        self.model = existing_file(path, "model file")
        self.device = device
        self.precision = precision
        self.threads = threads
        if mode not in self.modes:
            raise Pt2trtError(f"unknown OpenVINO mode '{mode}'", f"Use one of: {', '.join(self.modes)}")
        self.mode = mode
        self.requests = 1
        self.compiled: Any = None
        self.request: Any = None
        self._outputs: list[str] = []

    @classmethod
    def from_settings(
        cls, model: Any, settings: RunnerSettings, inputs: Sequence[InputSpec] | None = None
    ) -> OpenVinoRunner:
        return cls(model, threads=settings.threads, mode=settings.mode)

    @classmethod
    def unavailable(cls) -> str | None:
        if importlib.util.find_spec("openvino") is None:
            return 'openvino is not installed (pip install "pt2trt[openvino]")'
        return None

    def _activate(self) -> None:
        ov = import_openvino()
        core = ov.Core()
        if self.device.split(".")[0] not in {d.split(".")[0] for d in core.available_devices}:
            raise Pt2trtError(
                f"OpenVINO {ov.__version__} has no device {self.device}",
                f"Available: {', '.join(core.available_devices)}",
            )
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": self.precision} if self.precision else {}
        if self.mode != "latency" or self.threads:
            config["PERFORMANCE_HINT"] = self.mode.upper()
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = self.threads
        try:
            self.compiled = core.compile_model(core.read_model(str(self.model)), self.device, config)
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses for models it cannot take
            raise Pt2trtError(
                f"OpenVINO {ov.__version__} cannot load {self.model}: {load_error_cause(str(exc), self.model)}",
                "Run it with another backend (--backend onnxruntime), or change the failing node in the model",
            ) from exc
        self.request = self.compiled.create_infer_request()
        if self.mode == "throughput":
            self.requests = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        onnx_names = self.handle.output_names if self.handle is not None else _onnx_output_names(self.model)
        self._outputs = [_name(port, i, preferred=onnx_names) for i, port in enumerate(self.compiled.outputs)]

    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            results = self.request.infer({k: np.ascontiguousarray(v) for k, v in feed.items()})
        except Exception as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise Pt2trtError(
                f"OpenVINO inference failed: {text}",
                "Check the input shapes and dtypes against `pt2trt inspect MODEL.onnx`, or try --backend onnxruntime",
            ) from exc
        values = list(results.values())
        return {name: np.array(value, copy=True) for name, value in zip(self._outputs, values)}

    def _deactivate(self) -> None:
        self.request = None
        self.compiled = None

    def prepared_call(self, feed: Mapping[str, np.ndarray]) -> Callable[[], object]:
        return functools.partial(self.request.infer, dict(feed), share_inputs=True)

    def time(self, feed: Mapping[str, np.ndarray], loop: Loop, progress: Progress | None = None) -> Timings:
        """``latency``: synchronous calls. ``throughput``: the device's optimal number of asynchronous requests kept
        busy, round robin; each latency is OpenVINO's own measurement of that inference (``InferRequest.latency``).
        No Python callback runs on OpenVINO's threads: callbacks that need the GIL while a request is destroyed can
        deadlock (openvinotoolkit/openvino#37073)."""
        if self.mode == "latency":
            return super().time(feed, loop, progress)
        return time_async_requests(self.compiled, self.prepared_call(feed), dict(feed), self.requests, loop, progress)

    def timing_settings(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "mode": self.mode,
            "openvino": import_openvino().__version__,
            "device": self.device,
            "precision": self.precision or "openvino's choice",
            "performance_hint": self.mode.upper(),
            "infer_requests": self.requests,
        }

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


# Lines of OpenVINO's error text that say where in OpenVINO's C++ it was raised, not what failed
_NOISE = re.compile(
    r"^(Exception from \S+:\d+:|Check '.*' failed at \S+:\d+:|FrontEnd API failed with \w+:|Summary:|"
    r"Model wasn't fully converted\..*|While validating node '.*' with friendly_name '.*':)$"
)
_FAILED_OPS = re.compile(r"(No conversion rule found for operations|Conversion is failed for):\s*(.+)")


def load_error_cause(text: str, model: Path | None = None) -> str:
    """OpenVINO's multi-line load error as one line: the failing op, its node names in the ONNX file, and the
    innermost message (the file/line boilerplate of OpenVINO's C++ dropped)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    failed: list[tuple[str, str]] = []
    detail: list[str] = []
    for line in lines:
        match = _FAILED_OPS.search(line)
        if match:
            verb = "no conversion rule for" if match.group(1).startswith("No") else "conversion failed for"
            failed += [(verb, op.strip()) for op in match.group(2).split(",") if op.strip()]
            continue
        line = re.sub(r"^--\s*", "", line)
        node = re.match(r"While validating ONNX node '(.*?)':", line)
        if node:
            detail.append(f"node {node.group(1)}")
            continue
        if _NOISE.match(line) or re.match(r"^\S+-\d+ with a message:$", line):
            continue
        detail.append(line)
    if not failed:
        return " ".join(detail)[:500] or "unknown error"
    nodes = _nodes_of(model, [op for _, op in failed]) if model is not None else {}
    parts = []
    for verb, op in dict.fromkeys(failed):
        names = nodes.get(op, [])
        where = f" (node{'s' if len(names) > 1 else ''} {', '.join(names[:3])}" if names else ""
        where += f", ... {len(names)} in all)" if len(names) > 3 else (")" if names else "")
        parts.append(f"{verb} {op}{where}")
    cause = "; ".join(parts)
    inner = [d for d in detail if not d.startswith("node ")]
    return f"{cause}: {inner[-1]}"[:600] if inner else cause


def _nodes_of(model: Path, ops: list[str]) -> dict[str, list[str]]:
    """The ONNX nodes (Loop/If bodies too, as ``LOOP > NODE``) of each op OpenVINO names (``Loop-16``, ``dom.Op``)."""
    if model.suffix.lower() != ".onnx":
        return {}
    from onnx import helper

    from pt2trt.onnx.load import load_onnx

    wanted: dict[tuple[str, str], str] = {}
    for op in ops:
        base = re.sub(r"-\d+$", "", op)
        domain, _, op_type = base.rpartition(".")
        wanted[(domain if domain != "ai.onnx" else "", op_type)] = op
    found: dict[str, list[str]] = {}
    stack = [("", n) for n in load_onnx(model, load_external_data=False).graph.node]
    while stack:
        prefix, node = stack.pop(0)
        label = prefix + (node.name or f"<{node.op_type} -> {node.output[0] if node.output else ''}>")
        key = (node.domain if node.domain != "ai.onnx" else "", node.op_type)
        if key in wanted:
            found.setdefault(wanted[key], []).append(label)
        for attr in node.attribute:
            value = helper.get_attribute_value(attr)
            for sub in value if isinstance(value, list) else [value]:
                if hasattr(sub, "node"):
                    stack += [(f"{label} > ", n) for n in sub.node]
    return found


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


def time_async_requests(
    compiled: Any, call: Callable[[], object], feed: dict[str, np.ndarray], count: int, loop: Loop,
    progress: Progress | None,
) -> Timings:  # fmt: skip
    """Keep ``count`` asynchronous infer requests of ``compiled`` busy, round robin, for ``loop``; each latency is
    OpenVINO's measurement of one inference, the wall time covers them all (throughput = inferences / wall)."""
    clock = time.perf_counter
    requests = [compiled.create_infer_request() for _ in range(count)]
    warmup_calls = warm_up(call, loop.warmup_ms)
    latencies: list[float] = []
    busy = [False] * len(requests)
    begin = clock()
    end = begin + loop.duration
    started = 0
    while True:
        slot = started % len(requests)
        if busy[slot]:
            requests[slot].wait()
            latencies.append(requests[slot].latency / 1e3)
        requests[slot].start_async(feed, share_inputs=True)
        busy[slot] = True
        started += 1
        now = clock()
        if started >= loop.iterations and now >= end:
            break
        if progress is not None and started % 8 == 0:
            progress(min(1.0, max(started / loop.iterations, (now - begin) / loop.duration if loop.duration else 1)))
    for slot, request in enumerate(requests):
        if busy[slot]:
            request.wait()
            latencies.append(request.latency / 1e3)
    wall = clock() - begin
    if progress is not None:
        progress(1.0)
    return Timings(latencies, wall, warmup_calls)
