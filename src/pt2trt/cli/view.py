"""``pt2trt view``."""

from __future__ import annotations

import click

from pt2trt.cli.options import force_option


@click.command("view")
@click.argument("onnx_file", metavar="MODEL.onnx")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port (0: any free port).")
@click.option("--no-browser", is_flag=True, help="Only serve and print the URL; do not open a browser.")
@click.option(
    "--svg",
    "svg_path",
    type=click.Path(dir_okay=False),
    metavar="OUT.svg",
    help="Write a static picture of the graph instead of serving it.",
)
@click.option(
    "--max-boxes",
    type=int,
    default=30,
    show_default=True,
    help="With --svg: group nodes by PyTorch module and merge chains until about this many boxes remain.",
)
@click.option("--full", is_flag=True, help="With --svg: draw every node (no grouping).")
@force_option
def command(
    onnx_file: str, port: int, no_browser: bool, svg_path: str | None, max_boxes: int, full: bool, force: bool
) -> None:
    """Open MODEL.onnx in Netron, served on 127.0.0.1 only (Ctrl-C stops it), or draw it with --svg OUT.svg."""
    if svg_path:
        from pt2trt.view.svg import write_svg

        click.echo(write_svg(onnx_file, svg_path, max_boxes=None if full else max_boxes, force=force).closing_line())
        return
    import time
    import webbrowser

    from pt2trt.view.netron import serve

    server = serve(onnx_file, port=port)
    click.echo(f"serving {server.model.name} in Netron at {server.url} (127.0.0.1 only; Ctrl-C to stop)")
    if not no_browser and not webbrowser.open(server.url):
        click.echo("no browser found here: open the URL above in one", err=True)
    try:
        while server.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    click.echo("stopped")
