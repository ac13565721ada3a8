"""Record every module call of one PyTorch forward pass: outputs, where each input came from, in execution order.

Forward pre-hooks and hooks on every module (the model itself included, named ``""``) see each call. A call's
outputs are copied at the moment it returns, because in-place modules (``ReLU(inplace=True)``) overwrite the
tensor afterwards. Input tensors are traced back to the call that produced them by object identity plus
``Tensor._version`` (which in-place writes bump), so the dataflow between modules is known without guessing.
Inputs computed outside any module (``x + identity``, ``torch.flatten``) are "loose": their values are copied at
the pre-hook so that they can be compared too.

Only the calls named in ``record`` keep values, so a pass can cover a slice of the model with bounded memory.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError
from pt2trt.pytorch.outputs import flatten_outputs

if TYPE_CHECKING:
    import torch

CallKey = tuple[str, int]  # (qualified module name, how many times it was called before)


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str
    itemsize: int = 4

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.itemsize


@dataclass(frozen=True)
class InputSource:
    """Where one input tensor of a call came from: a model input, an earlier call's output, or loose code."""

    kind: str  # "input" | "call" | "loose"
    info: TensorInfo
    name: str = ""  # model input name (kind "input")
    producers: tuple[int, ...] = ()  # calls whose output is this very tensor, innermost first (kind "call")


@dataclass
class ModuleCall:
    """One call of one module, in completion order (children finish before their parent)."""

    index: int
    name: str
    call: int
    cls: str
    outputs: list[TensorInfo] = field(default_factory=list)
    inputs: list[InputSource] = field(default_factory=list)
    passthrough: bool = False  # returned one of its inputs untouched (Identity, Dropout in eval)
    consumers: list[int] = field(default_factory=list)
    #: the module's other qualified names (one module registered twice: an attribute and a ``ModuleList`` entry);
    #: an exporter may scope its nodes under any of them
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> CallKey:
        return (self.name, self.call)

    @property
    def label(self) -> str:
        """``layer1.0.relu`` for a first call, ``layer1.0.relu#2`` for the second; the model itself is ``(model)``."""
        base = self.name or "(model)"
        return base if self.call == 0 else f"{base}#{self.call + 1}"

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.outputs)


@dataclass
class Trace:
    """The calls of one forward pass, and the values kept for the recorded ones."""

    calls: list[ModuleCall]
    outputs: dict[int, list[np.ndarray | None]] = field(default_factory=dict)  # call index -> output values
    loose: dict[int, list[np.ndarray | None]] = field(default_factory=dict)  # call index -> its loose inputs' values
    recorded_bytes: int = 0
    stopped_recording: bool = False  # the byte budget ran out: values are incomplete

    def by_key(self) -> dict[CallKey, ModuleCall]:
        return {c.key: c for c in self.calls}


