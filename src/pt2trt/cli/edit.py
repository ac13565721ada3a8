"""``pt2trt edit``: its flags come from the table of edits (``pt2trt.editing.registry.EDITS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from pt2trt.editing.registry import EDITS, EditDef
from pt2trt.settings import EQUIVALENCE, RunInputs, Tolerance


def _edit_option(edit: EditDef) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if edit.metavar is None:
        return click.option(edit.flag, edit.key, is_flag=True, default=None, help=edit.help)
    if edit.optional_value:
        return click.option(
            edit.flag, edit.key, is_flag=False, flag_value="", default=None, metavar=edit.metavar, help=edit.help
        )
    return click.option(
        edit.flag, edit.key, type=edit.value_type, multiple=edit.multiple, metavar=edit.metavar, help=edit.help
    )


def edits_from_options(values: dict[str, Any]) -> list[tuple[str, Any]]:
    """The edit flags that were given, in the table's order; a repeated non-combining flag is one edit per value."""
    edits: list[tuple[str, Any]] = []
    for key, entry in EDITS.items():
        edit: EditDef = entry.info
        value = values.get(key)
        if value is None or value == () or value is False:
            continue
        if edit.multiple and not edit.combine:
            edits += [(key, v) for v in value]
        else:
            edits.append((key, list(value) if isinstance(value, tuple) else value))
    return edits


def _with_edit_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for entry in reversed(list(EDITS.values())):
        f = _edit_option(entry.info)(f)
    return f


@click.command("edit")
@click.argument("onnx_file", metavar="IN.onnx")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="ONNX file to write [default: IN-edited.onnx].")
@click.option("--recipe", type=click.Path(dir_okay=False), metavar="FILE.yaml", help="Edits to apply, in order.")
@_with_edit_options
@click.option(
    "--no-verify", is_flag=True, help="Skip the ONNX Runtime runs (the checker and shape inference still run)."
)
@run_input_options(EXAMPLE_SHAPES_HELP, data_and_batch=False)
@tolerance_options(EQUIVALENCE, "the checks")
@force_option
@json_option
def command(
    onnx_file: str,
    output: str | None,
    recipe: str | None,
    no_verify: bool,
    run_inputs: RunInputs,
    tolerance: Tolerance,
    force: bool,
    as_json: bool,
    **edit_values: Any,
) -> None:
    """Edit an ONNX graph (rename, reshape, uint8 input, remove/insert/replace nodes, extract, post-processing...).

    \b
    The recipe's edits run first, then the flags in the order listed here. Every edit ends with the ONNX checker and
    shape inference; edits that keep the model's meaning are proven with ONNX Runtime (same outputs on random
    inputs). Nothing is written unless every edit passed.
    \b
    Examples:
      pt2trt edit r18.onnx -o r18-deploy.onnx --rename-input input=images --uint8-nhwc --append softmax
      pt2trt edit det.onnx -o det-nms.onnx --append nms:iou=0.45,score=0.25,max=100
      pt2trt edit r18.onnx -o part.onnx --extract input:/layer1/layer1.0/relu/Relu_output_0
      pt2trt edit r18.onnx -o r18-deploy.onnx --recipe deploy.yaml
    """
    from pt2trt.editing.edit import edit

    result = edit(
        onnx_file,
        output or sibling_output(onnx_file, "edited"),
        edits_from_options(edit_values),
        recipe=recipe,
        verify=not no_verify,
        inputs=run_inputs,
        tolerance=tolerance,
        force=force,
    )
    if as_json:
        print_json(result.to_dict())
        return
    out = console()
    for i, step in enumerate(result.steps, start=1):
        out.print(f"{i}. [bold]{step.key}[/bold]: {step.description}", soft_wrap=True)
        mark = "[green]verified[/green]: " if step.equivalence is not None else "note: "
        out.print(f"   {mark}{step.status}", soft_wrap=True)
    click.echo(result.closing_line())
