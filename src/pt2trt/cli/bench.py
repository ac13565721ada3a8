"""``pt2trt bench``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pt2trt.cli.choices import RegistryChoice
from pt2trt.cli.options import Decorator, input_param, json_option, option_group, print_json
from pt2trt.cli.task_options import server_options
from pt2trt.settings import BenchTargets, Loop, RunInputs, RunnerSettings


def _openvino_modes() -> list[str]:
    from pt2trt.settings.runner import OPENVINO_MODES

    return list(OPENVINO_MODES)


def targets_options() -> Decorator:
    """-b/--backend, --openvino-mode, --pytorch, --engine -> ``targets: BenchTargets``."""

    def make(v: dict[str, Any]) -> Any:
        from pt2trt.bench.run import parse_backends, timing_modes

        return BenchTargets(
            tuple(parse_backends(v["backends"])),  # a typo fails before any export
            timing_modes(v["openvino_mode"]),
            {"pytorch": v["pytorch"], "engine": v["engine"]},
        )

    return option_group(
        "targets",
        [
            click.Option(["-b", "--backend", "backends"], default="torch,onnxruntime,openvino", show_default=True,
                         metavar="LIST",
                         help="Comma-separated: torch, onnxruntime, openvino, tensorrt, or all. The first that runs is "
                         "the speed-up baseline."),
            click.Option(
                ["--openvino-mode"], type=RegistryChoice(_openvino_modes), default="latency", show_default=True,
                help="latency: one synchronous request; throughput: a queue of asynchronous requests.",
            ),
            click.Option(["--pytorch"], metavar="MODEL",
                         help="PyTorch model for the torch backend [default: recorded at export]."),
            click.Option(["--engine"], type=click.Path(dir_okay=False),
                         help="TensorRT engine of MODEL for the tensorrt backend."),
        ],
        make,
    )  # fmt: skip


def bench_input_options() -> Decorator:
    """--input, --batch, --seed -> ``run_inputs: RunInputs``."""

    def make(v: dict[str, Any]) -> Any:
        return RunInputs(specs=tuple(v["inputs"]), batch=v["batch"], seed=v["seed"])

    return option_group(
        "run_inputs",
        [
            input_param(
                "Input shapes [default: the shapes recorded at export]; with a PyTorch MODEL, the export shapes."
            ),
            click.Option(["--batch"], type=int, help="Batch size for inputs with a dynamic batch axis."),
            click.Option(["--seed"], type=int, default=0, show_default=True, help="Seed of the random input."),
        ],
        make,
    )


def loop_options() -> Decorator:
    """--warmup, --iterations, --duration -> ``loop: Loop``."""

    def make(v: dict[str, Any]) -> Any:
        return Loop(warmup_ms=v["warmup"], iterations=v["iterations"], duration=v["duration"])

    return option_group(
        "loop",
        [
            click.Option(["--warmup"], type=float, default=200.0, show_default=True, metavar="MS",
                         help="Warm-up per backend."),
            click.Option(["--iterations"], type=int, default=10, show_default=True,
                         help="Run at least this many inferences."),
            click.Option(["--duration"], type=float, default=3.0, show_default=True, metavar="S",
                         help="Run at least this long."),
        ],
        make,
    )  # fmt: skip


def bench_runner_options() -> Decorator:
    """--threads, --cuda-graph, --url, --model -> ``runner: RunnerSettings``."""

    def make(v: dict[str, Any]) -> Any:
        return RunnerSettings(
            threads=v["threads"], cuda_graph=v["cuda_graph"], url=v["url"], model_name=v["served_model"]
        )

    return option_group(
        "runner",
        [
            click.Option(["--threads"], type=int,
                         help="Intra-op threads, the same on every backend [default: usable cores]."),
            click.Option(["--cuda-graph"], is_flag=True,
                         help="TensorRT: capture the enqueue in a CUDA graph and replay it."),
            *server_options(),
        ],
        make,
    )  # fmt: skip


@click.command("bench")
@click.argument("model")
@targets_options()
@bench_input_options()
@loop_options()
@bench_runner_options()
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@json_option
def command(
    model: str, targets: BenchTargets, run_inputs: RunInputs, loop: Loop, runner: RunnerSettings, quiet: bool,
    as_json: bool,
) -> None:  # fmt: skip
    """Time MODEL.onnx (or a PyTorch MODEL, exported first) on several backends side by side.

    \b
    Same input, same threads, float32 and the same warm-up and loop on every backend; latency min/mean/median/
    p90/p95/p99/max/std, throughput, set-up time, peak memory and (TensorRT) H2D/D2H/enqueue times.
    """
    import tempfile
    from dataclasses import replace

    from pt2trt.bench import bench

    options: dict[str, Any] = {
        "runner": runner,
        "loop": loop,
        "modes": targets.modes,
        "progress": not quiet and not as_json,
    }
    if model.lower().endswith(".onnx"):
        report = bench(model, targets.backends, inputs=run_inputs, sources=targets.sources, **options)
    else:
        from pt2trt.errors import UsageError
        from pt2trt.pytorch.export import export

        if not run_inputs.specs:
            raise UsageError(f"{model} is a PyTorch model: its input shapes are needed", "Pass --input NAME:SHAPE")
        with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
            exported = export(model, list(run_inputs.specs), Path(tmp) / "model.onnx")
            sources = {**targets.sources, "pytorch": targets.sources["pytorch"] or model}
            export_inputs = replace(run_inputs, specs=())  # the exported model records its shapes
            report = bench(exported.path, targets.backends, inputs=export_inputs, sources=sources, **options)
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
    if report.baseline_note():
        click.echo(report.baseline_note())
    for warning in report.warnings:
        click.echo(textwrap.fill(f"warning: {warning}", width=100, subsequent_indent="  "), err=True)
    click.echo(report.closing_line())
