"""The model handle: one ONNX model, read from disk once, passed from step to step.

After Polygraphy's lazy loaders: an :class:`OnnxModel` holds the path and parses the file on first use, once; its
metadata, its real inputs as :class:`~pt2trt.shapes.InputSpec` and its output names are read from that one proto.
Every API that takes an ONNX model takes a handle (or a path, which it wraps), so a run that checks, simplifies,
verifies, lints, plans and benches one file parses it once. Runtimes are given the bytes the handle read
(:meth:`OnnxModel.session_source`), never a second read of the file.

The proto is shared: code that changes a model works on :meth:`OnnxModel.copy`.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.onnx.load import load_onnx_bytes

if TYPE_CHECKING:
    import onnx

    from pt2trt.shapes import InputSpec

#: Protobuf's limit: a model whose serialised form would exceed it keeps its weights in external data files.
_SERIALISABLE = 2**31 - 1


class OnnxModel:
    """One ONNX model: ``path`` (None for a model built in memory) and its proto, parsed once on first use."""

    def __init__(self, path: str | os.PathLike[str] | None = None, proto: onnx.ModelProto | None = None) -> None:
        if path is None and proto is None:
            raise ValueError("an OnnxModel needs a path or a proto")
        self.path = Path(path) if path is not None else None
        self._proto = proto
        self._raw: bytes | None = None  # the file's bytes, as read: what runtimes load
        self._external = False  # weights in external data files: runtimes load the file by path
        self._weights_loaded = False

    @classmethod
    def of(cls, model: OnnxModel | str | os.PathLike[str] | onnx.ModelProto) -> OnnxModel:
        """``model`` as a handle: a handle is returned as it is, a path or a proto is wrapped."""
        if isinstance(model, OnnxModel):
            return model
        if isinstance(model, str | os.PathLike):
            return cls(model)
        return cls(proto=model)

    def __repr__(self) -> str:
        state = "parsed" if self._proto is not None else "not parsed yet"
        return f"OnnxModel({str(self.path) if self.path else '<in memory>'!r}, {state})"

    @property
    def name(self) -> str:
        """The file name, or the graph's name for a model in memory."""
        return self.path.name if self.path is not None else (self.proto.graph.name or "model")

    @property
    def is_parsed(self) -> bool:
        return self._proto is not None

    @property
    def proto(self) -> onnx.ModelProto:
        """The parsed model, read from disk on first use only. Weights kept in external data files stay there (see
        :meth:`with_weights`): a model over protobuf's 2 GB limit is graph-only here. Do not change it in place."""
        if self._proto is None:
            assert self.path is not None
            self._raw, self._proto, self._external = load_onnx_bytes(self.path, load_external_data=False)
        return self._proto

    @property
    def has_external_data(self) -> bool:
        """Whether the file keeps its weights in external data files (``.onnx.data``)."""
        _ = self.proto
        return self._external

    def with_weights(self) -> onnx.ModelProto:
        """The proto with every weight's values loaded (external data read into it, once)."""
        proto = self.proto
        if self._external and not self._weights_loaded and self.path is not None:
            from pt2trt.onnx.load import load_external_weights

            load_external_weights(proto, self.path)
            self._weights_loaded = True
        return proto

    def copy(self) -> onnx.ModelProto:
        """A private copy of the proto, for code that changes the model."""
        import onnx

        clone = onnx.ModelProto()
        clone.CopyFrom(self.with_weights())
        return clone

    def session_source(self) -> bytes | str:
        """What a runtime should load: the path while Python has not read the file (the runtime reads it, once), the
        bytes this handle read once it has (no second read), the serialised proto of a model built in memory, or the
        path of a model whose weights live in external data files."""
        if self._proto is None or (self._external and self.path is not None):
            return str(self.path)
        if self._raw is not None:
            return self._raw
        if self._proto.ByteSize() > _SERIALISABLE:
            raise ValueError(f"{self.name} is too large to serialise: save it with external data first")
        self._raw = self._proto.SerializeToString()
        return self._raw

    @cached_property
    def metadata(self) -> dict[str, str]:
        """``metadata_props`` as a dict (pt2trt's records are keyed ``pt2trt.*``)."""
        from pt2trt.onnx.metadata import read_metadata

        return read_metadata(self.proto)

    @cached_property
    def input_specs(self) -> list[InputSpec]:
        """The graph's real inputs (initializers left out); dynamic dims by name with size 0."""
        from pt2trt.onnx.graph import onnx_input_specs

        return onnx_input_specs(self.proto)

    @cached_property
    def recorded_inputs(self) -> list[InputSpec] | None:
        """The input specs recorded at export (``pt2trt.inputs``), or None for a model pt2trt did not export."""
        from pt2trt.onnx.metadata import recorded_inputs

        return recorded_inputs(self.metadata)

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.proto.graph.output]


ModelLike = OnnxModel | str | os.PathLike[str]
