"""The zoo manifest: a YAML file of models, each with convert's own options as keys, checked before anything runs.

::

    defaults:                      # optional: every model gets these unless it sets them itself
      backend: [torch, onnxruntime]
      bench_duration: 0.2
    models:
      - name: seednet              # the folder OUTDIR/seednet/
        model: pt2trt.models:SeedNet
        input: input:1x3x28x28
        dynamic_batch: true

Each model's keys are those of ``pt2trt convert --config`` (every option of convert) plus ``name``; ``defaults`` are
merged into each. Loaded with PyYAML's safe loader (no Python objects are built from tags), keeping the line of every
key, so that each mistake is one line naming ``FILE:LINE``: a key given twice, a key the sweep sets itself, a name
used twice or that cannot be a folder, and, through the :class:`~pt2trt.sweeping.convert_config.ConvertOptions`
the caller passes, an unknown key (with the closest known one), a value of the wrong shape, or a value convert
refuses. Relative paths are taken from the manifest's folder (see
:func:`~pt2trt.sweeping.convert_config.resolve_paths`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.sweeping import convert_config
from pt2trt.sweeping.convert_config import SET_BY_SWEEP, ConvertOptions

TOP_KEYS = ("defaults", "models")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass
class Entry:
    """One model of the manifest: its name, where it is written, and convert's options (defaults merged)."""

    name: str
    line: int
    values: dict[str, Any]  # convert's config keys -> values (defaults merged, relative paths made absolute)
    lines: dict[str, int] = field(default_factory=dict)  # key -> line of its value (the defaults' line if inherited)

    @property
    def model(self) -> str:
        return str(self.values["model"])

    @property
    def config(self) -> str:
        """The entry as convert's config file (YAML), for ``convert --config`` in the child's working folder."""
        return convert_config.config_text(self.values)

    @property
    def fingerprint(self) -> str:
        """Changes when the entry's options change: ``--resume`` runs such a model again."""
        text = json.dumps({"name": self.name, **self.values}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Manifest:
    path: Path
    entries: list[Entry]

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"


class _Mapping(dict[str, Any]):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[str, int] = {}


class _LineLoader:
    """PyYAML's SafeLoader, building :class:`_Mapping` objects (lines kept) and refusing duplicate keys."""

    @staticmethod
    def make(stream: str, path: Path) -> Any:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Mapping:
            loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
            mapping = _Mapping()
            mapping.line = node.start_mark.line + 1
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    raise UsageError(f"{path}:{line}: key {key!r} is not a name", "Write keys as plain words")
                if key in mapping.key_lines:
                    raise UsageError(
                        f"{path}:{line}: key '{key}' given twice (first on line {mapping.key_lines[key]})",
                        "Keep one of them",
                    )
                mapping[key] = loader.construct_object(value_node, deep=True)
                mapping.key_lines[key] = line
            return mapping

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        try:
            return yaml.load(stream, Loader=Loader)  # a SafeLoader subclass: no Python tags
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise UsageError(f"{where}: not valid YAML ({problem})", "Fix the YAML syntax at that line") from None


def load_manifest(path: str | Path, convert: ConvertOptions) -> Manifest:
    """Read and check the manifest at ``path``; every problem is a :class:`UsageError` naming ``FILE:LINE``.

    ``convert`` (``pt2trt.cli.sweep.ConvertCommand``: convert's own click command) says which keys hold paths and
    checks each entry's keys and values as ``convert --config`` would take them, before any model runs.
    """
    p = Path(path)
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "not found"
        raise Pt2trtError(f"manifest {p} {what}", "Give the path of a YAML file listing the models (see docs/sweep.md)")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Pt2trtError(f"cannot read manifest {p}: {exc}", "Check that it is a readable UTF-8 text file") from None
    data = _LineLoader.make(text, p)
    if not isinstance(data, _Mapping) or "models" not in data:
        raise UsageError(
            f"{p}:1: a manifest is a mapping with a 'models:' list",
            "Write 'models:' followed by '- name: ...' entries (see docs/sweep.md)",
        )
    _check_top_keys(p, data)
    defaults = data.get("defaults") or _Mapping()
    if not isinstance(defaults, _Mapping):
        raise UsageError(f"{p}:{data.key_lines['defaults']}: 'defaults' must be a mapping", "Write 'key: value' lines")
    _refuse_reserved(p, defaults, SET_BY_SWEEP | {"name": "each model has a name of its own"})
    models = data["models"]
    if not isinstance(models, list) or not models:
        raise UsageError(
            f"{p}:{data.key_lines['models']}: 'models' must be a list of at least one model",
            "Write one '- name: ...' entry per model",
        )
    entries = [_entry(p, item, defaults, data.key_lines["models"], convert) for item in models]
    _check_names(p, entries)
    return Manifest(p, entries)


def _entry(path: Path, item: Any, defaults: _Mapping, list_line: int, convert: ConvertOptions) -> Entry:
    if not isinstance(item, _Mapping):
        raise UsageError(
            f"{path}:{list_line}: each model must be a mapping, got {type(item).__name__} {item!r}"[:200],
            "Write '- name: NAME' then 'model: ...' and convert's options, one per line",
        )
    _refuse_reserved(path, item, SET_BY_SWEEP)
    lines = {k: defaults.key_lines[k] for k in defaults} | dict(item.key_lines)
    values = convert_config.resolve_paths({**defaults, **item}, convert.path_keys(), path.parent)
    convert.check(values, lines, lambda line: f"{path}:{line or item.line}")
    for required in ("name", "model"):
        if values.get(required) in (None, ""):
            raise UsageError(f"{path}:{item.line}: model without '{required}'", f"Add '{required}: ...' to it")
    name = values.pop("name")
    if not isinstance(name, str | int) or isinstance(name, bool) or not NAME_RE.match(str(name)):
        raise UsageError(
            f"{path}:{lines['name']}: name {str(name)!r} cannot be a folder name"[:200],
            "Use letters, digits, '.', '_' and '-' (it names OUTDIR/<name>/)",
        )
    return Entry(str(name), item.line, values, lines)


def _check_top_keys(path: Path, mapping: _Mapping) -> None:
    for key, line in mapping.key_lines.items():
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(key, TOP_KEYS, n=1)
            hint = f"Did you mean '{close[0]}'?" if close else "A manifest has 'defaults:' (optional) and 'models:'"
            raise UsageError(f"{path}:{line}: unknown top-level key '{key}'", hint)


def _refuse_reserved(path: Path, mapping: _Mapping, reserved: dict[str, str]) -> None:
    for key, line in mapping.key_lines.items():
        if key in reserved:
            raise UsageError(f"{path}:{line}: '{key}' is set by the sweep: {reserved[key]}", "Remove that line")


def _check_names(path: Path, entries: list[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        folded = entry.name.lower()  # case-insensitive file systems would merge the folders
        if folded in seen:
            first = seen[folded]
            raise UsageError(
                f"{path}:{entry.lines.get('name', entry.line)}: name '{entry.name}' is used twice (first on line "
                f"{first.lines.get('name', first.line)})",
                "Give every model its own name: it names its output folder",
            )
        seen[folded] = entry
