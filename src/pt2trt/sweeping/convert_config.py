"""The one adapter from a manifest entry to ``pt2trt convert``: each entry is convert's own config file.

An entry's keys are those of ``pt2trt convert --config FILE.yaml`` (long flags without their dashes, ``-`` written
``_``; ``model`` for MODEL), plus the sweep's ``name``. The sweep keeps no table of them: what it must know of
convert's options comes from a :class:`ConvertOptions` its caller passes, built from convert's own click command by
``pt2trt.cli.sweep`` (this package sits below ``pt2trt.cli`` and does not import it). Each model's child runs
``pt2trt convert --config .convert.yaml -o NAME`` in its working folder (the local workroot, or the Ray task's
scratch folder), the entry's YAML written there first: the values travel with the task, not through a shared disk.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

#: the kinds of keys whose values name files (:meth:`ConvertOptions.path_keys`): a model spec (its file part), a file
#: or folder, a file or folder or a name (a preprocessing preset, a built-in label set)
MODEL, PATH, PATH_OR_NAME = "model", "path", "path or name"

#: convert's options the sweep sets itself, and why a manifest may not
SET_BY_SWEEP: dict[str, str] = {
    "output": "each model's output is OUTDIR/<name>/",
    "quiet": "the sweep keeps each model's log in OUTDIR/<name>/convert.log",
    "json": "the sweep reads each model's report.json",
    "force": "pass --force to pt2trt sweep to run every model again",
}

#: the sweep's own keys in an entry (not convert's)
OWN_KEYS = ("name",)
#: the entry's config file in the child's working folder (a dot name: a model's name starts with a letter or digit)
CONFIG = ".convert.yaml"
#: suffixes of model files (the MODEL argument given as a file rather than ``package.module:Name``)
MODEL_FILE_SUFFIXES = (".py", ".ts", ".torchscript", ".jit", ".pt", ".pth", ".pt2", ".onnx")

#: the start of an error message about the key on a line (None: the line is not known), e.g. ``zoo.yaml:12``
Where = Callable[[int | None], str]


class ConvertOptions(Protocol):
    """What the sweep needs to know of convert's options (``pt2trt.cli.sweep.ConvertCommand`` reads them from
    ``pt2trt convert`` itself)."""

    def path_keys(self) -> Mapping[str, str]:
        """The keys whose values name files, and their kind (:data:`MODEL`, :data:`PATH`, :data:`PATH_OR_NAME`)."""
        ...

    def check(self, values: Mapping[str, Any], lines: Mapping[str, int], where: Where) -> None:
        """Raise a :class:`~pt2trt.errors.UsageError` starting with ``where(line)`` for the first problem of one
        entry (config keys -> values, the key's line in ``lines``): an unknown key, a value of the wrong shape, or a
        value convert's own parser or settings refuse. :data:`OWN_KEYS` are passed over (and offered as the close
        match of an unknown key). Nothing runs."""
        ...


def resolve_paths(values: Mapping[str, Any], kinds: Mapping[str, str], base: Path) -> dict[str, Any]:
    """``values`` with relative paths taken from ``base`` (the manifest's folder): the file of a model spec
    (``nets/mine.py:Net``, ``model.onnx``), every file or folder, and a file-or-name value when such a file or
    folder is there (else it stays a name: ``labels: imagenet``, ``preprocess: imagenet-classification``)."""
    out = dict(values)
    for key, kind in kinds.items():
        value = out.get(key)
        if isinstance(value, list):
            out[key] = [_resolved(v, kind, base) for v in value]
        elif value is not None:
            out[key] = _resolved(value, kind, base)
    return out


def _resolved(value: Any, kind: str, base: Path) -> Any:
    if not isinstance(value, str) or not value:
        return value
    if kind == MODEL:
        path, sep, attr = value.rpartition(":") if value.count(":") == 1 else ("", "", value)
        if sep and path.endswith(".py"):  # path/to/file.py:Name
            return f"{_absolute(path, base)}:{attr}"
        return str(_absolute(value, base)) if not sep and value.endswith(MODEL_FILE_SUFFIXES) else value
    if kind == PATH_OR_NAME and not (base / Path(value).expanduser()).exists():
        return value
    return str(_absolute(value, base))


def _absolute(path: str, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def config_text(values: Mapping[str, Any]) -> str:
    """The entry as the YAML that ``convert --config`` reads."""
    import yaml

    return yaml.safe_dump(dict(values), sort_keys=False, allow_unicode=True, default_flow_style=False)


def convert_argv(name: str) -> list[str]:
    """``convert --config .convert.yaml -o NAME``: run in the folder that holds the config and is to hold ``NAME/``."""
    return ["convert", "--config", CONFIG, "-o", name]


def cli_command(argv: list[str]) -> list[str]:
    """The child process that runs ``pt2trt ARGV`` with this interpreter (the worker's own on a Ray node)."""
    return [sys.executable, "-m", "pt2trt.cli.main", *argv]
