"""``quantize``: FP32 ONNX -> mixed FP16 or INT8 Q/DQ ONNX, calibrated on real data, with its accuracy cost measured.

Steps, each with explicit inputs: load the samples (calibration, and held-apart evaluation), collect activation
statistics once, convert (FP16 analysis + onnxconverter-common, or ONNX Runtime's Q/DQ quantizer), measure against
FP32 on the evaluation samples, optionally keep the worst INT8 layers in float until the target is met, record
everything in the output's ``pt2trt.*`` metadata and publish the file atomically.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import UsageError
from pt2trt.files import check_writable, existing_file, publish, staging_dir
from pt2trt.precision.accuracy import Accuracy, measure, run_outputs
from pt2trt.precision.data import Samples, load_samples
from pt2trt.precision.int8 import check_method
from pt2trt.precision.names import Layer

if TYPE_CHECKING:
    import onnx

    from pt2trt.imaging.preprocess import Preprocess

PRECISIONS = ("fp16", "int8")
MAX_AUTO_EXCLUSIONS = 10
RANK_SAMPLES = 8
KEY = "pt2trt.precision"


@dataclass
class QuantizeResult:
    """What ``quantize`` wrote and what it measured."""

    output: Path
    precision: str
    kept_fp32: list[Layer]
    excluded: list[Layer]
    calibration: dict[str, Any]
    accuracy: Accuracy
    method: str | None = None
    seconds: float = 0.0
    size_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.accuracy.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "precision": self.precision,
            "method": self.method,
            "kept_fp32": [layer.to_dict() for layer in self.kept_fp32],
            "excluded": [layer.to_dict() for layer in self.excluded],
            "calibration": self.calibration,
            "accuracy": self.accuracy.to_dict(),
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "size_bytes": self.size_bytes,
            "warnings": self.warnings,
            **self.details,
        }


def quantize(
    model: str | Path,
    output: str | Path,
    precision: str,
    *,
    calib: str | Path | None = None,
    eval_data: str | Path | None = None,
    limit: int | None = None,
    preprocess: Preprocess | str | Path | None = None,
    task: str | None = None,
    keep_fp32: Sequence[str] = (),
    exclude: Sequence[str] = (),
    auto_exclude: bool = False,
    target_agreement: float | None = None,
    method: str = "minmax",
    fp16_io: bool = False,
    force: bool = False,
    progress: bool = True,
    max_exclusions: int = MAX_AUTO_EXCLUSIONS,
) -> QuantizeResult:
    """Convert ``model`` to ``precision`` ("fp16" or "int8"), write ``output``, and measure what it cost."""
    from pt2trt.onnx.load import load_onnx
    from pt2trt.precision.statistics import collect_statistics, static_batch

    start = time.perf_counter()
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision '{precision}'", f"Use one of: {', '.join(PRECISIONS)}")
    check_method(method)
    if target_agreement is not None and not 0 < target_agreement <= 1:
        raise UsageError(f"--target-agreement {target_agreement} is not a fraction in (0, 1]", "e.g. 0.99")
    if precision == "fp16" and (exclude or auto_exclude):
        raise UsageError("--exclude/--auto-exclude choose INT8 layers", "For FP16 use --keep-fp32 NODE|MODULE")
    if precision == "int8" and keep_fp32:
        raise UsageError("--keep-fp32 is for FP16", "For INT8 use --exclude NODE|MODULE")
    if auto_exclude and target_agreement is None:
        target_agreement = 0.99
    source = existing_file(model, "ONNX file")
    out = check_writable(output, force=force)
    if out.resolve() == source.resolve():
        raise UsageError("the output would overwrite the model", "Choose another -o path")
    proto = load_onnx(source)
    from pt2trt.precision.names import NodeNames

    NodeNames(proto).resolve([*keep_fp32, *exclude], "--keep-fp32" if keep_fp32 else "--exclude")  # fail early
    warnings: list[str] = []
    calib_samples, eval_samples = _samples(source, proto, calib, eval_data, limit, preprocess, task)
    for note in calib_samples.notes:
        warnings.append(note)
        _warn(note, progress)
    batch, static = static_batch(proto, 8)

    with _Progress(progress) as bar:
        task_id = bar.add(f"statistics over {len(calib_samples)} samples", len(calib_samples))
        stats = collect_statistics(
            proto,
            source,
            calib_samples,
            batch=batch,
            histograms=method != "minmax" and precision == "int8",
            progress=lambda n: bar.advance(task_id, n),
        )
        reference = run_outputs(source, eval_samples, batch, static)
        calibration = {**calib_samples.summary(), "statistics": stats.summary()}
        if precision == "int8":
            calibration["method"] = method
        with staging_dir(out) as tmp:
            staged = tmp / out.name
            evaluate: Callable[[Path], Accuracy] = lambda path: measure(  # noqa: E731
                reference,
                path,
                eval_samples,
                batch=batch,
                static=static,
                task=task,
                target=target_agreement,
                emulate_fp16=precision == "fp16",
            )
            if precision == "fp16":
                converted, kept, excluded, accuracy, details = _fp16(proto, stats, keep_fp32, fp16_io, staged, evaluate)
            else:
                converted, kept, excluded, accuracy, details = _int8(
                    proto, stats, method, exclude, auto_exclude, max_exclusions, calib_samples, tmp, staged, evaluate
                )
            _record(converted, precision, method, kept, excluded, calibration, accuracy)
            _save(converted, staged)
            size = staged.stat().st_size
            data = staged.with_name(staged.name + ".data")  # external weights of a model over 2 GB
            if data.exists():
                publish(data, out.with_name(out.name + ".data"), replace=force)
            publish(staged, out, replace=force)
    return QuantizeResult(
        out,
        precision,
        kept,
        excluded,
        calibration,
        accuracy,
        method if precision == "int8" else None,
        time.perf_counter() - start,
        size,
        warnings,
        details,
    )


def _samples(
    source: Path,
    proto: onnx.ModelProto,
    calib: str | Path | None,
    eval_data: str | Path | None,
    limit: int | None,
    preprocess: Preprocess | str | Path | None,
    task: str | None,
) -> tuple[Samples, Samples]:
    options = {"limit": limit, "preprocess": preprocess, "task": task}
    samples = load_samples(source, proto, calib, **options)
    if eval_data is not None:
        return samples, load_samples(source, proto, eval_data, **options)
    if calib is None:  # random calibration: evaluate on other random samples
        return samples, load_samples(source, proto, None, **options, seed=10_000, count=8)
    return samples.split()


def _fp16(
    proto: onnx.ModelProto,
    stats: Any,
    keep_fp32: Sequence[str],
    fp16_io: bool,
    staged: Path,
    evaluate: Callable[[Path], Accuracy],
) -> tuple[onnx.ModelProto, list[Layer], list[Layer], Accuracy, dict[str, Any]]:
    from pt2trt.precision.fp16 import analyse_fp16, convert_fp16

    kept = analyse_fp16(proto, stats, keep_fp32=keep_fp32)
    converted = convert_fp16(proto, [layer.node for layer in kept], fp16_io=fp16_io)
    _save(converted, staged)
    details = {"fp16_io": fp16_io, "fp16_nodes": _fp16_nodes(converted)}
    return converted, kept, [], evaluate(staged), details


def _int8(
    proto: onnx.ModelProto,
    stats: Any,
    method: str,
    exclude: Sequence[str],
    auto_exclude: bool,
    max_exclusions: int,
    calib_samples: Samples,
    tmp: Path,
    staged: Path,
    evaluate: Callable[[Path], Accuracy],
) -> tuple[onnx.ModelProto, list[Layer], list[Layer], Accuracy, dict[str, Any]]:
    from pt2trt.precision.fp16 import named_copy
    from pt2trt.precision.int8 import qdq_summary, quantize_int8
    from pt2trt.precision.names import NodeNames

    names = NodeNames(proto)
    chosen = names.resolve(exclude, "--exclude")
    excluded = [names.layer(i, f"--exclude {name}") for i, name in chosen.items()]
    converted = quantize_int8(proto, stats, staged, method=method, exclude=[x.node for x in excluded])
    accuracy = evaluate(staged)
    rounds: list[dict[str, Any]] = []
    if auto_exclude and not accuracy.passed:
        from pt2trt.precision.autoexclude import rank_layers

        reference = tmp / "fp32-named.onnx"
        _save(named_copy(proto), reference)
        feed = next(calib_samples.batches(min(RANK_SAMPLES, len(calib_samples))))[0]
        index = {label: i for i, label in enumerate(names.labels)}
        tried: set[str] = {x.node for x in excluded}
        best = _score(accuracy)
        while not accuracy.passed and len(rounds) < max_exclusions:
            ranked = rank_layers(reference, staged, feed, skip=tried)
            if not ranked:
                break
            worst = ranked[0]
            tried.add(worst.node)
            layer = names.layer(index[worst.node], f"auto: added error {worst.added_error:.3g} (1 - cosine)")
            trial = quantize_int8(proto, stats, staged, method=method, exclude=[x.node for x in [*excluded, layer]])
            measured = evaluate(staged)
            kept = _score(measured) > best
            rounds.append({"node": worst.node, "module": worst.module, "agreement": measured.agreement, "kept": kept})
            if kept:  # an exclusion stays only when it brings the converted model closer to FP32
                excluded.append(layer)
                converted, accuracy, best = trial, measured, _score(measured)
        if rounds and not rounds[-1]["kept"]:  # the file on disk is the last trial: write the best one again
            converted = quantize_int8(proto, stats, staged, method=method, exclude=[x.node for x in excluded])
    details: dict[str, Any] = {"qdq": qdq_summary(converted)}
    if auto_exclude:
        details["auto_exclude"] = {"rounds": rounds, "limit": max_exclusions, "target_met": accuracy.passed}
    return converted, [], excluded, accuracy, details


def _score(accuracy: Accuracy) -> tuple[float, float]:
    """Higher is closer to FP32: the task agreement, then the outputs' mean cosine similarity."""
    cosines = [o.comparison.cosine_similarity or 0.0 for o in accuracy.outputs]
    return (accuracy.agreement or 0.0, sum(cosines) / len(cosines) if cosines else 0.0)


