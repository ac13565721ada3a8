"""The package as the source reading sees it: modules, their scopes, and the abstract values the interpreter tracks."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.trt_api.uses import Chain, Gate, Step

TRT_MODULES = ("tensorrt", "tensorrt_bindings")
POLYGRAPHY_TRT = "polygraphy.backend.trt"


# -- abstract values ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trt:
    chain: Chain
    guarded: bool = True  # False while an optional member on the chain has not been checked


@dataclass(frozen=True)
class Poly:
    name: str
    instance: bool = False


@dataclass(frozen=True, eq=False)
class Func:
    module: ModuleInfo
    node: ast.FunctionDef | ast.AsyncFunctionDef
    env: Any = None  # the enclosing scope of a nested function


@dataclass(frozen=True)
class Klass:
    module: ModuleInfo
    node: ast.ClassDef


@dataclass(frozen=True)
class Instance:
    klass: Klass


@dataclass(frozen=True)
class Bound:
    instance: Instance
    func: Func


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Rows:
    rows: tuple[tuple[Any, tuple[Gate, ...]], ...]


@dataclass(frozen=True)
class Cands:
    values: tuple[tuple[str, tuple[Gate, ...]], ...]


@dataclass(frozen=True)
class Seq:
    items: tuple[Any, ...]


class DictKeys:
    def __init__(self, keys: set[str], star: bool) -> None:
        self.keys, self.star = keys, star


# -- the program -------------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class ModuleInfo:
    name: str
    path: Path
    label: str
    tree: ast.Module
    names: dict[str, Any] = field(default_factory=dict)  # module scope: imports, functions, classes, constants

    def __hash__(self) -> int:
        return id(self)


class Program:
    def __init__(self, src: Path, package: str = "pt2trt") -> None:
        self.modules: dict[str, ModuleInfo] = {}
        root = src / package
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(src).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            label = str(path.relative_to(src.parent)) if src.parent in path.parents else str(path)
            self.modules[name] = ModuleInfo(name, path, label, ast.parse(path.read_text(), str(path)))
        for module in self.modules.values():
            self._scope(module)
        self.target_fields = self._target_fields()

    def _scope(self, module: ModuleInfo) -> None:
        for node in module.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                module.names[node.name] = Func(module, node)
            elif isinstance(node, ast.ClassDef):
                module.names[node.name] = Klass(module, node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                module.names.update(self._import_names(node, module))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        try:
                            module.names[target.id] = Const(ast.literal_eval(node.value))
                        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                            continue

    def _import_names(self, node: ast.Import | ast.ImportFrom, module: ModuleInfo) -> dict[str, Any]:
        names: dict[str, Any] = {}
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in TRT_MODULES:
                    names[alias.asname or alias.name.split(".")[0]] = Trt(())
            return names
        base = node.module or ""
        if node.level:
            parent = module.name.split(".")
            parent = parent[: len(parent) - node.level + (1 if module.path.name == "__init__.py" else 0)]
            base = ".".join([*parent, base] if base else parent)
        for alias in node.names:
            local = alias.asname or alias.name
            if base.split(".")[0] in TRT_MODULES:
                names[local] = Trt((Step("attr", alias.name),))
            elif base == POLYGRAPHY_TRT:
                names[local] = Poly(alias.name)
            elif base.startswith("pt2trt"):
                names[local] = ("ref", base, alias.name)
        return names

    def lookup(self, module: ModuleInfo, name: str) -> Any:
        return self.resolve(module.names.get(name))

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """Follow ``("ref", module, name)`` imports of our own modules to what they name."""
        if isinstance(value, tuple) and value and value[0] == "ref" and depth < 10:
            _, base, attr = value
            target = self.modules.get(base)
            if target is not None and attr in target.names:
                return self.resolve(target.names[attr], depth + 1)
            return self.modules.get(f"{base}.{attr}")  # a submodule: `from pt2trt.backends.tensorrt.runner import plan`
        return value

    def static_value(self, node: ast.expr, module: ModuleInfo) -> Any:
        """A name or dotted name at module scope, without recording anything (class bases)."""
        if isinstance(node, ast.Name):
            return self.lookup(module, node.id)
        if isinstance(node, ast.Attribute):
            owner = self.static_value(node.value, module)
            return self.lookup(owner, node.attr) if isinstance(owner, ModuleInfo) else None
        return None

    def _target_fields(self) -> set[str]:
        from dataclasses import fields

        from tests.trt_api.ours import Target

        return {f.name for f in fields(Target) if f.type in ("bool", bool)}
