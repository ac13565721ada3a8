"""``pt2trt export-openvino``: ONNX to OpenVINO IR, verified against ONNX Runtime."""

from __future__ import annotations

import click

from pt2trt.cli.options import force_option


@click.command("export-openvino")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, metavar="DIR|FILE.xml", help="Folder (MODEL's name .xml inside) or .xml path."
)
@click.option("--fp16", is_flag=True, help="Store the weights in FP16 (half the size; wider tolerance).")
@click.option("--no-verify", is_flag=True, help="Skip the comparison with ONNX Runtime.")
@click.option("--rtol", type=float, help="Relative tolerance [default: 1e-3; fp16 1e-2; int8 5e-2].")
@click.option("--atol", type=float, help="Absolute tolerance [default: 1e-4; fp16 1e-2; int8 5e-2].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs.")
@force_option
def command(
    model: str,
    output: str,
    fp16: bool,
    no_verify: bool,
    rtol: float | None,
    atol: float | None,
    seed: int,
    force: bool,
) -> None:
    """Convert MODEL (.onnx) to an OpenVINO IR (.xml + .bin) for CPU deployment.

    A Q/DQ (INT8) ONNX becomes an INT8 IR. The IR runs with OpenVINO on seeded random inputs and is compared with
    ONNX Runtime before it is written; `pt2trt predict MODEL.xml` and `pt2trt triton MODEL.xml` take the result.

    \b
    Examples:
      pt2trt export-openvino r18.onnx -o ir/
      pt2trt export-openvino r18.onnx -o ir/r18_fp16.xml --fp16
    """
    from pt2trt.verification.openvino import export_openvino

    result = export_openvino(
        model, output, fp16=fp16, force=force, verify=not no_verify, rtol=rtol, atol=atol, seed=seed
    )
    checked = "not verified"
    if result.comparison is not None:
        worst = max((t.max_abs_error or 0.0) for t in result.comparison.tensors)
        checked = f"matches ONNX Runtime (max abs error {worst:.2g}, rtol {result.comparison.rtol})"
    click.echo(
        f"wrote {result.xml} + {result.bin.name} ({result.size}, {result.weights} weights), {checked}, "
        f"{result.seconds:.1f} s"
    )
