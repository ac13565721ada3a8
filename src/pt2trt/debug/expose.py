"""Run an ONNX model with intermediate tensors exposed as extra graph outputs.

The user's file is never touched. When the model is one self-contained file, the runtime gets that file's bytes
followed by a tiny serialised ``ModelProto`` holding only the extra graph outputs: protobuf merges concatenated
messages (repeated fields are appended), so this *is* the model with more outputs, without re-serialising the
weights (0.4 s for resnet50's 100 MB). Otherwise the outputs are added to the in-memory model only while it is
serialised and removed right after; models too large for one protobuf go through a temporary directory.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pt2trt.backends.base import Runner

if TYPE_CHECKING:
    import onnx

#: Protobuf cannot serialise a model over 2 GiB; keep a margin for the graph itself.
_INLINE_LIMIT = 1_800_000_000

RunnerFactory = Callable[[bytes | Path], Runner]


def onnxruntime_factory(providers: Sequence[str] | None = None) -> RunnerFactory:
    def make(model: bytes | Path) -> Runner:
        from pt2trt.backends.onnxruntime import OnnxRuntimeRunner

        return OnnxRuntimeRunner(model, providers=providers)

    return make


@contextlib.contextmanager
def exposed(
    model: onnx.ModelProto, names: Collection[str], source: Path | bytes | None = None
) -> Iterator[bytes | Path]:
    """The serialised model (bytes, or a temporary file for > 2 GB) with ``names`` added to its outputs.

    ``source``: the file ``model`` was loaded from, or the bytes a model handle read from it, when it holds the whole
    model (see :func:`load_model_file`): its bytes are reused rather than the model serialised again.
    """
    import onnx

    graph = model.graph
    present = {o.name for o in graph.output}
    added = [n for n in dict.fromkeys(names) if n not in present]
    if source is not None:
        extra = onnx.ModelProto(graph=onnx.GraphProto(output=[onnx.ValueInfoProto(name=n) for n in added]))
        raw = source if isinstance(source, bytes) else source.read_bytes()
        yield raw + extra.SerializeToString()
        return
    before = len(graph.output)
    graph.output.extend(onnx.ValueInfoProto(name=n) for n in added)  # ONNX Runtime needs no type here
    try:
        if model.ByteSize() < _INLINE_LIMIT:
            data = model.SerializeToString()
        else:
            data = None
            tmp = tempfile.TemporaryDirectory(prefix="pt2trt-debug-")
            path = Path(tmp.name) / "exposed.onnx"
            onnx.save_model(model, str(path), save_as_external_data=True, location="exposed.onnx.data")
    finally:
        del graph.output[before:]
    if data is not None:
        yield data
        return
    with tmp:
        yield path


def is_onnx_file(spec: object) -> bool:
    return isinstance(spec, str | Path) and str(spec).lower().endswith(".onnx")


def load_model_file(path: str | Path) -> tuple[onnx.ModelProto, Path | None]:
    """The model, and its path when that one file holds all of it (no external data, under 2 GB), else None."""
    import onnx

    from pt2trt.onnx.load import load_onnx

    proto = load_onnx(path, load_external_data=False)
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer):
        return load_onnx(path), None
    return proto, Path(path) if Path(path).stat().st_size < _INLINE_LIMIT else None


def run_exposed(
    model: onnx.ModelProto,
    names: Collection[str],
    feed: Mapping[str, np.ndarray],
    factory: RunnerFactory,
    source: Path | None = None,
) -> dict[str, np.ndarray]:
    """Run ``model`` (loaded from ``source``) once with ``names`` exposed; every output by name."""
    with exposed(model, names, source) as serialized, factory(serialized) as runner:
        return runner.infer(feed)
