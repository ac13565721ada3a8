"""``--config FILE.yaml``: a command's own options kept in a file, with the same keys as its flags.

A key is a long flag without its dashes, ``-`` written ``_`` (``--dynamic-batch`` is ``dynamic_batch``, ``--input``
is ``input``); the command's arguments are keys too (``model``). Flags given on the command line override the file;
an unknown key is a usage error naming its line. The values become click's defaults (``ctx.default_map``), so they go
through the same types and checks as flags; :func:`effective_config` gives back what the command ran with, as a
mapping that can be written next to its outputs and read again with ``--config``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import click

from pt2trt.errors import UsageError

#: the start of an error message about the key on a line (None: not known), e.g. ``--config FILE line 3``
Where = Callable[[int | None], str]


def config_key(param: click.Parameter) -> str:
    """The key of ``param`` in a config file: its first long flag (``--dynamic-batch`` -> ``dynamic_batch``), else
    its name (arguments)."""
    if isinstance(param, click.Option):
        longs = [o for o in param.opts if o.startswith("--")]
        if longs:
            return longs[0][2:].replace("-", "_")
    return str(param.name)


def keys_of(command: click.Command) -> dict[str, click.Parameter]:
    """Config key -> parameter, for every parameter a config file may set."""
    skip = {"config", "help", "as_json", "force", "quiet"}
    return {config_key(p): p for p in command.params if p.name not in skip}


def load_config(path: Path, command: click.Command) -> dict[str, Any]:
    """The file's values by parameter name (click's default map); an unknown key, a value of the wrong shape or a
    malformed file is a usage error naming the line."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read --config {path}: {exc.strerror or exc}", "Give a readable YAML file") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"--config {path}{where}: {problem}", "Write a YAML mapping of option: value") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping) or node is None or not isinstance(node, yaml.MappingNode):
        raise UsageError(f"--config {path} is not a mapping of option: value", "e.g. input: input:1x3x224x224")
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return config_values(data, lines, command, lambda line: f"--config {path} line {line or '?'}")


def config_values(
    data: Mapping[Any, Any],
    lines: Mapping[str, int],
    command: click.Command,
    where: Where,
    *,
    also: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``data`` (config keys -> YAML values) by parameter name, in the shapes click takes (a default map): an unknown
    key (with the closest known one) or a value of the wrong shape is a usage error that starts with ``where(line)``,
    the line of that key in ``lines``. Keys in ``also`` belong to the caller (``pt2trt sweep``'s ``name``): passed
    over, and offered as close matches."""
    known = keys_of(command)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if str(key) in also:
            continue
        param = known.get(str(key))
        if param is None:
            raise UsageError(
                f"{where(lines.get(str(key)))}: unknown key '{key}'", _choose(str(key), sorted([*known, *also]))
            )
        values[str(param.name)] = _shaped(param, value, where(lines.get(str(key))))
    return values


def key_of_error(exc: Exception, command: click.Command, keys: Collection[str]) -> str | None:
    """The config key a parsing error of ``command`` is about: click's own ``param``, else the first of the command's
    long flags named in the message (pt2trt's usage errors name their flag: ``invalid --input: ...``) that is among
    ``keys``; None when neither says."""
    param = getattr(exc, "param", None)
    if isinstance(param, click.Parameter):
        return config_key(param)
    flags = {o: key for key, p in keys_of(command).items() for o in p.opts if o.startswith("--")}
    text = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    for flag in re.findall(r"--[a-z][a-z0-9-]*", text):
        if flags.get(flag) in keys:
            return flags[flag]
    return None


def _shaped(param: click.Parameter, value: Any, where: str) -> Any:
    """A YAML value in the shape click expects for ``param``: a list for a repeatable option (one value may be
    given alone), a string for paths and specs, booleans for flags."""
    if param.multiple or param.nargs == -1:
        items = value if isinstance(value, list) else [value]
        return [_scalar(param, v, where) for v in items]
    return _scalar(param, value, where)


def _scalar(param: click.Parameter, value: Any, where: str) -> Any:
    if value is None:  # null: the option's own default
        return None
    if isinstance(value, Mapping | list):
        raise UsageError(f"{where}: '{config_key(param)}' takes one value, not {type(value).__name__}",
                         f"Write it as on the command line, e.g. {config_key(param)}: VALUE")  # fmt: skip
    if isinstance(param, click.Option) and param.is_flag:
        if not isinstance(value, bool):
            raise UsageError(f"{where}: '{config_key(param)}' is a flag: true or false, not '{value}'",
                             f"Write {config_key(param)}: true")  # fmt: skip
        return value
    return value if isinstance(value, bool | int | float) else str(value)


def _choose(key: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, names, n=1)
    return f"Did you mean '{close[0]}'?" if close else f"Keys are the command's options: {', '.join(names)}"


def config_option(f: Any) -> Any:
    """``--config FILE.yaml`` for a command: read first (eager), its values become the defaults of the other options."""

    def read(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
        if value is None:
            return None
        path = Path(value)
        ctx.default_map = {**(ctx.default_map or {}), **load_config(path, ctx.command)}
        return path

    return click.option(
        "--config", type=click.Path(dir_okay=False), metavar="FILE.yaml", is_eager=True, callback=read,
        expose_value=False,
        help="Options from a YAML file, keys as the flags (dynamic_batch: true, input: [input:1x3x224x224]); flags "
        "given here override it; the effective configuration is written beside the outputs.",
    )(f)  # fmt: skip


def effective_config(ctx: click.Context) -> dict[str, Any]:
    """What the command ran with, by config key, in the shape :func:`load_config` reads back (strings for specs
    and paths, lists for repeatable options, settings objects left out)."""
    out: dict[str, Any] = {}
    for key, param in keys_of(ctx.command).items():
        if param.name not in ctx.params:
            continue
        out[key] = _plain(ctx.params[param.name])
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
