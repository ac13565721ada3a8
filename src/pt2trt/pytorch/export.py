"""PyTorch -> ONNX with the dynamo or the legacy (TorchScript) exporter, with a recorded fallback.

``export()`` validates everything it can before the (slow) export starts: the output path, the opset, the number of
inputs. It runs the model once eagerly to learn its outputs, names them, exports, records what happened in the
ONNX ``metadata_props`` and writes the file atomically.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt import _version
from pt2trt.capture import capture_output
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.files import check_writable, format_size
from pt2trt.imaging.preprocess import load_preprocess
from pt2trt.onnx import metadata as meta
from pt2trt.onnx.load import EXTERNAL_DATA_THRESHOLD, check_data_file, save_onnx
from pt2trt.onnx.model import OnnxModel
from pt2trt.pytorch.outputs import flatten_outputs
from pt2trt.pytorch.outputs import output_names as names_from_structure
from pt2trt.pytorch.sources import LoadedModel, load_model, no_exit
from pt2trt.settings import ExportSettings, ModelSource
from pt2trt.settings.export import EXPORTERS
from pt2trt.shapes import InputSpec, apply_dynamic

if TYPE_CHECKING:
    import onnx
    import torch


@dataclass
class ExportResult:
    """What ``export()`` wrote and how."""

    path: Path
    exporter: str
    opset: int
    seconds: float
    size_bytes: int
    inputs: list[InputSpec]
    outputs: list[str]
    external_data: bool = False
    fallback_reason: str | None = None
    log: str = field(default="", repr=False)
    written: OnnxModel | None = field(default=None, repr=False, compare=False)  # the handle, proto in memory

    @property
    def model(self) -> OnnxModel:
        """The handle of the file written (its proto already in memory: the next step reads nothing)."""
        return self.written if self.written is not None else OnnxModel(self.path)

    def closing_line(self) -> str:
        via = self.exporter + (" (fallback from dynamo)" if self.fallback_reason else "")
        extra = " + external data" if self.external_data else ""
        return (
            f"exported {self.path} ({format_size(self.size_bytes)}{extra}), {via} exporter, opset {self.opset}, "
            f"{self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "exporter": self.exporter,
            "opset": self.opset,
            "seconds": round(self.seconds, 3),
            "size_bytes": self.size_bytes,
            "external_data": self.external_data,
            "fallback_reason": self.fallback_reason,
            "inputs": [s.to_dict() for s in self.inputs],
            "outputs": self.outputs,
        }


def check_output_path(output: str | Path, *, force: bool) -> Path:
    """An ``.onnx`` path that may be written (exists only with ``force``)."""
    out = check_writable(output, force=force)
    if out.suffix != ".onnx":
        raise UsageError(f"output {out} does not end in .onnx", "Name the output file like model.onnx")
    return out


def _skip_known_failure(module: Any) -> str | None:
    """The fallback reason when dynamo is known to fail on this architecture (pytorch/exporter_memory.py)."""
    from pt2trt.pytorch import exporter_memory

    reason = exporter_memory.known_failure(module)
    if reason is None:
        return None
    return f"{reason} (remembered from an earlier export of {type(module).__name__}: dynamo not tried again)"


def _learn(module: Any, used: str, failures: list[str]) -> None:
    from pt2trt.pytorch import exporter_memory

    if used == "dynamo":
        exporter_memory.forget_failure(module)
    elif failures and failures[0].startswith("dynamo:"):
        exporter_memory.remember_failure(module, failures[0])


def opset_range(exporter: str) -> tuple[int, int]:
    """The opsets the installed torch can export with ``exporter`` (inclusive)."""
    from torch.onnx import _constants

    low = _constants.ONNX_MIN_OPSET
    if exporter == "legacy":
        return low, _constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET
    return low, _constants.ONNX_MAX_OPSET


def resolve_inputs(loaded: LoadedModel, specs: Sequence[InputSpec]) -> list[InputSpec]:
    """Give unnamed specs forward()'s parameter names and check the count against forward()."""
    if not specs:
        raise UsageError("no input shapes given", "Pass one --input NAME:SHAPE per forward() argument")
    loaded.check_input_count(len(specs))
    defaults = loaded.input_names(len(specs))
    named = [s if s.name else s.with_name(d) for s, d in zip(specs, defaults)]
    seen: set[str] = set()
    for s in named:
        if s.name in seen:
            raise UsageError(f"input name '{s.name}' is used twice", "Give each --input a different name")
        seen.add(str(s.name))
    return named


def example_tensors(specs: Sequence[InputSpec], *, seed: int = 0, widen_dynamic: bool = False) -> list[torch.Tensor]:
    """Seeded example inputs; ``widen_dynamic`` turns size-1 dynamic axes into 2 (torch.export specialises 1)."""
    import torch

    from pt2trt.feeds import random_feed

    if widen_dynamic:
        specs = [_widened(s) for s in specs]
    return [torch.from_numpy(a) for a in random_feed(specs, seed).values()]


