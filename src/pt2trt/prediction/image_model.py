"""A model ready for images: which backend runs it, its one image input, and the preprocessing that feeds it.

``MODEL`` is an ``.onnx`` file, a TensorRT engine (``.engine``/``.plan``), an OpenVINO IR (``.xml``) or a PyTorch
spec (``torchvision:resnet18``, ``file.py:Name``...). ``backend="auto"`` picks the runner from the file type through
the backend registry (``pt2trt.backends.resolve_backend``, re-exported here).
Preprocessing is, in order of precedence: the one given, the one recorded in the model at export, the task's
default preset; a model's static input size always wins over the preprocessing's size.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pt2trt.backends import FALLBACK, Runner, is_engine_file, resolve_backend, runner_class
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import PRESETS, Preprocess, load_preprocess
from pt2trt.shapes import InputSpec


def recorded_metadata(model: str | Path) -> dict[str, str]:
    """The ``pt2trt.*`` records of an ONNX file, or of an engine's metadata file; empty for anything else."""
    path = Path(str(model))
    if path.suffix.lower() == ".onnx":
        from pt2trt.onnx.load import load_onnx
        from pt2trt.onnx.metadata import read_metadata

        return read_metadata(load_onnx(path, load_external_data=False))
    if is_engine_file(path) and path.is_file():
        from pt2trt.backends.tensorrt.metadata import read_metadata as read_engine_metadata

        engine = read_engine_metadata(path)
        return dict(engine.onnx_metadata) if engine else {}
    return {}


