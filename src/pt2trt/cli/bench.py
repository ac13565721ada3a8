"""``pt2trt bench``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pt2trt.cli.options import input_option, json_option, print_json
from pt2trt.cli.task_options import triton_options
from pt2trt.settings import RunnerSettings


@click.command("bench")
@click.argument("model")
@click.option(
    "-b",
    "--backend",
    "backends",
    default="torch,onnxruntime,openvino",
    show_default=True,
    metavar="LIST",
    help="Comma-separated: torch, onnxruntime, openvino, tensorrt, or all. The first is the speed-up baseline.",
)
@input_option("Input shapes [default: the shapes recorded at export]; with a PyTorch MODEL, the export shapes.")
@click.option("--batch", type=int, help="Batch size for inputs with a dynamic batch axis.")
@click.option("--warmup", type=float, default=200.0, show_default=True, metavar="MS", help="Warm-up per backend.")
@click.option("--iterations", type=int, default=10, show_default=True, help="Run at least this many inferences.")
@click.option("--duration", type=float, default=3.0, show_default=True, metavar="S", help="Run at least this long.")
@click.option("--threads", type=int, help="Intra-op threads, the same on every backend [default: usable cores].")
@click.option(
    "--openvino-mode",
    type=click.Choice(["latency", "throughput", "both"]),
    default="latency",
    show_default=True,
    help="latency: one synchronous request; throughput: a queue of asynchronous requests.",
)
@click.option("--pytorch", metavar="MODEL", help="PyTorch model for the torch backend [default: recorded at export].")
@click.option("--engine", type=click.Path(dir_okay=False), help="TensorRT engine of MODEL for the tensorrt backend.")
@click.option("--cuda-graph", is_flag=True, help="TensorRT: capture the enqueue in a CUDA graph and replay it.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random input.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@triton_options()
@json_option
def command(
    model: str,
    backends: str,
    inputs: list,
    batch: int | None,
    warmup: float,
    iterations: int,
    duration: float,
    threads: int | None,
    openvino_mode: str,
    pytorch: str | None,
    engine: str | None,
    cuda_graph: bool,
    seed: int,
    quiet: bool,
    triton: RunnerSettings,
    as_json: bool,
) -> None:
    """Time MODEL.onnx (or a PyTorch MODEL, exported first) on several backends side by side.

    \b
    Same input, same threads, float32 and the same warm-up and loop on every backend; latency min/mean/median/
    p90/p95/p99/max/std, throughput, set-up time, peak memory and (TensorRT) H2D/D2H/enqueue times.
    """
    import tempfile
    from dataclasses import replace

    from pt2trt.bench import Loop, bench, parse_backends
    from pt2trt.bench.run import timing_modes
    from pt2trt.settings import RunInputs

    names = parse_backends(backends)  # a typo fails before any export
    options: dict[str, Any] = {
        "runner": replace(triton, threads=threads, cuda_graph=cuda_graph),
        "loop": Loop(warmup_ms=warmup, iterations=iterations, duration=duration),
        "modes": timing_modes(openvino_mode),
        "progress": not quiet and not as_json,
    }
    run = RunInputs(specs=tuple(inputs), batch=batch, seed=seed)
    if model.lower().endswith(".onnx"):
        sources = {"pytorch": pytorch, "engine": engine}
        report = bench(model, names, inputs=run, sources=sources, **options)
    else:
        from pt2trt.errors import UsageError
        from pt2trt.pytorch.export import export

        if not inputs:
            raise UsageError(f"{model} is a PyTorch model: its input shapes are needed", "Pass --input NAME:SHAPE")
        with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
            exported = export(model, inputs, Path(tmp) / "model.onnx")
            sources = {"pytorch": pytorch or model, "engine": engine}
            report = bench(exported.path, names, inputs=RunInputs(batch=batch, seed=seed), sources=sources, **options)
    if as_json:
        print_json(report.to_dict())
    else:
        render(report)


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.3f}" if value < 100 else f"{value:.1f}")


def _num(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(c) for c in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def render(report: Any) -> None:
    """Two tables of at most 100 columns: latency statistics, then throughput and costs."""
    import textwrap

    click.echo(textwrap.fill(f"{report.model}: {report.fairness()}", width=100))
    ran = report.ran
    stats = ("min", "mean", "median", "p90", "p95", "p99", "max", "std")
    rows = [[r.label[:22], *(_ms(getattr(r.latency, k)) for k in stats), _num(r.latency.cv_pct)] for r in ran]
    click.echo("")
    for text in _table(["latency ms", *stats, "cv %"], rows):
        click.echo(text)
    rows = []
    for r in ran:
        costs = {k: _ms(v.median) for k, v in r.costs.items()}
        rows.append(
            [
                r.label[:22],
                _num(r.inferences_per_second),
                _num(r.images_per_second),
                f"{r.speedup:.2f}x" if r.speedup is not None else "-",
                _num(r.setup_seconds, ".2f"),
                _num(r.peak_rss_mib, ".0f"),
                costs.get("h2d", "-"),
                costs.get("enqueue", "-"),
                costs.get("d2h", "-"),
            ]
        )
    click.echo("")
    headers = ["throughput", "infer/s", "images/s", "speed-up", "setup s", "peak MiB", "h2d ms", "enq ms", "d2h ms"]
    for text in _table(headers, rows):
        click.echo(text)
    for warning in report.warnings:
        click.echo(textwrap.fill(f"warning: {warning}", width=100, subsequent_indent="  "), err=True)
    click.echo(report.closing_line())