def _widened(spec: InputSpec) -> InputSpec:
    for axis in spec.dynamic:
        if spec.shape[axis] == 1:
            spec = spec.with_dim(axis, 2)
    return spec


def export(
    model: str | torch.nn.Module | LoadedModel | ModelSource,
    inputs: Sequence[InputSpec],
    output: str | Path,
    settings: ExportSettings | None = None,
    *,
    force: bool = False,
) -> ExportResult:
    """Export ``model`` (a spec, a module, a LoadedModel, or a :class:`~pt2trt.settings.ModelSource` with its
    weights) to ONNX at ``output``.

    ``inputs`` give one spec per ``forward()`` argument (unnamed ones take the parameter's name). ``settings``
    (:class:`~pt2trt.settings.ExportSettings`): ``dynamic_batch`` makes dim 0 of every input dynamic and
    ``dynamic`` (``NAME:AXIS[=LABEL],...``, as ``--dynamic``) chosen axes; ``output_names`` name the outputs in order
    (default: from the output structure); ``exporter="auto"`` tries the dynamo exporter and falls back to the legacy
    one, recording why; ``external_data=None`` stores weights in ``OUT.onnx.data`` only when the model is too big
    for one protobuf; ``preprocess`` (a :class:`~pt2trt.imaging.preprocess.Preprocess`, a preset name or a YAML
    file) is recorded in the ONNX metadata, so that ``predict`` on the exported model needs no preprocessing flags;
    ``custom_translation_table`` (dynamo exporter only) maps torch ops to your own ONNX translations, as in
    ``torch.onnx.export``; for the legacy exporter register symbolics with ``torch.onnx.register_custom_op_symbolic``.
    """
    import torch

    s = settings or ExportSettings()
    exporter, opset, custom_translation_table = s.exporter, s.opset, s.custom_translation_table
    if exporter not in EXPORTERS:
        raise UsageError(f"unknown exporter '{exporter}'", f"Use one of: {', '.join(EXPORTERS)}")
    if custom_translation_table and exporter == "legacy":
        raise UsageError(
            "custom_translation_table applies to the dynamo exporter only",
            "Use torch.onnx.register_custom_op_symbolic with the legacy exporter",
        )
    out = check_output_path(output, force=force)
    if s.external_data:
        check_data_file(out, force=force)
    recipe = load_preprocess(s.preprocess) if isinstance(s.preprocess, str | Path) else s.preprocess
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    specs = apply_dynamic(resolve_inputs(loaded, inputs), dynamic_batch=s.dynamic_batch, dynamic=s.dynamic)
    candidates = ["dynamo", "legacy"] if exporter == "auto" else [exporter]
    skipped = _skip_known_failure(loaded.module) if exporter == "auto" else None
    if skipped is not None:
        candidates = ["legacy"]
    if opset is not None:
        candidates = _opset_capable(candidates, opset, explicit=exporter != "auto")
    seed, constant_folding, output_names, external_data = s.seed, s.constant_folding, s.output_names, s.external_data

    with torch.no_grad():
        try:
            with no_exit(f"running {loaded.spec}"):
                eager = loaded.module(*example_tensors(specs, seed=seed))
        except Pt2trtError:
            raise
        except Exception as exc:
            raise Pt2trtError(
                f"running {loaded.spec} on inputs {', '.join(map(str, specs))} failed: {type(exc).__name__}: {exc}",
                "Check the input shapes and dtypes (--input NAME:SHAPE[:DTYPE])",
            ) from exc
    paths = [p for p, leaf in flatten_outputs(eager) if isinstance(leaf, torch.Tensor)]
    if not paths:
        raise Pt2trtError(
            f"{loaded.spec}'s forward returned {type(eager).__name__}, with no tensor in it: nothing to export",
            "Return the output tensor(s) from forward (a tensor, or a tuple/list/dict of tensors)",
        )
    names = list(output_names) if output_names else names_from_structure(paths)
    if len(names) != len(paths):
        raise UsageError(
            f"{len(names)} output names given but the model has {len(paths)} outputs",
            f"Pass --output-name {len(paths)} times, or not at all",
        )

    start = time.perf_counter()
    failures: list[str] = []
    logs: list[str] = []
    proto, used = None, ""
    for candidate in candidates:
        with capture_output() as captured:
            try:
                use_table = custom_translation_table and candidate == "dynamo"
                extra = {"custom_translation_table": custom_translation_table} if use_table else {}
                proto = _EXPORT_FUNCTIONS[candidate](
                    loaded.module, specs, names, opset, constant_folding, seed, **extra
                )
            except Exception as exc:  # any exporter failure is reported, then the next exporter is tried
                failures.append(f"{candidate}: {_first_line(exc)}")
        logs.append(captured.text)
        if proto is not None:
            used = candidate
            break
    if proto is None:
        raise Pt2trtError("export failed with " + "; ".join(failures), _retry_hint(candidates))
    seconds = time.perf_counter() - start
    fallback_reason = failures[0] if failures and used == "legacy" and exporter == "auto" else skipped
    if exporter == "auto" and "dynamo" in candidates:
        _learn(loaded.module, used, failures)
    meta.write_metadata(
        proto,
        {
            meta.MODEL: loaded.spec,
            meta.INPUTS: meta.inputs_entry(specs),
            meta.EXPORTER: used,
            **({meta.FALLBACK_REASON: fallback_reason} if fallback_reason else {}),
            **({meta.PREPROCESSING: recipe.to_json()} if recipe is not None else {}),
            meta.TORCH_VERSION: torch.__version__,
            meta.ONNX_VERSION: _onnx_version(),
            meta.PT2TRT_VERSION: _version.__version__,
        },
    )
    use_external = external_data if external_data is not None else proto.ByteSize() > EXTERNAL_DATA_THRESHOLD
    size = save_onnx(proto, out, external_data=use_external, replace=force)
    return ExportResult(
        path=out,
        exporter=used,
        opset=_default_opset(proto),
        seconds=seconds,
        size_bytes=size,
        inputs=specs,
        outputs=names,
        external_data=use_external,
        fallback_reason=fallback_reason,
        log="\n".join(logs),
        written=None if use_external else OnnxModel(out, proto),  # external data moved the weights out of proto
    )


