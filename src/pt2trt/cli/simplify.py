"""``pt2trt simplify``."""

from __future__ import annotations

import click

from pt2trt.cli.options import (
    EXAMPLE_SHAPES_HELP,
    console,
    force_option,
    json_option,
    print_json,
    run_input_options,
    sibling_output,
    tolerance_options,
)
from pt2trt.settings import EQUIVALENCE, RunInputs, Tolerance


@click.command("simplify")
@click.argument("onnx_file", metavar="IN.onnx")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="ONNX file to write [default: IN-sim.onnx].")
@click.option(
    "--engine",
    type=click.Choice(["both", "onnxslim", "onnxsim"]),
    default="both",
    show_default=True,
    help="both: the smallest equivalent result of onnxslim, onnxsim and onnxsim followed by onnxslim.",
)
@run_input_options(EXAMPLE_SHAPES_HELP, data_and_batch=False)
@tolerance_options(EQUIVALENCE, "the check")
@force_option
@json_option
def command(
    onnx_file: str,
    output: str | None,
    engine: str,
    run_inputs: RunInputs,
    tolerance: Tolerance,
    force: bool,
    as_json: bool,
) -> None:
    """Fold constants, drop dead nodes, fuse patterns; then prove with ONNX Runtime that the outputs did not change.

    A result whose outputs differ beyond tolerance is refused and nothing is written (exit 1).
    """
    from rich.table import Table

    from pt2trt.editing.simplify import simplify

    result = simplify(
        onnx_file,
        output or sibling_output(onnx_file, "sim"),
        engine=engine,
        inputs=run_inputs,
        tolerance=tolerance,
        force=force,
    )
    if as_json:
        print_json(result.to_dict())
        return
    out = console()
    tried = Table(title="engines", title_justify="left", show_edge=False)
    for col in ("engine", "nodes", "seconds", "result"):
        tried.add_column(col, justify="right" if col in ("nodes", "seconds") else "left", no_wrap=col != "result")
    for c in result.candidates:
        mark = " [bold](kept)[/bold]" if c.engine == result.engine else ""
        tried.add_row(c.engine, str(c.nodes if c.nodes is not None else "-"), f"{c.seconds:.1f}", c.status + mark)
    out.print(tried)
    ops = Table(title="nodes by op type", title_justify="left", show_edge=False)
    for col in ("op", "before", "after", "change"):
        ops.add_column(col, justify="left" if col == "op" else "right")
    for op, before, after in result.op_rows():
        change = f"{after - before:+d}" if after != before else ""
        ops.add_row(op, str(before), str(after), change)
    ops.add_row("[bold]total[/bold]", str(result.nodes_before), str(result.nodes_after),
                f"{result.nodes_after - result.nodes_before:+d}")  # fmt: skip
    out.print(ops)
    click.echo(result.closing_line())
