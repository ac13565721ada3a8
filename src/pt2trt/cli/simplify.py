"""``pt2trt simplify``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.equivalence_options import check_options, check_values
from pt2trt.cli.options import Decorator, console, force_option, json_option, option_group, print_json, sibling_output
from pt2trt.settings import SimplifySettings
from pt2trt.settings.graph import SIMPLIFY_ENGINES


def simplify_options() -> Decorator:
    """--engine and the check's options -> ``settings: SimplifySettings``."""
    engine = click.Option(
        ["--engine"], type=RegistryChoice(lambda: list(SIMPLIFY_ENGINES)), default="both", show_default=True,
        help="both: the smallest equivalent result of onnxslim, onnxsim and onnxsim followed by onnxslim.",
    )  # fmt: skip
    return option_group(
        "settings",
        [engine, *check_options()],
        lambda v: SimplifySettings(engine=v["engine"], **check_values(v)),
    )


@click.command("simplify")
@click.argument("onnx_file", metavar="IN.onnx")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False),
    help="ONNX file to write [default: IN-sim.onnx, not written when nothing changed].",
)  # fmt: skip
@simplify_options()
@force_option
@json_option
def command(onnx_file: str, output: str | None, settings: SimplifySettings, force: bool, as_json: bool) -> None:
    """Fold constants, drop dead nodes, fuse patterns; then prove with ONNX Runtime that the outputs did not change.

    A result whose outputs differ beyond tolerance is refused and nothing is written (exit 1). When no engine
    changed the graph, IN-sim.onnx is not written (a file named with -o is).
    """
    from pt2trt.editing.simplify import simplify

    settings = replace(settings, write_unchanged=output is not None)
    result = simplify(onnx_file, output or sibling_output(onnx_file, "sim"), settings, force=force)
    if as_json:
        print_json(result.to_dict())
        return
    _print(result)


def _print(result: Any) -> None:
    from rich.table import Table

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
