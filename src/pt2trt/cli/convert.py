"""``pt2trt convert``: the whole job, from a PyTorch model or an ONNX file, its options kept in a file if wished."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.config_file import config_option, effective_config
from pt2trt.cli.groups import export_options, trt_version_option
from pt2trt.cli.options import force_option, input_option, json_option, print_json, tolerance_options, weights_options
from pt2trt.cli.task_options import preprocess_options, task_options

_SHAPES = "NAME:DIMS[,NAME:DIMS...]"


def _choices(name: str) -> Callable[[], list[str]]:
    def read() -> list[str]:
        from pt2trt.settings import convert

        return list(getattr(convert, name))

    return read


#: convert's own options (the others come from the shared groups), in --help order
_OWN: list[click.Option] = [
    click.Option(["--pytorch"], metavar="MODEL",
                 help="An ONNX MODEL's PyTorch model (with --weights), to verify it against [default: none]."),
    click.Option(["--labels"], type=click.Path(dir_okay=False), metavar="FILE|NAME",
                 help="Class names for predictions and --eval (a file, or imagenet, coco, voc...)."),
    click.Option(["--precision"], default="fp32", show_default=True, metavar="fp32|fp16|int8[,...]",
                 callback=lambda ctx, param, value: _checked(_precisions, value),
                 help="Also write reduced-precision ONNX (pt2trt.precision), one or several (fp16,int8: the report "
                 "compares all); the engine is built from the last one."),
    click.Option(["--min-agreement"], type=click.FloatRange(0, 1), default=0.99, show_default=True, metavar="FRACTION",
                 help="A precision fails unless it keeps this fraction of FP32's task answers (top-1, boxes agreeing, "
                 "pixels); the run goes on, and the engine is built from the last precision that passed."),
    click.Option(["--calib"], metavar="DATA",
                 help="Calibration data for --precision (folder of images or .npz) [default: --images]."),
    trt_version_option("10", "TensorRT version to lint and plan the engine for."),
    click.Option(["--max-batch"], type=click.IntRange(min=1), default=8, show_default=True,
                 help="Largest batch of the engine's profile (dynamic batch axes)."),
    click.Option(["--min-shapes"], multiple=True, metavar=_SHAPES,
                 help="The engine profile's smallest shapes [default: batch 1, other dynamic axes half the example]."),
    click.Option(["--opt-shapes"], multiple=True, metavar=_SHAPES,
                 help="Shapes to tune the engine for [default: the example shapes]."),
    click.Option(["--max-shapes"], multiple=True, metavar=_SHAPES,
                 help="The engine profile's largest shapes [default: --max-batch, other dynamic axes twice the "
                 "example]."),
    click.Option(["--simplify-engine"], type=RegistryChoice(_choices("SIMPLIFY_ENGINES")), default="onnxslim",
                 show_default=True, help="Simplifier; its result is kept only when ONNX Runtime proves it equivalent."),
    click.Option(["--backend", "backends"], default="torch,onnxruntime,openvino", show_default=True, metavar="LIST",
                 callback=lambda ctx, param, value: _checked(_backends, value),
                 help="Backends to bench (and to predict with, where they run the ONNX model)."),
    click.Option(["--bench-duration"], type=float, default=0.3, show_default=True, metavar="S",
                 help="Seconds per backend (at least 5 inferences); pt2trt bench measures longer."),
    click.Option(["--images"], type=click.Path(), metavar="DIR|GLOB",
                 help="Sample pictures, a folder or a quoted glob ('val/**/*.jpg'): verify and predictions on them "
                 "(and calibration without --calib)."),
    click.Option(["--eval", "eval_data"], type=click.Path(exists=True), metavar="DATA",
                 help="Labelled data (as pt2trt eval takes it): PyTorch, FP32 and each precision scored side by "
                 "side."),
    click.Option(["--max-drop"], type=click.FloatRange(min=0), metavar="POINTS",
                 help="With --eval: a precision that loses more than POINTS percentage points fails its step; int8 "
                 "first keeps the fewest layers in float that hold it (quantize --max-drop)."),
]  # fmt: skip


def convert_settings(f: Callable[..., Any]) -> Callable[..., Any]:
    """convert's own options, and the shared groups' settings (export, weights, tolerance, task, preprocessing),
    combined into one ``settings: ConvertSettings`` argument. Apply it under the shared groups' decorators."""
    names = [str(p.name) for p in _OWN]

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        own = {name: kwargs.pop(name) for name in names}
        parts = {k: kwargs.pop(k) for k in ("inputs", "export", "weights", "tolerance", "task", "preprocess")}
        kwargs["settings"] = make_settings(own, parts, kwargs["force"])
        return f(*args, **kwargs)

    command.__dict__.setdefault("__click_params__", []).extend(reversed(_OWN))
    return command


