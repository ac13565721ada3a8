"""``pt2trt build``."""

from __future__ import annotations

import click

from pt2trt.cli.options import force_option, json_option, print_json

_SHAPES = "NAME:DIMS[,NAME:DIMS...]"


@click.command("build")
@click.argument("onnx_file", metavar="MODEL.onnx")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Engine file to write [default: MODEL.engine].")
@click.option("--shapes", multiple=True, metavar=_SHAPES, help="A fixed-shape profile (min = opt = max); repeatable.")
@click.option("--min-shapes", multiple=True, metavar=_SHAPES, help="Smallest shapes of a profile; one per profile.")
@click.option("--opt-shapes", multiple=True, metavar=_SHAPES, help="Shapes to tune for [default: the max shapes].")
@click.option("--max-shapes", multiple=True, metavar=_SHAPES, help="Largest shapes of a profile; one per profile.")
@click.option("--fp16", is_flag=True, help="FP16: builder flag on TensorRT 8.6/10; the ONNX is converted on 11.")
@click.option("--int8", is_flag=True, help="INT8: calibration on 8.6/10 (or Q/DQ nodes); on 11 Q/DQ (quantized first).")
@click.option(
    "--calib-data",
    type=click.Path(exists=False),
    metavar="PATH",
    help="Calibration data: a folder of images (preprocessed like the model's input) or .npy/.npz batches "
    "(INT8; on TensorRT 11 also the ranges of the mixed FP16 conversion).",
)
@click.option(
    "--calib-cache", type=click.Path(dir_okay=False), metavar="FILE", help="INT8 calibration cache (read, written)."
)
@click.option(
    "--keep-io-types/--no-keep-io-types",
    default=True,
    show_default=True,
    help="TensorRT 11 --fp16: keep float32 inputs/outputs when converting the ONNX.",
)
@click.option("--workspace", "workspace_mib", type=int, metavar="MiB", help="Workspace memory pool limit.")
@click.option("--timing-cache", type=click.Path(dir_okay=False), metavar="FILE", help="Timing cache: read, updated.")
@click.option("--builder-optimization-level", type=int, metavar="N", help="0-5 [default: TensorRT's, 3].")
@click.option("--version-compatible", is_flag=True, help="Let later TensorRT versions run the engine.")
@click.option(
    "--hardware-compatibility-level",
    type=click.Choice(["none", "ampere+", "same-compute-capability"]),
    default="none",
    show_default=True,
    help="Let other GPUs run the engine.",
)
@click.option(
    "--trt-version",
    type=click.Choice(["8.6", "10", "11"]),
    help="Target TensorRT [default: the installed one]; with --dry-run, plans for a version not installed here.",
)
@click.option("--dry-run", is_flag=True, help="Resolve and check everything that needs no GPU, print the plan, stop.")
@click.option("--device", type=int, default=0, show_default=True, help="CUDA device to build on.")
@force_option
@json_option
@click.option("-v", "--verbose", is_flag=True, help="Show TensorRT's build log.")
def command(
    onnx_file: str,
    output: str | None,
    shapes: tuple[str, ...],
    min_shapes: tuple[str, ...],
    opt_shapes: tuple[str, ...],
    max_shapes: tuple[str, ...],
    fp16: bool,
    int8: bool,
    calib_data: str | None,
    calib_cache: str | None,
    keep_io_types: bool,
    workspace_mib: int | None,
    timing_cache: str | None,
    builder_optimization_level: int | None,
    version_compatible: bool,
    hardware_compatibility_level: str,
    trt_version: str | None,
    dry_run: bool,
    device: int,
    force: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Build a TensorRT engine from MODEL.onnx, with MODEL.engine.json beside it (TensorRT version, GPU, ...).

    \b
    Dynamic inputs need a shape range, as with trtexec:
      pt2trt build r18.onnx --min-shapes input:1x3x224x224 --opt-shapes input:8x3x224x224 \\
                            --max-shapes input:32x3x224x224 --fp16
    Check the plan on any machine, without TensorRT or a GPU:
      pt2trt build r18.onnx --shapes input:8x3x224x224 --trt-version 11 --fp16 --dry-run
    """
    from pt2trt.backends.tensorrt.plan import make_plan

    options = dict(
        shapes=shapes,
        min_shapes=min_shapes,
        opt_shapes=opt_shapes,
        max_shapes=max_shapes,
        fp16=fp16,
        int8=int8,
        calibration_data=calib_data,
        calibration_cache=calib_cache,
        keep_io_types=keep_io_types,
        workspace_mib=workspace_mib,
        timing_cache=timing_cache,
        builder_optimization_level=builder_optimization_level,
        version_compatible=version_compatible,
        hardware_compatibility_level=hardware_compatibility_level,
        trt_version=trt_version,
        force=force,
    )
    if dry_run:
        plan = make_plan(onnx_file, output, **options)
        if as_json:
            print_json({"dry_run": True, **plan.to_dict()})
            return
        click.echo("\n".join(plan.lines()))
        click.echo(f"dry run: nothing built. To build: {plan.command(force=force)}")
        return

    from pt2trt.backends.tensorrt.build import build
    from pt2trt.precision import for_build

    result = build(onnx_file, output, device=device, convert=for_build, **options)
    if verbose and result.log.strip():
        click.echo(result.log.rstrip(), err=True)
    if as_json:
        print_json(result.to_dict())
        return
    for note in result.plan.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(result.closing_line())
