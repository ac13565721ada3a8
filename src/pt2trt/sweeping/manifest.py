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

Loaded with PyYAML's safe loader (no Python objects are built from tags), keeping the line of every key, so that each
mistake is one line naming ``FILE:LINE``: an unknown key (with the closest known one), a key given twice, a value of
the wrong kind, a name used twice, a name that cannot be a folder. Relative paths (model files, ``calib``,
``images``) are taken from the manifest's folder.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.sweeping import convert_args
from pt2trt.sweeping.convert_args import FLAG, KINDS, OPTIONS, REPEAT, SET_BY_SWEEP, VALUE

TOP_KEYS = ("defaults", "models")
ENTRY_KEYS = ("name", "model", *OPTIONS)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

#: checks convert's arguments of one entry (``convert MODEL ... -o NAME``), returning ``(message, flag)`` for the first
#: problem or None; the CLI passes one built from convert's own click command.
ArgsCheck = Callable[[list[str]], "tuple[str, str | None] | None"]


@dataclass
class Entry:
    """One model of the manifest: its name, where it is written, and convert's options (defaults merged)."""

    name: str
    line: int
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # key -> line of its value (the defaults' line if inherited)

    @property
    def model(self) -> str:
        return str(self.values["model"])

    @property
    def argv(self) -> list[str]:
        """``convert MODEL OPTIONS -o NAME`` (run in the folder that is to hold NAME/)."""
        return convert_args.convert_argv(self.values, self.name)

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


def load_manifest(path: str | Path, *, check_args: ArgsCheck | None = None) -> Manifest:
    """Read and check the manifest at ``path``; every problem is a :class:`UsageError` naming ``FILE:LINE``.

    ``check_args`` (the CLI passes convert's own parser) also checks each entry's values as convert would take them,
    so that a bad value is reported at its line before any model runs.
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
    _check_keys(p, data, TOP_KEYS, "top-level key", {})
    defaults = data.get("defaults") or _Mapping()
    if not isinstance(defaults, _Mapping):
        raise UsageError(f"{p}:{data.key_lines['defaults']}: 'defaults' must be a mapping", "Write 'key: value' lines")
    reserved = SET_BY_SWEEP | {"name": "each model has a name of its own"}
    _check_keys(p, defaults, (*OPTIONS, "model"), "key in defaults", reserved)
    models = data["models"]
    if not isinstance(models, list) or not models:
        raise UsageError(
            f"{p}:{data.key_lines['models']}: 'models' must be a list of at least one model",
            "Write one '- name: ...' entry per model",
        )
    entries = [_entry(p, item, defaults, data.key_lines["models"]) for item in models]
    _check_names(p, entries)
    manifest = Manifest(p, entries)
    if check_args is not None:
        for entry in entries:
            _check_values(manifest, entry, check_args)
    return manifest


def _entry(path: Path, item: Any, defaults: _Mapping, list_line: int) -> Entry:
    if not isinstance(item, _Mapping):
        raise UsageError(
            f"{path}:{list_line}: each model must be a mapping, got {type(item).__name__} {item!r}"[:200],
            "Write '- name: NAME' then 'model: ...' and convert's options, one per line",
        )
    _check_keys(path, item, ENTRY_KEYS, "key", SET_BY_SWEEP)
    for required in ("name", "model"):
        if required not in item and required not in defaults:
            raise UsageError(f"{path}:{item.line}: model without '{required}'", f"Add '{required}: ...' to it")
    lines = {k: defaults.key_lines[k] for k in defaults} | dict(item.key_lines)
    values = {**defaults, **item}
    for key, value in values.items():
        _check_kind(path, lines[key], key, value)
    name = str(values.pop("name"))
    if not NAME_RE.match(name):
        raise UsageError(
            f"{path}:{lines['name']}: name '{name}' cannot be a folder name",
            "Use letters, digits, '.', '_' and '-' (it names OUTDIR/<name>/)",
        )
    return Entry(name, item.line, convert_args.resolve_paths(values, path.parent), lines)


def _check_keys(path: Path, mapping: _Mapping, allowed: tuple[str, ...], what: str, reserved: dict[str, str]) -> None:
    for key, line in mapping.key_lines.items():
        if key in allowed:
            continue
        if key in reserved:
            raise UsageError(f"{path}:{line}: '{key}' is set by the sweep: {reserved[key]}", "Remove that line")
        close = difflib.get_close_matches(key.replace("-", "_"), allowed, n=1)
        hint = f"Did you mean '{close[0]}'?" if close else f"Use one of: {', '.join(allowed)}"
        raise UsageError(f"{path}:{line}: unknown {what} '{key}'", hint)


def _check_kind(path: Path, line: int, key: str, value: Any) -> None:
    kind = VALUE if key in ("name", "model") else OPTIONS[key][1]
    scalar = isinstance(value, (str, int, float)) and not isinstance(value, bool)
    ok = {
        FLAG: isinstance(value, bool),
        VALUE: scalar,
        REPEAT: scalar or (isinstance(value, list) and bool(value) and all(isinstance(v, (str, int)) for v in value)),
    }.get(kind, scalar or (isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)))
    if value is None or not ok:
        raise UsageError(
            f"{path}:{line}: '{key}' must be {KINDS[kind]}, got {value!r}"[:200], f"Write '{key}: <{KINDS[kind]}>'"
        )


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


def _check_values(manifest: Manifest, entry: Entry, check_args: ArgsCheck) -> None:
    problem = check_args(entry.argv[1:])
    if problem is None:
        return
    message, flag = problem
    key = convert_args.key_of_flag(flag) if flag else None
    line = entry.lines.get(key, entry.line) if key else entry.line
    raise UsageError(
        f"{manifest.where(line)}: model '{entry.name}': {message.rstrip('.')}",
        f"Fix the value of '{key}'" if key else "Fix this model's options (pt2trt convert --help lists them)",
    )