class CallRecorder:
    """Hooks on every module of ``module``; ``recorder.run(forward, input_names)`` traces one forward pass."""

    def __init__(
        self,
        module: torch.nn.Module,
        *,
        record: Callable[[CallKey], bool] | None = None,
        record_loose: Callable[[CallKey], bool] | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.module = module
        self.record = record or (lambda key: True)
        self.record_loose = record_loose or self.record
        self.max_bytes = max_bytes
        self.input_names: list[str] = []
        self._names = {id(m): name for name, m in module.named_modules()}
        self._aliases: dict[int, tuple[str, ...]] = {}
        for name, m in module.named_modules(remove_duplicate=False):
            if name != self._names[id(m)]:
                self._aliases[id(m)] = (*self._aliases.get(id(m), ()), name)
        self._reset()

    def _reset(self) -> None:
        self.trace = Trace([])
        self._counts: dict[str, int] = {}
        self._stack: list[tuple[str, int, list[InputSource], list[Any], list[Any] | None]] = []
        # id(tensor) -> [(weakref, version, call index or -1 for a model input, input name)]
        self._producers: dict[int, list[tuple[Any, int, int, str]]] = {}
        self._kept: dict[tuple[int, int], tuple[Any, np.ndarray]] = {}  # (id, version) -> copied value

    # -- hooks --------------------------------------------------------------------------------------------------
    def _pre(self, mod: torch.nn.Module, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        import torch

        name = self._names.get(id(mod), type(mod).__name__)
        call = self._counts.get(name, 0)
        self._counts[name] = call + 1
        leaves = [t for _, t in flatten_outputs((args, dict(kwargs))) if isinstance(t, torch.Tensor)]
        if not self._stack:  # the model's own inputs, in forward() order
            for tensor, input_name in zip(leaves, self.input_names):
                self._producers.setdefault(id(tensor), []).append(
                    (weakref.ref(tensor), tensor._version, -1, input_name)
                )
        sources: list[InputSource] = []
        loose_values: list[Any] = []
        keep_loose = self.record_loose((name, call))
        for tensor in leaves:
            info = _info(tensor)
            found = self._lookup(tensor)
            if found and found[0][2] == -1:
                sources.append(InputSource("input", info, name=found[0][3]))
            elif found:
                sources.append(InputSource("call", info, producers=tuple(f[2] for f in found)))
            else:
                sources.append(InputSource("loose", info))
                loose_values.append(self._copy(tensor) if keep_loose else None)
        kept = loose_values if any(v is not None for v in loose_values) else None
        self._stack.append((name, call, sources, [(t, t._version) for t in leaves], kept))

    def _post(self, mod: torch.nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        import torch

        name, call, sources, inputs, loose_values = self._stack.pop()
        index = len(self.trace.calls)
        record = ModuleCall(index, name, call, _class_name(mod), inputs=sources, aliases=self._aliases.get(id(mod), ()))
        leaves = [t for _, t in flatten_outputs(output) if isinstance(t, torch.Tensor)]
        record.outputs = [_info(t) for t in leaves]
        record.passthrough = bool(leaves) and all(any(t is i and t._version == v for i, v in inputs) for t in leaves)
        for source in sources:
            for producer in source.producers[:1]:
                self.trace.calls[producer].consumers.append(index)
        if self.record((name, call)):
            self.trace.outputs[index] = [self._copy(t) for t in leaves]
        if loose_values is not None:
            self.trace.loose[index] = loose_values
        for tensor in leaves:
            entries = self._producers.setdefault(id(tensor), [])
            entries[:] = [e for e in entries if e[0]() is tensor and e[1] == tensor._version]
            entries.append((weakref.ref(tensor), tensor._version, index, ""))
        self.trace.calls.append(record)

    # -- helpers ------------------------------------------------------------------------------------------------
    def _lookup(self, tensor: torch.Tensor) -> list[tuple[Any, int, int, str]]:
        entries = self._producers.get(id(tensor), [])
        return [e for e in entries if e[0]() is tensor and e[1] == tensor._version]

    def _copy(self, tensor: torch.Tensor) -> np.ndarray | None:
        """The tensor's current value as a numpy array, shared when the same value was copied before."""
        key = (id(tensor), tensor._version)
        kept = self._kept.get(key)
        if kept is not None and kept[0]() is tensor:
            return kept[1]
        if self.trace.stopped_recording:
            return None
        nbytes = tensor.numel() * tensor.element_size()
        if self.max_bytes is not None and self.trace.recorded_bytes + nbytes > self.max_bytes:
            self.trace.stopped_recording = True
            return None
        value = _to_numpy(tensor)
        self.trace.recorded_bytes += value.nbytes
        self._kept[key] = (weakref.ref(tensor), value)
        return value

    def run(self, forward: Callable[[], Any], input_names: list[str]) -> Trace:
        """Call ``forward()`` with the hooks attached; the trace of that pass."""
        import torch

        self._reset()
        self.input_names = list(input_names)
        if isinstance(self.module, torch.jit.ScriptModule):
            raise Pt2trtError(
                "a TorchScript model runs as one graph: its submodules cannot be hooked",
                "Point MODEL at the Python nn.Module it was scripted from (file.py:Name, package.module:Name)",
            )
        handles = []
        try:
            for module in dict.fromkeys(m for _, m in self.module.named_modules()):
                handles.append(module.register_forward_pre_hook(self._pre, with_kwargs=True))
                handles.append(module.register_forward_hook(self._post, with_kwargs=True))
            with torch.no_grad():
                forward()
        finally:
            for handle in handles:
                handle.remove()
        trace = self.trace
        self._kept.clear()
        self._producers.clear()
        return trace


def _info(tensor: torch.Tensor) -> TensorInfo:
    return TensorInfo(
        tuple(int(d) for d in tensor.shape), str(tensor.dtype).removeprefix("torch."), tensor.element_size()
    )


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A copy as numpy; dtypes numpy lacks (bfloat16, float8) become float32."""
    t = tensor.detach().cpu()
    try:
        return t.numpy().copy()
    except TypeError:
        return t.float().numpy()


def _class_name(module: torch.nn.Module) -> str:
    return type(module).__name__
