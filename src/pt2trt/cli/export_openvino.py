"""``pt2trt export-openvino``: ONNX to OpenVINO IR, verified against ONNX Runtime."""

from __future__ import annotations

from typing import Any

import click

from pt2trt.cli.options import Decorator, force_option, input_param, option_group
from pt2trt.settings import OpenVinoSettings, RunInputs
from pt2trt.settings.openvino import IR_TOLERANCES


def _tolerance_help(which: str) -> str:
    defaults = "; ".join(f"{name} {getattr(t, which):g}" for name, t in IR_TOLERANCES.items())
    return f"{'Relative' if which == 'rtol' else 'Absolute'} tolerance of the check [default by weights: {defaults}]."


def openvino_options() -> Decorator:
    """--fp16, --no-verify, the check's inputs (--input, --data, --seed) and tolerance (--rtol, --atol) ->
    ``settings: OpenVinoSettings``. A tolerance flag given alone is put over the weight format's default."""

    def make(v: dict[str, Any]) -> OpenVinoSettings:
        return OpenVinoSettings(
            fp16=v["fp16"],
            verify=not v["no_verify"],
            inputs=RunInputs.of(v["inputs"], data=v["data"], seed=v["seed"]),
            rtol=v["rtol"],
            atol=v["atol"],
        )

    return option_group(
        "settings",
        [
            click.Option(["--fp16"], is_flag=True, help="Store FP32 weights in FP16 (half the size; wider tolerance)."),
            click.Option(["--no-verify"], is_flag=True, help="Skip the comparison with ONNX Runtime."),
            input_param("Input shapes of the check [default: recorded at export, else the graph's; a dynamic batch "
                        "at 1]."),
            click.Option(["--data"], multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
                         help="Real inputs for the check instead of random ones: .npz (named) or .npy (in order)."),
            click.Option(["--seed"], type=int, default=0, show_default=True, help="Seed of the random inputs."),
            click.Option(["--rtol"], type=float, help=_tolerance_help("rtol")),
            click.Option(["--atol"], type=float, help=_tolerance_help("atol")),
        ],
        make,
    )  # fmt: skip


@click.command("export-openvino")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, metavar="DIR|FILE.xml", help="Folder (MODEL's name .xml inside) or .xml path."
)
@openvino_options()
@force_option
def command(model: str, output: str, settings: OpenVinoSettings, force: bool) -> None:
    """Convert MODEL (.onnx) to an OpenVINO IR (.xml + .bin) for CPU deployment.

    A Q/DQ or dynamically quantized (INT8) ONNX becomes an INT8 IR, an FP16 ONNX an FP16 one. The IR runs with
    OpenVINO on seeded random inputs (or --data) and is compared with ONNX Runtime before it is written, with the
    tolerance of its weight format; `pt2trt predict MODEL.xml` and `pt2trt triton MODEL.xml` take the result.

    \b
    Examples:
      pt2trt export-openvino r18.onnx -o ir/
      pt2trt export-openvino r18.onnx -o ir/r18_fp16.xml --fp16
      pt2trt export-openvino det.onnx -o ir/ --input x:1x3x640x640
    """
    from pt2trt.errors import CheckFailed
    from pt2trt.files import existing_file
    from pt2trt.verification.openvino import export_openvino

    try:
        result = export_openvino(existing_file(model, "ONNX file"), output, settings, force=force)
    except CheckFailed as exc:  # no report was printed: the reason is the one line
        click.echo(f"pt2trt: error: {exc}", err=True)
        raise
    click.echo(f"wrote {result.xml} + {result.bin.name} ({result.size}, {result.format}), {result.verdict()}, "
               f"{result.seconds:.1f} s")  # fmt: skip
