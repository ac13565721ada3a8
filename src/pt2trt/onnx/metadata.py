"""pt2trt's records inside an ONNX model's ``metadata_props`` (keys prefixed ``pt2trt.``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pt2trt.shapes import InputSpec, specs_from_json, specs_to_json

if TYPE_CHECKING:
    import onnx

PREFIX = "pt2trt."
MODEL = PREFIX + "model"
INPUTS = PREFIX + "inputs"
EXPORTER = PREFIX + "exporter"
FALLBACK_REASON = PREFIX + "exporter_fallback_reason"
TORCH_VERSION = PREFIX + "torch_version"
ONNX_VERSION = PREFIX + "onnx_version"
PT2TRT_VERSION = PREFIX + "version"
PREPROCESSING = PREFIX + "preprocessing"  # JSON of pt2trt.imaging.preprocess.Preprocess


def read_metadata(model: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def write_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    """Set (or replace) metadata entries in place."""
    existing = {p.key: p for p in model.metadata_props}
    for key, value in values.items():
        if key in existing:
            existing[key].value = value
        else:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value


def recorded_inputs(metadata: dict[str, str]) -> list[InputSpec] | None:
    """The input specs recorded at export, or None for a model pt2trt did not export."""
    text = metadata.get(INPUTS)
    return specs_from_json(text) if text else None


def inputs_entry(specs: list[InputSpec]) -> str:
    return specs_to_json(specs)
