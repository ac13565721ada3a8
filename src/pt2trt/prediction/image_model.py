"""A model ready for images: which backend runs it, its one image input, and the preprocessing that feeds it.

``MODEL`` is an ``.onnx`` file, a TensorRT engine (``.engine``/``.plan``), an OpenVINO IR (``.xml``) or a PyTorch
spec (``torchvision:resnet18``, ``file.py:Name``...). ``backend="auto"`` picks the runner from the file type through
the backend registry (``pt2trt.backends.resolve_backend``, re-exported here).
Preprocessing is, in order of precedence: the one given, the one recorded in the model at export, the task's
default preset; a model's static input size always wins over the preprocessing's size.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt.backends import FALLBACK, Runner, is_engine_file, resolve_backend, runner_class
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.image_input import SizeChoice, fit_image_input
from pt2trt.imaging.preprocess import PRESETS, Preprocess, load_preprocess
from pt2trt.onnx.model import OnnxModel
from pt2trt.onnx.strides import StrideEstimate, estimate_strides
from pt2trt.settings import ModelSource, PreprocessSettings, RunnerSettings
from pt2trt.shapes import InputSpec


def recorded_metadata(model: Any) -> dict[str, str]:
    """The ``pt2trt.*`` records of an ONNX model, or of an engine's metadata file; empty for anything else."""
    if isinstance(model, OnnxModel):
        return model.metadata
    path = Path(str(model))
    if is_engine_file(path) and path.is_file():
        from pt2trt.backends.tensorrt.metadata import read_metadata as read_engine_metadata

        engine = read_engine_metadata(path)
        return dict(engine.onnx_metadata) if engine else {}
    return {}