def _fp16_nodes(model: onnx.ModelProto) -> dict[str, int]:
    """How many compute nodes run in FP16 and how many stayed FP32 (Cast nodes not counted)."""
    import onnx

    types: dict[str, int] = {v.name: v.type.tensor_type.elem_type for v in model.graph.value_info}
    types.update({v.name: v.type.tensor_type.elem_type for v in model.graph.output})
    half = full = 0
    for node in model.graph.node:
        if node.op_type in ("Cast", "Constant"):
            continue
        kinds = {types.get(t) for t in node.output}
        if onnx.TensorProto.FLOAT16 in kinds:
            half += 1
        elif onnx.TensorProto.FLOAT in kinds:
            full += 1
    return {"fp16": half, "fp32": full}


def _record(
    model: onnx.ModelProto,
    precision: str,
    method: str,
    kept: list[Layer],
    excluded: list[Layer],
    calibration: dict[str, Any],
    accuracy: Accuracy,
) -> None:
    from pt2trt.onnx.metadata import write_metadata

    compact = {k: v for k, v in accuracy.to_dict().items() if k not in ("outputs",)}
    compact["nan_inf_added"] = accuracy.new_nonfinite
    write_metadata(
        model,
        {
            KEY: precision,
            KEY + ".kept_fp32": json.dumps([x.to_dict() for x in kept]),
            KEY + ".excluded": json.dumps([x.to_dict() for x in excluded]),
            KEY + ".calibration": json.dumps({**calibration, **({"method": method} if precision == "int8" else {})}),
            KEY + ".accuracy": json.dumps(compact, default=float),
        },
    )


def _save(model: onnx.ModelProto, path: Path) -> None:
    import onnx

    if model.ByteSize() > 1_800_000_000:
        onnx.save_model(model, str(path), save_as_external_data=True, location=path.name + ".data")
    else:
        onnx.save_model(model, str(path))


def _warn(text: str, enabled: bool) -> None:
    if enabled:
        from rich.console import Console

        Console(stderr=True, soft_wrap=True).print(f"[bold yellow]warning:[/] {text}", highlight=False)
    else:
        import warnings

        warnings.warn(text, stacklevel=3)


class _Progress:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def add(self, text: str, total: int) -> int:
        return self.bar.add_task(text, total=total) if self.bar is not None else 0

    def advance(self, task: int, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(task, n)
