"""PyTorch runner: the reference every other backend is compared against."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.backends.base import Runner, TensorMeta
from pt2trt.errors import Pt2trtError
from pt2trt.pytorch.outputs import flatten_outputs, output_names
from pt2trt.settings.model import ModelSource
from pt2trt.settings.runner import RunnerSettings
from pt2trt.shapes import InputSpec

if TYPE_CHECKING:
    import torch

    from pt2trt.pytorch.sources import LoadedModel


class TorchRunner(Runner):
    """Runs an ``nn.Module`` (or a model spec) in eval mode under ``torch.no_grad()``.

    Inputs are passed positionally in the order of ``inputs``; nested outputs are flattened in the exporters'
    order and named ``output_names`` (e.g. the ONNX model's output names) when given.
    """

    backend = "torch"
    needs_input_specs = True
    source = "pytorch"

    def __init__(
        self,
        model: str | torch.nn.Module | LoadedModel | ModelSource,
        inputs: Sequence[InputSpec],
        *,
        output_names: Sequence[str] | None = None,
        device: str = "cpu",
        weights: str | Path | None = None,
        allow_pickle: bool = False,
        threads: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if isinstance(model, ModelSource):  # a spec with its weights
            source = model
            model, weights, allow_pickle = source.spec, source.weights, source.allow_pickle
        self.model = model
        self.inputs = list(inputs)
        self.names = list(output_names) if output_names else None
        self.device = device
        self.weights = weights
        self.allow_pickle = allow_pickle
        self.threads = threads
        self._saved_threads: int | None = None
        self.module: torch.nn.Module | None = None
        self._outputs: list[str] = []

    @classmethod
    def from_settings(
        cls, model: Any, settings: RunnerSettings, inputs: Sequence[InputSpec] | None = None
    ) -> TorchRunner:
        if inputs is None:
            raise Pt2trtError("a PyTorch model needs its input shapes", "Pass --input NAME:SHAPE (or --size HxW)")
        return cls(model, inputs, threads=settings.threads)

    def _activate(self) -> None:
        from pt2trt.pytorch.sources import LoadedModel, load_model

        loaded = self.model
        if not isinstance(loaded, LoadedModel):
            loaded = load_model(loaded, weights=self.weights, allow_pickle=self.allow_pickle)
        loaded.check_input_count(len(self.inputs))
        self.module = loaded.module.to(self.device)
        if self.threads:
            import torch

            self._saved_threads = torch.get_num_threads()
            torch.set_num_threads(self.threads)

    def _infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        assert self.module is not None
        args = [torch.from_numpy(np.ascontiguousarray(feed[str(s.name)])).to(self.device) for s in self.inputs]
        try:
            with torch.no_grad():
                result = self.module(*args)
        except Exception as exc:
            shapes = ", ".join(f"{s.name}:{'x'.join(map(str, feed[str(s.name)].shape))}" for s in self.inputs)
            raise Pt2trtError(
                f"PyTorch forward failed on {shapes}: {type(exc).__name__}: {exc}",
                "Check the input shapes (--shapes) and that the model runs in PyTorch on such inputs",
            ) from exc
        flat = [(p, t) for p, t in flatten_outputs(result) if isinstance(t, torch.Tensor)]
        names = self.names if self.names and len(self.names) == len(flat) else output_names([p for p, _ in flat])
        self._outputs = names
        return {n: t.detach().cpu().numpy() for n, (_, t) in zip(names, flat)}

    def _deactivate(self) -> None:
        self.module = None
        if self._saved_threads is not None:
            import torch

            torch.set_num_threads(self._saved_threads)
            self._saved_threads = None

    def prepared_call(self, feed: Mapping[str, np.ndarray]) -> Callable[[], object]:
        """``module(*tensors)`` under ``torch.inference_mode``, the tensors made from ``feed`` once."""
        import torch

        assert self.module is not None
        module = self.module
        args = [torch.from_numpy(np.ascontiguousarray(feed[str(s.name)])).to(self.device) for s in self.inputs]

        def call() -> object:
            with torch.inference_mode():
                return module(*args)

        return call

    def timing_settings(self) -> dict[str, Any]:
        import torch

        return {"threads": torch.get_num_threads(), "torch": torch.__version__, "device": self.device,
                "inference_mode": True}  # fmt: skip

    def input_metadata(self) -> list[TensorMeta]:
        return [TensorMeta(str(s.name), s.dtype, s.shape) for s in self.inputs]

    def output_names(self) -> list[str]:
        return list(self.names or self._outputs)
