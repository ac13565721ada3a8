"""Every `pt2trt COMMAND ... --flag` written in the README and docs/ names an option that command has."""

from __future__ import annotations

import re

import click

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: a command line as the docs write it: up to the end of the line, a code span, a table cell, or the next command
COMMAND = re.compile(r"pt2trt ((?:debug )?[a-z][a-z-]*)([^\n`|;]*?)(?=, then|; |[\n`|]|$)")


def _options(command: click.Command) -> set[str]:
    return {o for p in command.params for o in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]}


def test_the_docs_name_only_options_their_commands_have() -> None:
    from pt2trt.cli.main import cli

    ctx = click.Context(cli)
    unknown = []
    for doc in DOCS:
        for match in COMMAND.finditer(doc.read_text(encoding="utf-8")):
            words = match.group(1).split()
            command = cli.get_command(ctx, words[0])
            if isinstance(command, click.Group) and len(words) > 1:
                command = command.get_command(ctx, words[1])
            if command is None:
                continue
            known = _options(command) | {"--help"}
            unknown += [
                (doc.name, match.group(1), flag)
                for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", match.group(2))
                if flag not in known
            ]
    assert not unknown, unknown
