"""Entry point: a click group whose commands are imported only when they run, so ``--help`` is instant."""

from __future__ import annotations

import importlib
import os
import sys

import click

from pt2trt._version import __version__

#: command name -> (module, short help). The help text lives here so that ``pt2trt --help`` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "export": ("pt2trt.cli.export", "Export a PyTorch model to ONNX (dynamo or legacy exporter)."),
    "check": ("pt2trt.cli.check", "Validate an ONNX file: checker (full) and strict shape inference."),
    "inspect": (
        "pt2trt.cli.inspect",
        "Show an ONNX model's versions, I/O, ops, parameters and runtime support; or what an engine became.",
    ),
    "verify": ("pt2trt.cli.verify", "Check that ONNX Runtime reproduces PyTorch on the same inputs."),
    "predict": ("pt2trt.cli.predict", "Classify, detect or segment images: JSON lines and annotated pictures."),
    "compare": ("pt2trt.cli.compare", "Compare two models' (or backends') answers on images: top-k, boxes or masks."),
    "debug": ("pt2trt.cli.debug", "Name the layer where PyTorch and ONNX (or two ONNX runs) part ways."),
    "build": ("pt2trt.cli.build", "Build a TensorRT engine from ONNX (or print the build plan with --dry-run)."),
    "simplify": (
        "pt2trt.cli.simplify",
        "Simplify an ONNX graph (onnxslim/onnxsim); ONNX Runtime proves the outputs kept.",
    ),
    "edit": ("pt2trt.cli.edit", "Edit an ONNX graph: rename, batch, uint8 input, nodes, extract, post-processing."),
    "view": ("pt2trt.cli.view", "Open an ONNX model in Netron (127.0.0.1 only), or draw it as an SVG picture."),
    "triton": ("pt2trt.cli.triton", "Write a checked Triton model repository (config.pbtxt, ensemble pre/post)."),
    "export-openvino": ("pt2trt.cli.export_openvino", "Convert ONNX to OpenVINO IR (.xml + .bin), verified vs ORT."),
    "quantize": (
        "pt2trt.cli.quantize",
        "Convert ONNX to mixed FP16 or INT8 Q/DQ, calibrated on real data, and measure the accuracy cost.",
    ),
    "bench": ("pt2trt.cli.bench", "Time a model on torch, ONNX Runtime, OpenVINO and TensorRT side by side."),
    "convert": (
        "pt2trt.cli.convert",
        "The whole job: export, check, simplify, verify, lint, precision, engine plan, bench, report.",
    ),
    "sweep": (
        "pt2trt.cli.sweep",
        "Convert a zoo of models (a YAML manifest) on worker processes or Ray; compare with the last sweep.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> object:
        from pt2trt.errors import Pt2trtError

        try:
            return super().invoke(ctx)
        except Pt2trtError as exc:
            click.echo(f"pt2trt: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("pt2trt: interrupted", err=True)
            ctx.exit(130)


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


def main() -> None:
    """Run the CLI; click's own usage errors are printed as one line too, like every pt2trt error."""
    try:
        code = cli.main(prog_name="pt2trt", standalone_mode=False)  # returns ctx.exit()'s code in this mode
    except click.Abort:
        click.echo("pt2trt: interrupted", err=True)
        _exit(130)
    except click.ClickException as exc:
        context = getattr(exc, "ctx", None)
        where = context.command_path if context is not None else "pt2trt"
        message = exc.format_message().rstrip(".")
        click.echo(f"pt2trt: error: {message}. Run '{where} --help' for the options", err=True)
        _exit(exc.exit_code)
    _exit(code if isinstance(code, int) else 0)


def _exit(code: int) -> None:
    """Exit with ``code``. After torch was imported, skip the interpreter's teardown: it spends seconds on millions of
    objects, and the CUDA build's triton prints ~30 lines of "nanobind: leaked ..." to stderr while it runs. Every
    artifact is closed and published by then; only the standard streams need flushing."""
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