def _retry_hint(tried: list[str]) -> str:
    others = [f"--exporter {e}" for e in ("dynamo", "legacy") if e not in tried]
    return "Try " + ", ".join([*others, "another --opset"]) + ", or --verbose for the exporter's log"


def _opset_capable(candidates: list[str], opset: int, *, explicit: bool) -> list[str]:
    capable = [c for c in candidates if opset_range(c)[0] <= opset <= opset_range(c)[1]]
    if not capable:
        ranges = ", ".join(f"{c} exporter {opset_range(c)[0]}-{opset_range(c)[1]}" for c in candidates)
        import torch

        raise UsageError(
            f"opset {opset} cannot be exported by torch {torch.__version__} ({ranges})",
            "Choose an opset in that range",
        )
    return capable if not explicit else candidates


def _first_line(exc: BaseException) -> str:
    """The root cause of an exporter failure in one line (torch wraps the real error in several layers)."""
    chain = [exc]
    while len(chain) < 20:
        nxt = chain[-1].__cause__ or (None if chain[-1].__suppress_context__ else chain[-1].__context__)
        if nxt is None:
            break
        chain.append(nxt)
    root = chain[-1]
    lines = [line.strip() for line in _ANSI.sub("", str(root)).splitlines() if line.strip()]
    text = lines[0][:300] if lines else ""
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _dynamo(
    module: torch.nn.Module,
    specs: list[InputSpec],
    names: list[str],
    opset: int | None,
    constant_folding: bool,
    seed: int,
    custom_translation_table: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
) -> onnx.ModelProto:
    import torch

    dims: dict[str, Any] = {}
    dynamic_shapes = tuple(
        {axis: dims.setdefault(label, torch.export.Dim(label)) for axis, label in s.dynamic.items()} or None
        for s in specs
    )
    program = torch.onnx.export(
        module,
        tuple(example_tensors(specs, seed=seed, widen_dynamic=True)),
        None,
        dynamo=True,
        input_names=[str(s.name) for s in specs],
        output_names=names,
        opset_version=opset,
        dynamic_shapes=dynamic_shapes if any(d is not None for d in dynamic_shapes) else None,
        optimize=constant_folding,
        verbose=False,
        **({"custom_translation_table": dict(custom_translation_table)} if custom_translation_table else {}),
    )
    if program is None:  # pragma: no cover - torch contract
        raise RuntimeError("torch.onnx.export returned no program")
    return program.model_proto


def _legacy(
    module: torch.nn.Module,
    specs: list[InputSpec],
    names: list[str],
    opset: int | None,
    constant_folding: bool,
    seed: int,
) -> onnx.ModelProto:
    import tempfile
    import warnings

    import torch

    from pt2trt.onnx.load import load_onnx

    dynamic_axes: dict[str, dict[int, str]] = {str(s.name): dict(s.dynamic) for s in specs if s.dynamic}
    batch_dynamic = any(0 in s.dynamic for s in specs)
    if batch_dynamic:  # outputs share the batch axis; detection outputs get their own symbolic dims anyway
        for name in names:
            dynamic_axes.setdefault(name, {0: "batch"})
    with tempfile.TemporaryDirectory(prefix="pt2trt-legacy-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(
            module,
            tuple(example_tensors(specs, seed=seed)),
            str(path),
            dynamo=False,
            input_names=[str(s.name) for s in specs],
            output_names=names,
            opset_version=opset,
            dynamic_axes=dynamic_axes or None,
            do_constant_folding=constant_folding,
        )
        return load_onnx(path)


_EXPORT_FUNCTIONS = {"dynamo": _dynamo, "legacy": _legacy}


def _default_opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _onnx_version() -> str:
    import onnx

    return onnx.__version__
