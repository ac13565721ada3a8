"""Options and output helpers shared by the commands; option groups that hand a command one settings object.

An option group (:func:`option_group`) is a list of click options whose values reach the command as one frozen
settings dataclass (``pt2trt.settings``), as Polygraphy's argument groups build its loaders: the command takes the
object, not the flags, and passes it to the API unchanged.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from pt2trt.errors import UsageError
from pt2trt.settings import Tolerance

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def option_group(argument: str, params: list[click.Option], make: Callable[[dict[str, Any]], Any]) -> Decorator:
    """Add ``params`` to a command (in this order in ``--help``); their values reach it as one argument,
    ``argument`` = ``make(values)`` (values by parameter name)."""
    names = [str(p.name) for p in params]

    def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[argument] = make({name: kwargs.pop(name) for name in names})
            return f(*args, **kwargs)

        memo = command.__dict__.setdefault("__click_params__", [])
        memo.extend(reversed(params))  # click reverses the decorators' list when it builds the command
        return command

    return decorator


def _parse_inputs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Any]:
    from pt2trt.shapes import parse_input

    try:
        return [parse_input(v) for v in values]
    except UsageError as exc:
        # A pt2trt usage error, not click's BadParameter: the CLI prints it as one line and exits 2 like every
        # other malformed argument (click's BadParameter would add a Usage: line and a Try --help line).
        raise UsageError(f"invalid --input: {exc.message}", exc.hint) from None


def input_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "-i",
        "--input",
        "inputs",
        multiple=True,
        metavar="NAME:SHAPE[:DTYPE]",
        callback=_parse_inputs,
        help=help_text,
    )


def weights_options() -> Decorator:
    """--weights and --allow-pickle -> ``weights: WeightsSettings``, for commands that load a PyTorch model."""

    def make(v: dict[str, Any]) -> Any:
        from pathlib import Path

        from pt2trt.settings import WeightsSettings

        return WeightsSettings(Path(v["weights"]) if v["weights"] else None, v["allow_pickle"])

    return option_group(
        "weights",
        [
            click.Option(["--weights"], type=click.Path(dir_okay=False), metavar="FILE",
                         help="state_dict to load into MODEL (torch.load with weights_only=True)."),
            click.Option(["--allow-pickle"], is_flag=True,
                         help="Allow torch.load to unpickle arbitrary Python objects (runs code from the file: trusted "
                         "files only)."),
        ],
        make,
    )  # fmt: skip


def pytorch_or_file(model: str, weights: Any, backend: str = "auto") -> Any:
    """MODEL as the runners take it: with ``--weights``/``--allow-pickle`` (``weights``, a
    :class:`~pt2trt.settings.WeightsSettings`), a PyTorch spec becomes a :class:`~pt2trt.settings.ModelSource`;
    files of other backends (``.onnx``, engines, IR) are left as they are."""
    from pt2trt.backends import FALLBACK, resolve_backend

    return weights.source(model) if resolve_backend(model, backend) == FALLBACK else model


#: --input help of the commands whose equivalence check picks its own example shapes (simplify, edit).
EXAMPLE_SHAPES_HELP = "Example shape for inputs with dynamic axes [default: recorded at export, else batch 1]."


def run_input_options(
    input_help: str = "Input shapes [default: the shapes recorded at export].", *, data_and_batch: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The inputs of a run (--input, --data, --batch, --seed, --provider), handed to the command as one
    :class:`~pt2trt.settings.RunInputs` argument ``run_inputs``. ``data_and_batch=False`` leaves out --data and
    --batch (the equivalence checks of simplify and edit choose their own feeds and batch sizes)."""
    options = [input_option(input_help)]
    if data_and_batch:
        options += [
            click.option(
                "--data",
                multiple=True,
                type=click.Path(dir_okay=False),
                metavar="FILE",
                help="Input arrays instead of random data: .npz (named) or .npy (in input order).",
            ),
            click.option("--batch", type=int, help="Batch size for inputs with a dynamic batch axis."),
        ]
    options += [
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs."),
        click.option(
            "--provider",
            "providers",
            multiple=True,
            metavar="NAME",
            help="ONNX Runtime execution provider: cpu, cuda, tensorrt [default: cpu].",
        ),
    ]

    def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def command(*args: Any, **kwargs: Any) -> Any:
            from pt2trt.settings import RunInputs

            kwargs["run_inputs"] = RunInputs.of(
                kwargs.pop("inputs"),
                data=kwargs.pop("data", None) if data_and_batch else None,
                batch=kwargs.pop("batch", None) if data_and_batch else None,  # edit's own --batch N is an edit
                seed=kwargs.pop("seed"),
                providers=kwargs.pop("providers"),
            )
            return f(*args, **kwargs)

        for option in reversed(options):
            command = option(command)
        return command

    return decorator


def tolerance_options(default: Tolerance | None = None, what: str = "the comparison") -> Callable[..., Any]:
    """--rtol and --atol (defaults from ``default``, else :class:`~pt2trt.settings.Tolerance`), handed to the command
    as one ``tolerance`` argument."""
    default = default or Tolerance()

    def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def command(*args: Any, **kwargs: Any) -> Any:
            scaled = default.scaled and not kwargs.pop("elementwise", False)
            kwargs["tolerance"] = Tolerance(rtol=kwargs.pop("rtol"), atol=kwargs.pop("atol"), scaled=scaled)
            return f(*args, **kwargs)

        if default.scaled:
            command = click.option(
                "--elementwise",
                is_flag=True,
                help="The plain rule |c - r| <= atol + rtol*|r| on every element of every output (the seeds' "
                "scripts), instead of atol scaled to each output and detections compared as boxes.",
            )(command)
        command = click.option(
            "--atol", type=float, default=default.atol, show_default=True, help=f"Absolute tolerance of {what}."
        )(command)
        return click.option(
            "--rtol", type=float, default=default.rtol, show_default=True, help=f"Relative tolerance of {what}."
        )(command)

    return decorator


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
force_option = click.option("-f", "--force", is_flag=True, help="Overwrite the output file if it exists.")


def sibling_output(onnx_file: str, suffix: str) -> str:
    """The default output of an ONNX -> ONNX command: ``IN.onnx`` -> ``IN-SUFFIX.onnx`` beside it."""
    from pathlib import Path

    p = Path(onnx_file)
    return str(p.with_name(f"{p.stem}-{suffix}.onnx"))


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout. Bytes and strings that are not valid UTF-8 (a corrupt file's names) are written
    with replacement characters rather than failing; keys that are not strings become strings."""
    text = json.dumps(_jsonable(data), indent=2, default=str, ensure_ascii=False)
    sys.stdout.write(text.encode("utf-8", "replace").decode("utf-8") + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {_text(k) if isinstance(k, str | bytes) else str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | bytes):
        return _text(value)
    return value


def _text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value.encode("utf-8", "replace").decode("utf-8")


def console() -> Any:
    from rich.console import Console

    # Wide enough for the comparison tables when piped to a file or a CI log (rich assumes 80 columns there).
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def fmt_float(value: float | None, spec: str = ".3g") -> str:
    if value is None:
        return "-"
    return format(value, spec)
