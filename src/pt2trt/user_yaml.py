"""YAML the user wrote (edit recipes, ``--insert-node '{op: Relu, ...}'``, preprocessing files), read safely, and its
errors in one line.

PyYAML's errors span several lines (the problem, a context, the offending line quoted with a caret under it); pt2trt
prints one: the problem and where it is (``line 1, column 21``). Tags that would build Python objects
(``!!python/object/apply:os.system``) are refused by ``yaml.safe_load``; that refusal says so plainly instead of
"could not determine a constructor for the tag".
"""

from __future__ import annotations

import re
from typing import Any

from pt2trt.errors import Pt2trtError, UsageError

_TAG = re.compile(r"constructor for the tag '(?:tag:yaml\.org,2002:)?([^']+)'")


def load_user_yaml(text: str, what: str, *, argument: bool = False) -> Any:
    """``yaml.safe_load(text)``; on a syntax error or a tag, a :class:`Pt2trtError` naming ``what`` (``recipe
    deploy.yaml``, ``--insert-node``), a :class:`UsageError` (exit 2) when the text is a command-line ``argument``."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, what, UsageError if argument else Pt2trtError) from None


def yaml_error(exc: Exception, what: str, kind: type[Pt2trtError] = Pt2trtError) -> Pt2trtError:
    """One line for PyYAML's error ``exc`` about ``what``: the problem, its line and column, and what to do."""
    problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
    tag = _TAG.search(problem)
    if tag:
        name = tag.group(1)
        shown = f"!!{name}" if name.startswith("python/") else name
        return kind(
            f"{what} uses the YAML tag {shown}, which pt2trt does not construct",
            "Write plain YAML (mappings, lists, strings, numbers); tags that build objects are refused",
        )
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    detail = f" ({' '.join(str(context).split())})" if context else ""
    return kind(
        f"{what} is not valid YAML: {problem.rstrip('.')}{where}{detail}",
        "Fix the YAML syntax there (quotes, brackets, a space after each colon)",
    )
