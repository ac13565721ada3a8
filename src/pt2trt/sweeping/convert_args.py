"""The one adapter from a manifest entry to ``pt2trt convert``: manifest keys -> convert's flags -> a command line.

The keys are convert's own long option names in snake_case (``--dynamic-batch`` -> ``dynamic_batch``,
``--input`` -> ``input``). tests/test_sweep_manifest.py holds :data:`OPTIONS` against the click options of
``pt2trt convert`` itself, so a new or renamed convert option fails the tests until it is added here. When
``convert --config FILE`` lands, :func:`convert_argv` writes the entry as that file and passes ``--config``:
nothing else in the sweep changes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

FLAG, VALUE, REPEAT, LIST = "flag", "value", "repeat", "list"
#: what YAML value each kind takes: a boolean, a scalar, a scalar or a list (repeated flag), a scalar or a list
#: (joined with commas)
KINDS = {FLAG: "true or false", VALUE: "a number or a string", REPEAT: "a string or a list", LIST: "a string or a list"}

#: manifest key -> (convert's flag, kind)
OPTIONS: dict[str, tuple[str, str]] = {
    "input": ("--input", REPEAT),
    "dynamic_batch": ("--dynamic-batch", FLAG),
    "max_batch": ("--max-batch", VALUE),
    "precision": ("--precision", LIST),
    "calib": ("--calib", VALUE),
    "task": ("--task", VALUE),
    "trt_version": ("--trt-version", VALUE),
    "images": ("--images", VALUE),
    "exporter": ("--exporter", VALUE),
    "opset": ("--opset", VALUE),
    "simplify_engine": ("--simplify-engine", VALUE),
    "rtol": ("--rtol", VALUE),
    "atol": ("--atol", VALUE),
    "backend": ("--backend", LIST),
    "bench_duration": ("--bench-duration", VALUE),
}

#: convert's options the sweep sets itself, and why a manifest may not
SET_BY_SWEEP: dict[str, str] = {
    "output": "each model's output is OUTDIR/<name>/",
    "quiet": "the sweep keeps each model's log in OUTDIR/<name>/convert.log",
    "json": "the sweep reads each model's report.json",
    "force": "pass --force to pt2trt sweep to run every model again",
}

#: keys whose values are paths: relative ones are taken from the manifest's folder
PATH_KEYS = ("calib", "images")
#: suffixes of model files (the MODEL argument given as a file rather than ``package.module:Name``)
MODEL_FILE_SUFFIXES = (".py", ".ts", ".torchscript", ".jit", ".pt", ".pth", ".pt2", ".onnx")


def resolve_paths(values: dict[str, Any], base: Path) -> dict[str, Any]:
    """``values`` with relative paths (model files, PATH_KEYS) made absolute against ``base``."""
    out = dict(values)
    for key in PATH_KEYS:
        if isinstance(out.get(key), str):
            out[key] = str(_absolute(out[key], base))
    model = out.get("model")
    if isinstance(model, str):
        path, sep, attr = model.rpartition(":") if model.count(":") == 1 else ("", "", model)
        if sep and path.endswith(".py"):  # path/to/file.py:Name
            out["model"] = f"{_absolute(path, base)}:{attr}"
        elif not sep and model.endswith(MODEL_FILE_SUFFIXES):
            out["model"] = str(_absolute(model, base))
    return out


def _absolute(path: str, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def option_args(values: dict[str, Any]) -> list[str]:
    """convert's options for ``values`` (manifest keys, already checked by the manifest), in the table's order."""
    args: list[str] = []
    for key, (flag, kind) in OPTIONS.items():
        if key not in values or values[key] is None:
            continue
        value = values[key]
        if kind == FLAG:
            args += [flag] if value else []
        elif kind == REPEAT:
            for item in value if isinstance(value, list) else [value]:
                args += [flag, str(item)]
        elif kind == LIST:
            args += [flag, ",".join(map(str, value)) if isinstance(value, list) else str(value)]
        else:
            args += [flag, str(value)]
    return args


def convert_argv(values: dict[str, Any], name: str) -> list[str]:
    """``convert MODEL OPTIONS -o NAME``: run in the folder that is to hold ``NAME/``."""
    return ["convert", str(values["model"]), *option_args(values), "-o", name]


def cli_command(argv: list[str]) -> list[str]:
    """The child process that runs ``pt2trt ARGV`` with this interpreter (the worker's own on a Ray node)."""
    return [sys.executable, "-m", "pt2trt.cli.main", *argv]


def key_of_flag(flag: str) -> str | None:
    """The manifest key of a convert flag (``--trt-version`` -> ``trt_version``), to point at its line."""
    return next((key for key, (f, _) in OPTIONS.items() if f == flag), None)