def make_settings(own: dict[str, Any], parts: dict[str, Any], force: bool) -> Any:
    """The :class:`~pt2trt.settings.ConvertSettings` of the parsed options (the effective configuration recorded)."""
    from pt2trt.bench import parse_backends
    from pt2trt.settings import ConvertSettings
    from pt2trt.settings.tensorrt import parse_profile_flags

    precisions = _precisions(own["precision"])
    preprocess = parts["preprocess"]
    return ConvertSettings(
        inputs=tuple(parts["inputs"]), export=parts["export"], weights=parts["weights"], pytorch=own["pytorch"],
        tolerance=parts["tolerance"],
        task=parts["task"], preprocess=preprocess, labels=own["labels"], precisions=precisions,
        calib=_path(own["calib"]), min_agreement=own["min_agreement"], trt_version=own["trt_version"],
        profiles=parse_profile_flags((), own["min_shapes"], own["opt_shapes"], own["max_shapes"]),
        max_batch=own["max_batch"], simplify_engine=own["simplify_engine"],
        backends=tuple(parse_backends(own["backends"])), bench_duration=own["bench_duration"],
        images=_path(own["images"]), eval_data=_path(own["eval_data"]), max_drop=own["max_drop"], force=force,
        config=effective_config(click.get_current_context()),
    )  # fmt: skip


def _precisions(text: str) -> tuple[str, ...]:
    """``fp16,int8`` -> the reduced precisions asked for, in order (``fp32`` alone: none)."""
    from pt2trt.errors import UsageError
    from pt2trt.settings.convert import PRECISIONS

    items = [p.strip() for p in text.split(",")]
    unknown = [p for p in items if p not in PRECISIONS]
    if unknown or not text.strip():
        raise UsageError(
            f"unknown precision '{','.join(unknown) or text}'",
            f"Use one of {', '.join(PRECISIONS)}, or several: --precision fp16,int8",
        )
    return tuple(p for p in dict.fromkeys(items) if p != "fp32")


def _backends(text: str) -> list[str]:
    from pt2trt.bench import parse_backends

    return parse_backends(text)


def _checked(parse: Callable[[str], Any], value: str) -> str:
    """``value`` unchanged once ``parse`` accepts it: a comma list checked while the options are parsed, so that
    click names the option (and a config file's key) of a bad one."""
    from pt2trt.errors import UsageError

    try:
        parse(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc).rstrip(".")) from None
    return value


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@click.command("convert")
@click.argument("model", required=False)
@input_option("Input shape per forward() argument, as for export (a PyTorch MODEL); an ONNX MODEL's dynamic axes' "
              "example sizes.")  # fmt: skip
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), help="Output directory (required).")
@export_options(preprocess=False)
@weights_options()
@tolerance_options()
@task_options(required=False, output_name=False)
@preprocess_options()
@convert_settings
@click.option("-q", "--quiet", is_flag=True, help="No progress display; only the final line.")
@force_option
@json_option
@config_option
def command(
    model: str | None, outdir: str | None, settings: Any, quiet: bool, force: bool, as_json: bool
) -> Any:  # fmt: skip
    """The whole job into OUTDIR (report.html): from a PyTorch MODEL (export, check, simplify, verify) or an ONNX
    MODEL (check, simplify, verify with --pytorch), then the TensorRT lint, reduced precision, the engine or its plan,
    bench, predictions, --eval. Exit 0 when every step passed, 1 when a check failed, 2 on usage errors.

    \b
    pt2trt convert torchvision:resnet18 --input input:1x3x224x224 --dynamic-batch -o out/r18 --images photos/
    pt2trt convert torchvision:mobilenet_v2 --weights sd.pt --preprocess imagenet-classification -i 1x3x224x224 -o out
    pt2trt convert model.onnx -o out/model --precision fp16,int8 --images photos/
    pt2trt convert --config convert.yaml -o out/again
    """
    from pt2trt.conversion import convert
    from pt2trt.errors import UsageError

    if click.get_current_context().meta.get(SETTINGS_ONLY):
        return settings
    if model is None or outdir is None:
        missing = "MODEL" if model is None else "-o/--output"
        raise UsageError(f"convert needs {missing}", f"Give {missing} on the command line or in --config")
    result = convert(model, outdir, settings, progress=not quiet and not as_json)
    if as_json:
        print_json(result.to_dict())
    else:
        failed = [s.title for s in result.steps if s.status == "failed"]
        click.echo(result.verdict() if result.passed else f"{', '.join(failed) or 'convert'} failed")
        click.echo(f"report: {result.report_html}")
    if result.error is not None:
        raise result.error  # the failed step's own error: one line on stderr (the CLI's handler), its exit code


#: ``ctx.meta`` key: parse the options and build the settings, run nothing (see :func:`settings_of`)
SETTINGS_ONLY = "pt2trt.convert.settings_only"


def settings_of(values: Mapping[str, Any]) -> Any:
    """The :class:`~pt2trt.settings.ConvertSettings` that ``convert`` would run with for ``values`` (by parameter
    name, as :func:`~pt2trt.cli.config_file.config_values` gives them), nothing run: every value goes through
    convert's click types and callbacks and its settings' checks, as a ``--config`` file's values do. click's errors
    (naming their parameter) and pt2trt's usage errors propagate. ``pt2trt sweep`` checks a manifest's entries so."""
    with command.make_context("convert", [], default_map=dict(values)) as ctx:
        ctx.meta[SETTINGS_ONLY] = True
        return command.invoke(ctx)
