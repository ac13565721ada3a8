"""The error catalogue: every user error pt2trt raises says what to do next.

The test walks the source of ``src/pt2trt`` with :mod:`ast`, finds every construction of :class:`Pt2trtError`,
:class:`UsageError` (and of any subclass defined in the package) and checks that it passes a hint, as the second
positional argument or as ``hint=``. A hint is accepted in these forms only:

1. a non-empty string literal (implicit concatenation included), e.g. ``"Pass --force to overwrite it."``;
2. an f-string with literal text in it, e.g. ``f"Pick one with --output {names[0]}."``;
3. a string concatenation (``+``) or ``%`` formatting whose left part is one of the forms above;
4. ``"...".format(...)`` or ``"...".join(...)`` called on a non-empty literal;
5. the hint of an error being re-raised or wrapped: ``exc.hint`` / ``error.hint`` (any ``<name>.hint``);
6. a conditional expression ``A if cond else B`` whose two branches are both accepted forms;
7. a local name (``hint``) bound in the same function only to accepted forms;
8. a module-level constant (``PICKLE_HINT``) bound to an accepted form;
9. a call to a package function (``_retry_hint(tried)``) every ``return`` of which is an accepted form;
10. ``a or b`` whose last operand is an accepted form (``_batch_hint(key) or "Check the edit's parameters"``).

Anything else (no hint, ``None``, an empty string, a bare variable from elsewhere, ``str(exc)``) fails, with the
file and line of the raise site.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pt2trt"
BASE_ERRORS = {"Pt2trtError", "UsageError"}


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """Pt2trtError, UsageError and every class in the package that derives from them (to a fixed point)."""
    names = set(BASE_ERRORS)
    changed = True
    while changed:
        changed = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {_callee_name(base) for base in node.bases}
                    if bases & names:
                        names.add(node.name)
                        changed = True
    return names


def _callee_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_text(node: ast.expr) -> bool:
    """Forms 1-4: literal text, non-empty."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.Constant) and str(part.value).strip() for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _is_text(node.left) or (isinstance(node.op, ast.Add) and _is_text(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"format", "join"}:
        return _is_text(node.func.value)
    return False


def _assignments(function: ast.AST | None, name: str) -> list[ast.expr]:
    if function is None:
        return []
    values: list[ast.expr] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            values.append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            if node.value is not None:
                values.append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            values.append(node.value)
    return values


# Filled by _raise_sites: top-level constants and functions of the whole package, by name (forms 8 and 9).
CONSTANTS: dict[str, list[ast.expr]] = {}
FUNCTIONS: dict[str, list[ast.FunctionDef]] = {}


def _returns(function: ast.FunctionDef) -> list[ast.expr | None]:
    found: list[ast.expr | None] = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            found.append(node.value)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _is_hint(node: ast.expr, function: ast.AST | None, seen: frozenset[str] = frozenset()) -> bool:
    if _is_text(node):
        return True
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):  # form 10
        return _is_hint(node.values[-1], function, seen)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in seen:  # form 9
        defs = FUNCTIONS.get(node.func.id, [])
        return bool(defs) and all(
            (returns := _returns(d)) and all(r is not None and _is_hint(r, d, seen | {node.func.id}) for r in returns)
            for d in defs
        )
    if isinstance(node, ast.Attribute) and node.attr == "hint":  # form 5
        return True
    if isinstance(node, ast.IfExp):  # form 6
        return _is_hint(node.body, function, seen) and _is_hint(node.orelse, function, seen)
    if isinstance(node, ast.Name) and node.id not in seen:  # form 7
        values = _assignments(function, node.id) or CONSTANTS.get(node.id, [])  # forms 7 and 8
        return bool(values) and all(_is_hint(value, function, seen | {node.id}) for value in values)
    return False


def _hint_argument(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "hint":
            return keyword.value
    if len(call.args) >= 2 and not any(isinstance(arg, ast.Starred) for arg in call.args[:2]):
        return call.args[1]
    return None


def _raise_sites() -> list[tuple[str, int, ast.Call, ast.AST | None]]:
    trees = {path: ast.parse(path.read_text(), filename=str(path)) for path in sorted(SRC.rglob("*.py"))}
    classes = _error_classes(trees)
    for tree in trees.values():
        for statement in tree.body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        CONSTANTS.setdefault(target.id, []).append(statement.value)
            elif isinstance(statement, ast.FunctionDef):
                FUNCTIONS.setdefault(statement.name, []).append(statement)
    sites = []
    for path, tree in trees.items():
        parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _callee_name(node.func) in classes:
                function = node
                while function in parents and not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    function = parents[function]
                enclosing = function if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
                sites.append((str(path.relative_to(SRC.parent)), node.lineno, node, enclosing))
    return sites


SITES = _raise_sites()


def test_the_catalogue_is_found():
    # The walk really sees the package's errors (a broken walk would pass vacuously).
    assert len(SITES) > 300
    files = {site[0] for site in SITES}
    assert "pt2trt/files.py" in files and "pt2trt/cli/options.py" in files


def test_every_user_error_carries_a_hint():
    missing = [
        f"{path}:{line}"
        for path, line, call, function in SITES
        if (hint := _hint_argument(call)) is None or not _is_hint(hint, function)
    ]
    assert not missing, f"{len(missing)} user errors without a 'what to do' hint:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ('Pt2trtError("bad", "Pass --force.")', True),
        ('Pt2trtError("bad", hint=f"Use --output {name}.")', True),
        ('UsageError("bad", exc.hint)', True),
        ('Pt2trtError("bad", "Try A." if x else "Try B.")', True),
        ('Pt2trtError("bad")', False),
        ('Pt2trtError("bad", None)', False),
        ('Pt2trtError("bad", "")', False),
        ('Pt2trtError("bad", str(exc))', False),
        ('Pt2trtError("bad", "Try A." if x else None)', False),
    ],
)
def test_the_checker_itself(source, ok):
    call = ast.parse(source, mode="eval").body
    assert isinstance(call, ast.Call)
    hint = _hint_argument(call)
    assert (hint is not None and _is_hint(hint, None)) is ok