#: ops that only move, cast or resize values: an output computed by Sigmoid then Resize still holds probabilities
PASS_THROUGH_OPS = ("Identity", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Resize", "Upsample", "Flatten", "Cast")


def output_ops(model: OnnxModel) -> dict[str, str]:
    """The op type computing each graph output of an ONNX model (looking through :data:`PASS_THROUGH_OPS`)."""
    graph = model.proto.graph
    producers = {name: node for node in graph.node for name in node.output}
    ops = {}
    for output in graph.output:
        node = producers.get(output.name)
        while node is not None and node.op_type in PASS_THROUGH_OPS and node.input:
            node = producers.get(node.input[0])
        if node is not None:
            ops[output.name] = node.op_type
    return ops


def recorded_preprocess(metadata: dict[str, str]) -> Preprocess | None:
    from pt2trt.onnx.metadata import PREPROCESSING

    text = metadata.get(PREPROCESSING)
    return Preprocess.from_json(text) if text else None


def choose_preprocess(settings: PreprocessSettings, recorded: Preprocess | None, default_preset: str) -> Preprocess:
    """The given preprocessing, else the recorded one, else the task's preset; then the single settings on top."""
    given = settings.preprocess
    if isinstance(given, str | Path):
        given = load_preprocess(given)
    base = given or recorded or PRESETS[default_preset]
    values = settings.overrides()
    if not values:
        return base
    try:
        return replace(base, **values)
    except TypeError as exc:
        raise UsageError(
            f"unknown preprocessing setting: {exc}",
            "Check the setting names against `pt2trt predict --help` (the preprocessing options)",
        ) from exc


class ImageModel:
    """One model behind a runner, fed batches of preprocessed images: ``with ImageModel(...) as m: m.run(x)``.

    ``model`` is a path (``.onnx`` files are opened as one :class:`~pt2trt.onnx.model.OnnxModel`: parsed once, its
    records, outputs and stride read from it, its runtime session made from the same bytes), an ``OnnxModel``, an
    engine, an OpenVINO IR, a PyTorch spec or :class:`~pt2trt.settings.ModelSource`, or an ``nn.Module``.
    """

    def __init__(
        self,
        model: Any,
        *,
        runner: RunnerSettings | None = None,
        preprocess: PreprocessSettings | None = None,
        default_preset: str = "imagenet-classification",
        batch: int = 1,
    ) -> None:
        if batch < 1:
            raise UsageError(f"--batch must be at least 1, got {batch}", "Pass --batch 1 or more")
        if isinstance(model, str | Path) and Path(str(model)).suffix.lower() == ".onnx":
            model = OnnxModel(model)
        self.model = model
        self.handle = model if isinstance(model, OnnxModel) else None
        self.name = _display_name(model)
        self.settings = runner or RunnerSettings()
        self.backend = resolve_backend(_backend_key(model), self.settings.backend)
        self.metadata = recorded_metadata(model)
        self.recorded = recorded_preprocess(self.metadata)
        asked = preprocess or PreprocessSettings()
        self.preprocess = choose_preprocess(asked, self.recorded, default_preset)
        #: where the input size came from when the model leaves it dynamic (for the closing line's note)
        self.size_source = _size_source(asked, self.recorded)
        self.batch = batch
        self.runner: Runner | None = None
        self.input_name = "input"
        self.input_dtype = self.preprocess.dtype
        self.static_size: tuple[int, int] | None = None
        self.notes: list[str] = []  # what was decided for the user (channels converted, size chosen), for the CLI
        self.static_batch: int | None = None
        #: what the graph's strides seem to need of a dynamic size (said in notes and errors, never applied)
        self.strides = StrideEstimate()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> ImageModel:
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def open(self) -> ImageModel:
        if self.runner is None:
            runner = self._make_runner()
            runner.activate()
            self.runner = runner
            try:
                self._adopt_input()
            except BaseException:
                self.close()
                raise
        return self

    def close(self) -> None:
        if self.runner is not None:
            self.runner.deactivate()
            self.runner = None

    # -- running -----------------------------------------------------------------------------------------------
    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs for a stacked batch of samples (padded to a static batch size and cut back)."""
        if self.runner is None:
            raise RuntimeError("ImageModel.open() first (or use it in a with block)")
        count = batch.shape[0]
        if self.static_batch is not None and count < self.static_batch:
            pad = np.zeros((self.static_batch - count, *batch.shape[1:]), dtype=batch.dtype)
            batch = np.concatenate([batch, pad])
        if batch.dtype != np.dtype(self.input_dtype):
            batch = batch.astype(self.input_dtype)
        try:
            outputs = self.runner.infer({self.input_name: batch}, check=False)
        except Pt2trtError as exc:
            raise self._explain_failure(exc) from exc
        if self.static_batch is not None and count < self.static_batch:
            outputs = {
                k: v[:count] if np.ndim(v) and v.shape[0] == self.static_batch else v for k, v in outputs.items()
            }
        return outputs

    def probe(self) -> None:
        """One run on a blank batch at the settled size, for a dynamic size that nothing has run yet (calibration):
        a size the graph cannot take fails here, explained, instead of deep inside another library."""
        if self.static_size is None and self.preprocess.size is not None:
            h, w = self.preprocess.size
            channels = len(self.preprocess.channels)
            dims = (channels, h, w) if self.preprocess.layout == "NCHW" else (h, w, channels)
            self.run(np.zeros((self.static_batch or 1, *dims), dtype=self.input_dtype))

    def _explain_failure(self, exc: Pt2trtError) -> Pt2trtError:
        """A runtime failure at a dynamic size, said with the size and what the graph's strides suggest."""
        if self.static_size is not None or self.preprocess.size is None or not _SHAPE_ERROR.search(exc.message):
            return exc
        h, w = self.preprocess.size
        estimate = self.strides
        if estimate.fits((h, w)):
            hint = (
                f"{h}x{w} meets its strides ({estimate.describe()}, an estimate from the graph): a size fixed inside "
                "the graph (e.g. anchors computed at export) may be the cause; pass the size it was exported at "
                "with --size HxW"
            )
        else:
            fitted = estimate.fit((h, w))
            hint = (
                f"Its strides suggest {estimate.describe()} (an estimate from the graph): pass --size "
                f"{fitted[0]}x{fitted[1]}"
            )
        return Pt2trtError(f"{self.name} cannot run at {h}x{w}: {_failed_node(exc.message)}", hint)

    def adopt_size(self, size: tuple[int, int]) -> None:
        """Feed another input size (compare: match the other model's static size); only for dynamic inputs."""
        if self.static_size is not None and self.static_size != tuple(size):
            raise Pt2trtError(
                f"{self.name} has a static input size {self.static_size}, not {tuple(size)}",
                f"Leave out --size, or pass --size {self.static_size[0]}x{self.static_size[1]}",
            )
        self.preprocess = self.preprocess.with_size(*size)

    def describe(self) -> str:
        return f"{self.name} on {self.backend} ({self.preprocess.describe()}, batch {self.batch})"

    # -- setup -------------------------------------------------------------------------------------------------
    def _make_runner(self) -> Runner:
        cls = runner_class(self.backend)  # through the registry: an unavailable backend explains itself
        inputs = None
        if cls.needs_input_specs:
            if self.preprocess.size is None:
                raise UsageError("a PyTorch model needs an input size", "Pass --size HxW (or a preprocessing preset)")
            inputs = [self._torch_spec()]
        # an ONNX runner takes the handle (its bytes, read once); any other is given the file itself
        model = self.model if cls.source == "onnx" or self.handle is None else self.handle.path
        return cls.from_settings(model, self.settings, inputs)

    def _torch_spec(self) -> InputSpec:
        assert self.preprocess.size is not None
        h, w = self.preprocess.size
        shape = (self.batch, 3, h, w) if self.preprocess.layout == "NCHW" else (self.batch, h, w, 3)
        return InputSpec(self.input_name, shape, self.preprocess.dtype, {0: "batch"})

    def _adopt_input(self) -> None:
        """Settle the one image input: its name, dtype, layout, channels, static size and batch (said in notes)."""
        assert self.runner is not None
        if self.runner.needs_input_specs:  # it runs the specs it was given: nothing to adopt
            return
        inputs = [(m.name, m.dtype, m.shape) for m in self.runner.input_metadata()]
        self.strides = estimate_strides(self.handle.proto) if self.handle is not None else StrideEstimate()
        choice = SizeChoice(self.size_source, self.strides.multiple, self.strides.exact)
        settled = fit_image_input(self.name, inputs, self.preprocess, self.batch, choice)
        self.preprocess = settled.preprocess
        self.input_name, self.input_dtype = settled.name, settled.dtype
        self.static_size, self.static_batch = settled.static_size, settled.static_batch
        self.notes += settled.notes


#: runtime messages that say two shapes did not fit (ONNX Runtime's broadcast and concat checks, TensorRT's shapes)
_SHAPE_ERROR = re.compile(r"broadcast|dimension|shape|concat|mismatch", re.IGNORECASE)


def _failed_node(message: str) -> str:
    """ONNX Runtime's long status message cut to the node and the shapes: ``its Add node 'p2o.Add.248' cannot
    broadcast 45 by 46``."""
    node = re.search(r"running (\w+) node\. Name:'([^']*)'", message)
    if node is None:
        return message
    detail = re.split(r"(?:was false\.|Status Message:)\s*", message)[-1].strip()
    detail = re.sub(r"^\S*\.(?:h|cc|cpp):\d+\s+\S+\s+", "", detail)  # the source file and function
    detail = re.sub(r"^Attempting to broadcast an axis by a dimension other than 1\.", "cannot broadcast", detail)
    return f"its {node[1]} node '{node[2]}' failed: {detail[:160]}"


def _display_name(model: Any) -> str:
    if isinstance(model, OnnxModel):
        return str(model.path or model.name)
    if isinstance(model, str | Path | ModelSource):
        return str(model)
    return type(model).__name__


def _backend_key(model: Any) -> str:
    """What chooses the backend by suffix: the file name (PyTorch modules and specs fall back to torch)."""
    if isinstance(model, OnnxModel):
        return str(model.path or "model.onnx")
    return str(model) if isinstance(model, str | Path) else FALLBACK


def _size_source(given: PreprocessSettings, recorded: Preprocess | None) -> str | None:
    """Who chose the input size: the user (``--size``, a preprocessing given), the model's record, or nobody."""
    if given.size:
        return "--size"
    if recorded is not None and recorded.size is not None:
        return "the recorded preprocessing"
    return "the given preprocessing" if given.preprocess is not None else None
