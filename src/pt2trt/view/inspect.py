"""``pt2trt inspect`` as one call: an ONNX model's facts, or what a TensorRT engine became (its layers' precisions,
the ONNX nodes fused into each and the PyTorch modules they came from)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError
from pt2trt.settings.view import InspectSettings

if TYPE_CHECKING:
    from pt2trt.backends.tensorrt.inspect import EngineReport
    from pt2trt.onnx.inspect import ModelInfo
    from pt2trt.onnx.model import ModelLike


@dataclass
class EngineInspection:
    """What an engine became: its ``report``, where the inspector JSON came from (``source``) and the ONNX file
    whose node scopes named the modules (``onnx``, ``None`` when none was found)."""

    engine: Path
    source: str
    onnx: Path | None
    report: EngineReport

    def to_dict(self) -> dict[str, Any]:
        onnx = str(self.onnx) if self.onnx else None
        return {"engine": str(self.engine), "source": self.source, "onnx": onnx, **self.report.to_dict()}


def is_engine_inspection(model: ModelLike) -> bool:
    """Whether ``model`` is a TensorRT engine (``.engine``/``.plan``/``.trt``) or IEngineInspector JSON."""
    from pt2trt.backends import is_engine_file

    if not isinstance(model, str | Path):
        return False
    return is_engine_file(str(model)) or Path(model).suffix.lower() == ".json"


def inspect(model: ModelLike, settings: InspectSettings | None = None) -> ModelInfo | EngineInspection:
    """Describe ``model``: an ONNX model (a handle or a path) as :class:`~pt2trt.onnx.inspect.ModelInfo`, a
    TensorRT engine or IEngineInspector JSON as :class:`EngineInspection` (``settings``:
    :class:`~pt2trt.settings.view.InspectSettings`)."""
    s = settings or InspectSettings()
    if is_engine_inspection(model):
        return inspect_engine(Path(str(model)), s)
    from pt2trt.onnx.inspect import inspect_model

    return inspect_model(model, nodes=s.nodes)


def inspect_engine(path: Path, settings: InspectSettings) -> EngineInspection:
    """An engine file (inspected live with TensorRT and a GPU, else from the JSON recorded at build) or inspector
    JSON, joined to the modules of the ONNX it was built from (``settings.onnx``, else the one recorded)."""
    from pt2trt.backends.tensorrt.inspect import engine_report, parse_engine_information
    from pt2trt.backends.tensorrt.metadata import read_metadata

    recorded_onnx = None
    if path.suffix.lower() == ".json":
        report, source = parse_engine_information(_read_json(path), settings.precision), "inspector JSON file"
    else:
        report, source = engine_report(path, requested=settings.precision)
        metadata = read_metadata(path)
        recorded_onnx = metadata.onnx_path if metadata else None
    model_path = settings.onnx or (Path(recorded_onnx) if recorded_onnx and Path(recorded_onnx).is_file() else None)
    if model_path:
        node_modules, node_names = onnx_node_modules(model_path)
        report.attach_modules(node_modules, node_names)
    return EngineInspection(path, source, model_path, report)


def _read_json(path: Path) -> Any:
    from pt2trt.files import existing_file

    try:
        return json.loads(existing_file(path, "inspector JSON file").read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Pt2trtError(f"{path} is not JSON ({exc})", "Give IEngineInspector JSON or an engine file") from exc


def onnx_node_modules(onnx_path: str | Path) -> tuple[dict[str, str], list[str]]:
    """ONNX node name -> innermost PyTorch module (from the node scopes both exporters record), and node names."""
    from pt2trt.onnx.load import load_onnx
    from pt2trt.onnx.scopes import exporter_of, node_scopes

    model = load_onnx(onnx_path, load_external_data=False)
    scopes = node_scopes(model, exporter_of(model), None)
    nodes = list(model.graph.node)
    return {n.name: s[-1][0] for n, s in zip(nodes, scopes) if s}, [n.name for n in nodes]
