"""Option groups that build settings objects: a TensorRT build, a runner, a timing loop, an export, a PyTorch model.

Each group is a list of click options and the settings dataclass it makes (:func:`pt2trt.cli.options.option_group`);
the choices come from the module that owns them (TensorRT targets from ``backends.tensorrt.versions``, exporters from
``settings.export``), read when ``--help`` or parsing needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.options import Decorator, option_group

_SHAPES = "NAME:DIMS[,NAME:DIMS...]"


def trt_targets() -> list[str]:
    from pt2trt.backends.tensorrt.versions import TARGETS

    return list(TARGETS)


def trt_version_option(default: str | None, help_text: str) -> click.Option:
    """``--trt-version``: the TensorRT version to plan, lint or build for."""
    return click.Option(
        ["--trt-version"], type=RegistryChoice(trt_targets), default=default, show_default=default is not None,
        help=help_text,
    )  # fmt: skip


def _hardware_levels() -> list[str]:
    from pt2trt.backends.tensorrt.plan import HARDWARE_LEVELS

    return list(HARDWARE_LEVELS)


def build_options() -> Decorator:
    """trtexec's build flags -> ``build: BuildSettings`` (profiles parsed from the shape flags)."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import BuildSettings
        from pt2trt.settings.tensorrt import parse_profile_flags

        profiles = parse_profile_flags(v["shapes"], v["min_shapes"], v["opt_shapes"], v["max_shapes"])
        return BuildSettings(
            trt_version=v["trt_version"], profiles=profiles, fp16=v["fp16"], int8=v["int8"],
            calibration_data=_path(v["calib_data"]), calibration_cache=_path(v["calib_cache"]),
            keep_io_types=v["keep_io_types"], workspace_mib=v["workspace_mib"], timing_cache=_path(v["timing_cache"]),
            builder_optimization_level=v["builder_optimization_level"], version_compatible=v["version_compatible"],
            hardware_compatibility_level=v["hardware_compatibility_level"],
        )  # fmt: skip

    return option_group(
        "build",
        [
            click.Option(["--shapes"], multiple=True, metavar=_SHAPES,
                         help="A fixed-shape profile (min = opt = max); repeatable."),
            click.Option(["--min-shapes"], multiple=True, metavar=_SHAPES,
                         help="Smallest shapes of a profile; one per profile."),
            click.Option(["--opt-shapes"], multiple=True, metavar=_SHAPES,
                         help="Shapes to tune for [default: the max shapes]."),
            click.Option(["--max-shapes"], multiple=True, metavar=_SHAPES,
                         help="Largest shapes of a profile; one per profile."),
            click.Option(["--fp16"], is_flag=True,
                         help="FP16: builder flag on TensorRT 8.6/10; the ONNX is converted on 11."),
            click.Option(["--int8"], is_flag=True,
                         help="INT8: calibration on 8.6/10 (or Q/DQ nodes); on 11 Q/DQ (quantized first)."),
            click.Option(
                ["--calib-data"], type=click.Path(exists=False), metavar="PATH",
                help="Calibration data: a folder of images (preprocessed like the model's input) or .npy/.npz batches "
                "(INT8; on TensorRT 11 also the ranges of the mixed FP16 conversion).",
            ),
            click.Option(["--calib-cache"], type=click.Path(dir_okay=False), metavar="FILE",
                         help="INT8 calibration cache (read, written)."),
            click.Option(["--keep-io-types/--no-keep-io-types"], default=True, show_default=True,
                         help="TensorRT 11 --fp16: keep float32 inputs/outputs when converting the ONNX."),
            click.Option(["--workspace", "workspace_mib"], type=int, metavar="MiB",
                         help="Workspace memory pool limit."),
            click.Option(["--timing-cache"], type=click.Path(dir_okay=False), metavar="FILE",
                         help="Timing cache: read, updated."),
            click.Option(["--builder-optimization-level"], type=int, metavar="N",
                         help="0-5 [default: TensorRT's, 3]."),
            click.Option(["--version-compatible"], is_flag=True, help="Let later TensorRT versions run the engine."),
            click.Option(["--hardware-compatibility-level"], type=RegistryChoice(_hardware_levels), default="none",
                         show_default=True, help="Let other GPUs run the engine."),
            trt_version_option(
                None, "Target TensorRT [default: the installed one]; with --dry-run, plans for a version not "
                "installed here."
            ),
        ],
        make,
    )  # fmt: skip


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def export_options(*, preprocess: bool = True) -> Decorator:
    """The exporter's flags -> ``export: ExportSettings`` (``preprocess=False`` leaves out --preprocess, for a
    command whose preprocessing group already has it)."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings import ExportSettings

        return ExportSettings(
            exporter=v["exporter"], opset=v["opset"], output_names=tuple(v["output_names"]),
            dynamic_batch=v["dynamic_batch"], dynamic=tuple(v["dynamic"]), constant_folding=v["constant_folding"],
            external_data=v["external_data"], preprocess=v.get("preprocess"),
        )  # fmt: skip

    def exporters() -> list[str]:
        from pt2trt.settings.export import EXPORTERS

        return list(EXPORTERS)

    params = [
        click.Option(["--exporter"], type=RegistryChoice(exporters), default="auto", show_default=True,
                     help="auto tries dynamo, then falls back to legacy (TorchScript) and records why."),
        click.Option(["--opset"], type=int, help="ai.onnx opset to target [default: torch's default]."),
        click.Option(["--output-name", "output_names"], multiple=True, metavar="NAME",
                     help="Name of each output in order [default: from the output structure]."),
        click.Option(["--dynamic-batch"], is_flag=True, help="Make dim 0 of every input (and output) dynamic."),
        click.Option(["--dynamic"], multiple=True, metavar="NAME:AXIS[=LABEL],...",
                     help="Make axes of one input dynamic, e.g. input:0=batch,2,3."),
        click.Option(["--constant-folding/--no-constant-folding"], default=True, show_default=True),
        click.Option(["--external-data/--no-external-data"], default=None,
                     help="Store weights in OUT.onnx.data [default: only when the model exceeds 2 GB]."),
    ]  # fmt: skip
    if preprocess:
        params.append(
            click.Option(
                ["--preprocess"],
                metavar="PRESET|FILE.yaml",
                help="Record the image preprocessing in the ONNX metadata (used by predict): imagenet-classification, "
                "yolo-letterbox-640, ... or a YAML file.",
            )
        )
    return option_group("export", params, make)
