"""TensorRT runner: a serialized engine on a CUDA GPU, through TensorRT's tensor-name API.

Inputs and outputs are addressed by name (``set_input_shape``, ``set_tensor_address``, ``execute_async_v3``), the
API of TensorRT 10 and 11 that 8.5+ already has, so one code path serves 8.6, 10 and 11. Shapes are set per call
and checked against the engine's optimization profile first. Device memory is PyTorch's: ``infer`` takes and
returns numpy arrays; ``infer_torch`` takes CUDA tensors and uses them in place (no copies) when their device,
dtype and layout already fit.

Outputs whose shape depends on the data (``NonZero``, ``NonMaxSuppression``, TensorRT's INMSLayer: detectors) get
an :class:`OutputBuffers` allocator (``IOutputAllocator``, ``context.set_output_allocator``, TensorRT >= 8.5): TensorRT
asks it for memory once it knows the size and tells it the shape; buffers are kept and reused across calls while they
are large enough. Every output whose engine shape has a dynamic dimension goes through it.

Before TensorRT sees the engine, its metadata file (``MODEL.engine.json``) is checked against the installed
TensorRT and the GPU (:func:`pt2trt.backends.tensorrt.metadata.check_engine`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.backends import ENGINE_SUFFIXES as ENGINE_SUFFIXES  # re-exported: defined once, in the registry
from pt2trt.backends import is_engine_file as is_engine_file
from pt2trt.backends import suffixes_of
from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.backends.tensorrt.outputs import OutputBuffers as OutputBuffers
from pt2trt.backends.tensorrt.outputs import has_dynamic_dims as has_dynamic_dims
from pt2trt.backends.tensorrt.outputs import make_output_allocator as make_output_allocator
from pt2trt.backends.tensorrt.outputs import view_output as view_output
from pt2trt.backends.tensorrt.tensors import TRT_DTYPES as TRT_DTYPES
from pt2trt.backends.tensorrt.tensors import EngineTensor as EngineTensor
from pt2trt.backends.tensorrt.tensors import check_shape as check_shape
from pt2trt.backends.tensorrt.tensors import dtype_name as dtype_name
from pt2trt.backends.timing import Loop, Progress, Timings
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import existing_file
from pt2trt.settings.runner import RunnerSettings
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import torch

    from pt2trt.backends.tensorrt.metadata import EngineMetadata


def deserialize(runtime: Any, data: bytes, path: str | Path) -> Any:
    """``runtime.deserialize_cuda_engine`` with a one-line error for a corrupt or foreign engine."""
    engine = None
    try:
        engine = runtime.deserialize_cuda_engine(data)
    except Exception:  # TensorRT raises or returns None depending on the version
        engine = None
    if engine is None:
        raise Pt2trtError(
            f"TensorRT cannot load {path}: the file is corrupt, not a TensorRT engine, or from another TensorRT "
            "version or GPU",
            "Rebuild it with `pt2trt build MODEL.onnx -o ENGINE --force`",
        )
    return engine


class TensorRTRunner(Runner):
    """Runs a TensorRT engine file (or serialized engine bytes) on one CUDA device."""

    backend = "tensorrt"
    suffixes = suffixes_of("tensorrt")
    source = "engine"

    def __init__(
        self,
        engine: str | Path | bytes,
        *,
        profile: int = 0,
        device: int = 0,
        check_metadata: bool = True,
        cuda_graph: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if not isinstance(engine, bytes):
            engine = existing_file(engine, "engine file")
        if profile < 0:
            raise UsageError(f"profile index must be >= 0, got {profile}", "Pass a profile index of 0 or more")
        self.engine_source = engine
        self.profile = profile
        self.device = device
        self.check_metadata = check_metadata
        self.cuda_graph = cuda_graph
        self.mode = "cuda graph" if cuda_graph else "latency"
        self._timer: Any = None
        self.metadata: EngineMetadata | None = None
        self.tensors: list[EngineTensor] = []
        self._trt: Any = None
        self._runtime: Any = None
        self._engine: Any = None
        self._context: Any = None
        self._stream: Any = None
        self.allocator: Any = None

    @classmethod
    def from_settings(
        cls, model: Any, settings: RunnerSettings, inputs: Sequence[InputSpec] | None = None
    ) -> TensorRTRunner:
        return cls(
            model, profile=settings.profile, check_metadata=settings.check_metadata, cuda_graph=settings.cuda_graph
        )

    @classmethod
    def unavailable(cls) -> str | None:
        from pt2trt.backends.tensorrt.versions import cuda_gpus, installed_version

        if installed_version() is None:
            return 'TensorRT is not installed here (pip install "pt2trt[tensorrt]" on a GPU machine)'
        if not cuda_gpus():
            return "no CUDA GPU here"
        return None

    def time(self, feed: Mapping[str, np.ndarray], loop: Loop, progress: Progress | None = None) -> Timings:
        """Latency = H2D + compute + D2H from CUDA events (GPU time), as trtexec's "Latency"; phases kept apart
        (:class:`~pt2trt.backends.tensorrt.timing.CudaEventTimer`)."""
        from pt2trt.backends.tensorrt.timing import CudaEventTimer

        self._timer = CudaEventTimer(cuda_graph=self.cuda_graph)
        try:
            self._timer.prepare(self, feed)
            return self._timer.run(loop, progress)
        finally:
            self._timer.close()

    def timing_settings(self) -> dict[str, Any]:
        return self._timer.settings() if self._timer is not None else {"cuda_graph": self.cuda_graph}

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def _activate(self) -> None:
        from pt2trt.backends.tensorrt.metadata import check_engine
        from pt2trt.backends.tensorrt.versions import import_tensorrt, require_gpu

        trt = import_tensorrt()
        gpu = require_gpu(self.device)
        torch = _cuda_torch()
        if isinstance(self.engine_source, Path):
            if self.check_metadata:
                self.metadata = check_engine(self.engine_source, trt.__version__, gpu)
            data = self.engine_source.read_bytes()
        else:
            data = self.engine_source
        self._trt = trt
        self._logger = trt.Logger(trt.Logger.ERROR)
        self._runtime = trt.Runtime(self._logger)
        with torch.cuda.device(self.device):
            label = self.engine_source if isinstance(self.engine_source, Path) else "<engine bytes>"
            self._engine = deserialize(self._runtime, data, label)
            self._context = self._engine.create_execution_context()
            if self._context is None:
                raise Pt2trtError(
                    "TensorRT could not create an execution context (out of GPU memory?)",
                    "Free GPU memory (close other GPU processes) or rebuild with a smaller --max-shapes",
                )
            self._stream = torch.cuda.Stream(self.device)
            profiles = self._engine.num_optimization_profiles
            if self.profile >= profiles:
                raise UsageError(
                    f"the engine has {profiles} optimization profile(s); profile {self.profile} does not exist",
                    f"Pick a profile between 0 and {profiles - 1}",
                )
            if self.profile:
                self._context.set_optimization_profile_async(self.profile, self._stream.cuda_stream)
        self.tensors = self._read_io()
        self._set_output_allocator(torch)

    def _set_output_allocator(self, torch: Any) -> None:
        """Route outputs with dynamic dimensions (data-dependent or batch-dependent) through one allocator."""
        dynamic = [t.name for t in self.tensors if not t.is_input and has_dynamic_dims(t.shape)]
        if not dynamic:
            return
        device = f"cuda:{self.device}"
        self.allocator = make_output_allocator(
            self._trt, lambda n: torch.empty(n, dtype=torch.uint8, device=device), lambda b: int(b.data_ptr())
        )
        for name in dynamic:
            if not self._context.set_output_allocator(name, self.allocator):
                raise Pt2trtError(
                    f"TensorRT refused an output allocator for '{name}'",
                    "Rebuild the engine with this TensorRT version, or run the ONNX with --backend onnxruntime",
                )

    def _read_io(self) -> list[EngineTensor]:
        trt, engine = self._trt, self._engine
        tensors = []
        for i in range(engine.num_io_tensors):
            name = engine.get_tensor_name(i)
            is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            shape = tuple(engine.get_tensor_shape(name))
            profile = None
            if is_input and any(d < 0 for d in shape):
                low, opt, high = engine.get_tensor_profile_shape(name, self.profile)
                profile = (tuple(low), tuple(opt), tuple(high))
            tensors.append(EngineTensor(name, is_input, dtype_name(engine.get_tensor_dtype(name)), shape, profile))
        return tensors

    def _deactivate(self) -> None:
        self._context = self._engine = self._runtime = self._stream = self.allocator = None

    # -- I/O description ----------------------------------------------------------------------------------------
    def input_metadata(self) -> list[TensorMeta]:
        inputs = [t for t in self.tensors if t.is_input]
        return [TensorMeta(t.name, t.dtype, tuple(d if d >= 0 else None for d in t.shape)) for t in inputs]

    def output_names(self) -> list[str]:
        return [t.name for t in self.tensors if not t.is_input]

    # -- inference ----------------------------------------------------------------------------------------------
    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = _cuda_torch()
        tensors = {}
        with torch.cuda.stream(self._stream):
            for t in self.tensors:
                if t.is_input:
                    array = np.ascontiguousarray(feed[t.name])
                    if array.dtype.name != t.dtype:
                        raise Pt2trtError(
                            f"input '{t.name}' is {array.dtype.name}, the engine takes {t.dtype}",
                            f"Convert it (array.astype('{t.dtype}'))",
                        )
                    tensors[t.name] = torch.from_numpy(array).to(f"cuda:{self.device}", non_blocking=True)
        outputs = self._execute(tensors)
        return {n: (v.float() if v.dtype == torch.bfloat16 else v).cpu().numpy() for n, v in outputs.items()}

    def infer_torch(self, feed: Mapping[str, torch.Tensor], *, check: bool = True) -> dict[str, torch.Tensor]:
        """Run on torch tensors; CUDA tensors on this device with the engine's dtype are used without copies.

        Returns CUDA tensors, one per output, in the engine's output order.
        """
        if not self.is_active:
            raise RuntimeError("TensorRTRunner must be activated before infer_torch() (use it in a with block)")
        if check:
            self._check_feed(feed)  # type: ignore[arg-type]
        torch = _cuda_torch()
        device = torch.device(f"cuda:{self.device}")
        tensors = {}
        for t in self.tensors:
            if t.is_input:
                value = feed[t.name]
                wanted = getattr(torch, t.dtype)
                if value.dtype != wanted:
                    raise Pt2trtError(
                        f"input '{t.name}' is {value.dtype}, the engine takes torch.{t.dtype}",
                        "Feed that dtype (an --input .npy of that type), or rebuild from an ONNX with float32 inputs",
                    )
                in_place = value.device == device and value.is_contiguous()
                tensors[t.name] = value if in_place else value.to(device).contiguous()
        self._stream.wait_stream(torch.cuda.current_stream(device))  # inputs computed on the default stream
        return self._execute(tensors)

    def _execute(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        torch = _cuda_torch()
        context = self._context
        for t in self.tensors:
            if t.is_input:
                value = inputs[t.name]
                check_shape(t, tuple(value.shape), self.profile)
                context.set_input_shape(t.name, tuple(value.shape))
                context.set_tensor_address(t.name, value.data_ptr())
        outputs: dict[str, Any] = {}
        for t in self.tensors:
            if t.is_input or (self.allocator is not None and has_dynamic_dims(t.shape)):
                continue  # the allocator gets these when TensorRT knows their size
            shape = tuple(context.get_tensor_shape(t.name))
            out = torch.empty(shape, dtype=getattr(torch, t.dtype), device=f"cuda:{self.device}")
            context.set_tensor_address(t.name, out.data_ptr())
            outputs[t.name] = out
        if self.allocator is not None:
            self.allocator.shapes.clear()
            self.allocator.error = None
        ok = context.execute_async_v3(self._stream.cuda_stream)
        if self.allocator is not None and self.allocator.error is not None:
            raise Pt2trtError(
                f"allocating a TensorRT output failed: {self.allocator.error}",
                "Free GPU memory or use smaller input shapes",
            ) from self.allocator.error
        if not ok:
            raise Pt2trtError(
                "TensorRT execution failed (execute_async_v3 returned False)",
                "Run with --verbose for TensorRT's log, and check the input shapes against the engine's profile",
            )
        self._stream.synchronize()
        if self.allocator is not None:
            for t in self.tensors:
                if not t.is_input and has_dynamic_dims(t.shape):
                    buffer, shape = self.allocator.result(t.name)
                    outputs[t.name] = view_output(buffer, shape, t.dtype).clone()  # the buffer is reused next call
        return {t.name: outputs[t.name] for t in self.tensors if not t.is_input}


def _cuda_torch() -> Any:
    """PyTorch with CUDA: the runner allocates and moves device memory with it."""
    import torch

    if not torch.cuda.is_available():
        raise Pt2trtError(
            f"PyTorch {torch.__version__} here has no CUDA device, and the TensorRT runner moves data with it",
            "Install a CUDA build of torch on the GPU machine; on CPU use ONNX Runtime (`pt2trt verify`)",
        )
    return torch