#: ops that only move, cast or resize values: an output computed by Sigmoid then Resize still holds probabilities
PASS_THROUGH_OPS = ("Identity", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Resize", "Upsample", "Flatten", "Cast")


def output_ops(model: str | Path) -> dict[str, str]:
    """For an ONNX file, the op type computing each graph output (looking through :data:`PASS_THROUGH_OPS`)."""
    path = Path(str(model))
    if path.suffix.lower() != ".onnx" or not path.is_file():
        return {}
    from pt2trt.onnx.load import load_onnx

    graph = load_onnx(path, load_external_data=False).graph
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


def choose_preprocess(
    given: Preprocess | str | Path | None,
    recorded: Preprocess | None,
    default_preset: str,
    overrides: dict[str, Any] | None = None,
) -> Preprocess:
    """The given preprocessing, else the recorded one, else the task's preset; then ``overrides`` on top."""
    if isinstance(given, str | Path):
        given = load_preprocess(given)
    base = given or recorded or PRESETS[default_preset]
    values = {k: v for k, v in (overrides or {}).items() if v is not None}
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
    """One model behind a runner, fed batches of preprocessed images: ``with ImageModel(...) as m: m.run(x)``."""

    def __init__(
        self,
        model: Any,
        *,
        backend: str = "auto",
        preprocess: Preprocess | str | Path | None = None,
        default_preset: str = "imagenet-classification",
        overrides: dict[str, Any] | None = None,
        batch: int = 1,
        weights: str | Path | None = None,
        allow_pickle: bool = False,
        providers: list[str] | None = None,
        threads: int | None = None,
        runner_options: dict[str, Any] | None = None,
    ) -> None:
        if batch < 1:
            raise UsageError(f"--batch must be at least 1, got {batch}", "Pass --batch 1 or more")
        self.model = model
        self.name = model if isinstance(model, str | Path) else type(model).__name__
        self.backend = resolve_backend(self.name, backend) if isinstance(model, str | Path) else FALLBACK
        self.metadata = recorded_metadata(model) if isinstance(model, str | Path) else {}
        self.recorded = recorded_preprocess(self.metadata)
        self.preprocess = choose_preprocess(preprocess, self.recorded, default_preset, overrides)
        #: where the input size came from when the model leaves it dynamic (for the closing line's note)
        self.size_source = _size_source(preprocess, self.recorded, overrides)
        self.batch = batch
        self.weights, self.allow_pickle, self.providers = weights, allow_pickle, providers
        self.threads = threads
        self.runner_options = dict(runner_options or {})  # backend-specific (triton: url, model_name)
        self.runner: Runner | None = None
        self.input_name = "input"
        self.input_dtype = self.preprocess.dtype
        self.static_size: tuple[int, int] | None = None
        self.notes: list[str] = []  # what was decided for the user (channels converted, size chosen), for the CLI
        self.static_batch: int | None = None

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
        outputs = self.runner.infer({self.input_name: batch}, check=False)
        if self.static_batch is not None and count < self.static_batch:
            outputs = {
                k: v[:count] if np.ndim(v) and v.shape[0] == self.static_batch else v for k, v in outputs.items()
            }
        return outputs

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
        options: dict[str, Any] = {
            "providers": self.providers,
            "threads": self.threads,
            "weights": self.weights,
            "allow_pickle": self.allow_pickle,
            **self.runner_options,
        }
        if cls.needs_input_specs:
            if self.preprocess.size is None:
                raise UsageError("a PyTorch model needs an input size", "Pass --size HxW (or a preprocessing preset)")
            options["inputs"] = [self._torch_spec()]
        return cls.from_path(self.model, **options)  # each runner takes the options its constructor accepts

    def _fit_dynamic_size(self) -> None:
        """A dynamic height/width: round the chosen size up to the graph's stride, and say which size runs."""
        assert self.preprocess.size is not None
        size = tuple(self.preprocess.size)
        stride = 1
        if str(self.name).lower().endswith(".onnx"):
            from pt2trt.onnx.load import load_onnx
            from pt2trt.onnx.strides import fit_to_stride, max_stride

            stride = max_stride(load_onnx(self.name, load_external_data=False))
            fitted = fit_to_stride(size, stride)
            if fitted != size:
                if self.size_source == "--size":
                    raise UsageError(
                        f"--size {size[0]}x{size[1]} does not fit {self.name}: its strides need multiples of {stride}",
                        f"Pass --size {fitted[0]}x{fitted[1]}",
                    )
                self.preprocess = self.preprocess.with_size(*fitted)
        if self.size_source is None:
            h, w = self.preprocess.size
            rounded = f", rounded up to the model's stride {stride}" if tuple(self.preprocess.size) != size else ""
            self.notes.append(
                f"the model's input size is dynamic: running at {h}x{w} ({self.preprocess.preset or 'default'} "
                f"preset{rounded}); choose another with --size HxW"
            )

    def _torch_spec(self) -> InputSpec:
        assert self.preprocess.size is not None
        h, w = self.preprocess.size
        shape = (self.batch, 3, h, w) if self.preprocess.layout == "NCHW" else (self.batch, h, w, 3)
        return InputSpec(self.input_name, shape, self.preprocess.dtype, {0: "batch"})

    def _adopt_input(self) -> None:
        """Check the model has one image input, and take its name, dtype, static size and batch."""
        assert self.runner is not None
        if self.runner.needs_input_specs:  # it runs the specs it was given: nothing to adopt
            return
        inputs = self.runner.input_metadata()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise Pt2trtError(
                f"{self.name} has {len(inputs)} inputs ({names}); predict needs one image input",
                "Use a model with a single image input, or feed it with `pt2trt verify --input`",
            )
        meta = inputs[0]
        shape = tuple(meta.shape)
        if len(shape) != 4:
            raise Pt2trtError(
                f"{self.name}'s input '{meta.name}' has rank {len(shape)}, not an image batch",
                "predict feeds [N, C, H, W] or [N, H, W, C] images; run other models with `pt2trt verify --input`",
            )
        layout = self.preprocess.layout
        channels = shape[1] if layout == "NCHW" else shape[3]
        other = shape[3] if layout == "NCHW" else shape[1]
        if isinstance(channels, int) and channels not in (1, 3, 4) and other in (1, 3, 4):
            # [N, H, W, C] where NCHW was expected (or the reverse): the input's shape says which layout it takes
            layout = "NHWC" if layout == "NCHW" else "NCHW"
            self.preprocess = replace(self.preprocess, layout=layout)
            channels = other
        if isinstance(channels, int) and channels != len(self.preprocess.channels):
            if channels != 1:  # grayscale is unambiguous; an alpha channel (4) is only fed when asked for
                hint = "Pass --channels RGBA to feed RGBA pictures" if channels == 4 else "Feed it with the Python API"
                raise Pt2trtError(
                    f"{self.name}'s input '{meta.name}' {list(shape)} has {channels} channels in {layout}", hint
                )
            self.preprocess = replace(self.preprocess, channels="L")
            self.notes.append("pictures converted to grayscale (L): the model takes 1 channel")
        self.input_name = meta.name
        self.input_dtype = meta.dtype if meta.dtype in ("float32", "float16", "uint8") else self.preprocess.dtype
        if self.input_dtype == "uint8" and self.preprocess.dtype != "uint8":
            # a uint8 input normalises inside the model (e.g. after `pt2trt edit --uint8-nhwc`): feed raw pixels
            self.preprocess = replace(self.preprocess, dtype="uint8")
        hw = (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])
        if all(isinstance(d, int) and d > 0 for d in hw):
            self.static_size = (int(hw[0]), int(hw[1]))
            self.preprocess = self.preprocess.with_size(*self.static_size)
        elif self.preprocess.size is None:
            raise UsageError(f"{self.name} has a dynamic input size", "Pass --size HxW")
        else:
            self._fit_dynamic_size()
        if isinstance(shape[0], int) and shape[0] > 0:
            from pt2trt.feeds import check_input_size

            check_input_size(meta.name, (shape[0], 3, *self.preprocess.size), self.preprocess.dtype)
            self.static_batch = int(shape[0])
            if self.batch > self.static_batch:
                raise UsageError(
                    f"{self.name} has a static batch size of {self.static_batch}, so --batch {self.batch} cannot run",
                    "Export with --dynamic-batch, or lower --batch",
                )


def _size_source(given: Any, recorded: Preprocess | None, overrides: dict[str, Any] | None) -> str | None:
    """Who chose the input size: the user (``--size``, a preprocessing given), the model's record, or nobody."""
    if (overrides or {}).get("size"):
        return "--size"
    if recorded is not None and recorded.size is not None:
        return "the recorded preprocessing"
    return "the given preprocessing" if given is not None else None
