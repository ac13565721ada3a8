"""The options of an equivalence check (``simplify``, ``edit``): what ONNX Runtime is fed and how close is equal.

``check_options()`` lists them for an option group; ``check_values(values)`` turns their values into the ``inputs``
(:class:`~pt2trt.settings.RunInputs`) and ``tolerance`` (:class:`~pt2trt.settings.Tolerance`, element-wise, default
:data:`~pt2trt.settings.EQUIVALENCE`) fields of the command's settings.
"""

from __future__ import annotations

from typing import Any

import click

from pt2trt.cli.options import EXAMPLE_SHAPES_HELP, input_param
from pt2trt.settings import EQUIVALENCE, RunInputs, Tolerance


def check_options() -> list[click.Option]:
    """The equivalence check's options, shared by simplify and edit: --input, --seed, --provider, --rtol, --atol."""
    return [
        input_param(EXAMPLE_SHAPES_HELP),
        click.Option(["--seed"], type=int, default=0, show_default=True, help="Seed of the random inputs."),
        click.Option(["--provider", "providers"], multiple=True, metavar="NAME",
                     help="ONNX Runtime execution provider: cpu, cuda, tensorrt [default: cpu]."),
        click.Option(["--rtol"], type=float, default=EQUIVALENCE.rtol, show_default=True,
                     help="Relative tolerance of the check."),
        click.Option(["--atol"], type=float, default=EQUIVALENCE.atol, show_default=True,
                     help="Absolute tolerance of the check."),
    ]  # fmt: skip


def check_values(v: dict[str, Any]) -> dict[str, Any]:
    """The check's option values as the settings fields ``inputs`` and ``tolerance``."""
    return {
        "inputs": RunInputs.of(v["inputs"], seed=v["seed"], providers=v["providers"]),
        "tolerance": Tolerance(rtol=v["rtol"], atol=v["atol"], scaled=False),
    }
