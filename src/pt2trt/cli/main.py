"""Entry point: a click group whose commands are imported only when they run, so ``--help`` is instant."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from pt2trt._version import __version__
from pt2trt.registry import Registry

#: command name -> its click command ("module:command", imported when it runs) with its short help as ``info``,
#: so that ``pt2trt --help`` imports nothing.
COMMANDS: Registry[click.Command] = Registry("command")
for _name, _module, _help in [
    ("export", "export", "Export a PyTorch model to ONNX (dynamo or legacy exporter)."),
    ("check", "check", "Validate an ONNX file: checker (full) and strict shape inference."),
    (
        "inspect",
        "inspect",
        "Show an ONNX model's versions, I/O, ops, parameters and runtime support; or what an engine became.",
    ),
    ("verify", "verify", "Check that ONNX Runtime reproduces PyTorch on the same inputs."),
    ("predict", "predict", "Classify, detect or segment images: JSON lines and annotated pictures."),
    ("compare", "compare", "Compare two models' (or backends') answers on images: top-k, boxes or masks."),
    (
        "eval",
        "eval",
        "Score models on labelled data: top-1/top-5, COCO mAP or mIoU side by side, deltas with significance.",
    ),
    ("debug", "debug", "Name the layer where PyTorch and ONNX (or two ONNX runs) part ways."),
    ("build", "build", "Build a TensorRT engine from ONNX (or print the build plan with --dry-run)."),
    ("simplify", "simplify", "Simplify an ONNX graph (onnxslim/onnxsim); ONNX Runtime proves the outputs kept."),
    ("edit", "edit", "Edit an ONNX graph: rename, batch, uint8 input, nodes, extract, post-processing."),
    ("view", "view", "Open an ONNX model in Netron (127.0.0.1 only), or draw it as an SVG picture."),
    ("triton", "triton", "Write a checked Triton model repository (config.pbtxt, ensemble pre/post)."),
    ("export-openvino", "export_openvino", "Convert ONNX to OpenVINO IR (.xml + .bin), verified vs ORT."),
    (
        "quantize",
        "quantize",
        "Convert ONNX to mixed FP16 or INT8 Q/DQ, calibrated on real data, and measure the accuracy cost.",
    ),
    ("bench", "bench", "Time a model on torch, ONNX Runtime, OpenVINO and TensorRT side by side."),
    (
        "convert",
        "convert",
        "The whole job: export, check, simplify, verify, lint, precision, engine plan, bench, report.",
    ),
    (
        "sweep",
        "sweep",
        "Convert a zoo of models (a YAML manifest) on worker processes or Ray; compare with the last sweep.",
    ),
]:
    COMMANDS.register(_name, f"pt2trt.cli.{_module}:command", _help)


class LazyGroup(click.Group):
    """A group that imports a command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return COMMANDS[cmd_name].load()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.info) for name, entry in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> object:
        from pt2trt.errors import CheckFailed, Pt2trtError

        try:
            return super().invoke(ctx)
        except CheckFailed as exc:  # the command printed its report, verdict included: only the exit status is left
            ctx.exit(exc.exit_code)
        except Pt2trtError as exc:
            click.echo(f"pt2trt: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (environment.Terminated): every finally has run
            ctx.exit(_interrupted(exc))
        except Exception as exc:  # an interrupt inside a native module's import surfaces as its ImportError
            interrupt = _interrupt_behind(exc)
            if interrupt is None:
                raise
            ctx.exit(_interrupted(interrupt))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "-V", "--version", prog_name="pt2trt")
def cli() -> None:
    """PyTorch image models to ONNX and TensorRT, checked at every step.

    \b
    Typical path:
      pt2trt export torchvision:resnet18 --input input:1x3x224x224 -o r18.onnx
      pt2trt check r18.onnx
      pt2trt verify torchvision:resnet18 r18.onnx
    """


def _interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM an exception was raised over (a pybind11 module whose initialisation was interrupted
    raises ``ImportError: initialization failed`` with the interrupt as its context), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _interrupted(exc: BaseException | None) -> int:
    """Say how the run was stopped; the exit status a shell gives it (130 for Ctrl-C, 143 for SIGTERM)."""
    from pt2trt.environment import SIGTERM_EXIT, Terminated

    if isinstance(exc, Terminated):
        click.echo("pt2trt: terminated (SIGTERM)", err=True)
        return SIGTERM_EXIT
    click.echo("pt2trt: interrupted", err=True)
    return 130


def run(args: Sequence[str] | None = None) -> int:
    """Run the CLI on ``args`` (default: the process's arguments) and return its exit code, in this process: click's
    own usage errors are printed as one line too, like every pt2trt error. The tests call this directly."""
    try:
        code = cli.main(args=list(args) if args is not None else None, prog_name="pt2trt", standalone_mode=False)
    except click.Abort as exc:  # click turns an interrupt outside a command (parsing, imports) into Abort
        return _interrupted(exc.__cause__)
    except KeyboardInterrupt as exc:  # an interrupt after the command returned (ctx.exit, printing)
        return _interrupted(exc)
    except click.ClickException as exc:
        context = getattr(exc, "ctx", None)
        where = context.command_path if context is not None else "pt2trt"
        message = exc.format_message().rstrip(".")
        click.echo(f"pt2trt: error: {message}. Run '{where} --help' for the options", err=True)
        return exc.exit_code
    except SystemExit as exc:  # a command that exits by itself
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code if isinstance(code, int) else 0  # standalone_mode=False returns ctx.exit()'s code


def main() -> None:
    """The ``pt2trt`` entry point: :func:`run`, then exit without the interpreter's teardown (see :func:`_exit`).

    Before any library is imported: telemetry off and torch's cache in a temporary folder (``pt2trt.environment``),
    and SIGTERM handled like Ctrl-C, so an interrupted command removes what it was writing (exit 143).
    """
    from pt2trt import environment

    environment.prepare()
    environment.handle_sigterm()
    _exit(run())


def _exit(code: int) -> None:
    """Exit with ``code``. After torch was imported, skip the interpreter's teardown: it spends seconds on millions of
    objects, and the CUDA build's triton prints ~30 lines of "nanobind: leaked ..." to stderr while it runs. Every
    artifact is closed and published by then; only the standard streams need flushing (and the temporary folders of
    ``pt2trt.environment`` removing, which ``atexit`` would do)."""
    from pt2trt import environment

    environment.cleanup()
    if "torch" not in sys.modules:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
