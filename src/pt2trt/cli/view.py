"""``pt2trt view``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from pt2trt.cli.options import Decorator, option_group, output_file_options
from pt2trt.settings.view import DEFAULT_MAX_BOXES

if TYPE_CHECKING:
    from pt2trt.settings import OutputFile
    from pt2trt.settings.view import NetronSettings, SvgSettings


def netron_options() -> Decorator:
    """--port, --no-browser -> ``netron: NetronSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings.view import NetronSettings

        return NetronSettings(v["port"], not v["no_browser"])

    return option_group(
        "netron",
        [
            click.Option(["--port"], type=click.IntRange(0, 65535), default=0, show_default=True,
                         help="Port (0: any free port)."),
            click.Option(["--no-browser"], is_flag=True, help="Only serve and print the URL; do not open a browser."),
        ],
        make,
    )  # fmt: skip


def svg_options() -> Decorator:
    """--max-boxes, --full -> ``svg: SvgSettings``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.settings.view import SvgSettings

        return SvgSettings(None if v["full"] else v["max_boxes"])

    return option_group(
        "svg",
        [
            click.Option(["--max-boxes"], type=int, default=DEFAULT_MAX_BOXES, show_default=True,
                         help="With --svg: group nodes by PyTorch module and merge chains until about this many boxes "
                         "remain."),
            click.Option(["--full"], is_flag=True, help="With --svg: draw every node (no grouping)."),
        ],
        make,
    )  # fmt: skip


@click.command("view")
@click.argument("onnx_file", metavar="MODEL.onnx")
@netron_options()
@output_file_options(
    "picture", ["--svg"], "Write a static picture of the graph instead of serving it.", metavar="OUT.svg"
)
@svg_options()
def command(onnx_file: str, netron: NetronSettings, picture: OutputFile, svg: SvgSettings) -> None:
    """Open MODEL.onnx in Netron, served on 127.0.0.1 only (Ctrl-C stops it), or draw it with --svg OUT.svg."""
    if picture.path:
        from pt2trt.view.svg import write_svg

        click.echo(write_svg(onnx_file, picture.path, svg, force=picture.force).closing_line())
        return
    import time
    import webbrowser

    from pt2trt.view.netron import serve

    server = serve(onnx_file, port=netron.port)
    click.echo(f"serving {server.model.name} in Netron at {server.url} (127.0.0.1 only; Ctrl-C to stop)")
    if netron.open_browser and not webbrowser.open(server.url):
        click.echo("no browser found here: open the URL above in one", err=True)
    try:
        while server.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    click.echo("stopped")
