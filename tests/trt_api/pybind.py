"""The signatures pybind11 writes into the real ``tensorrt`` module's docstrings, parsed.

pybind11 documents every bound function as ``name(self: tensorrt.X, a: int, b: tensorrt.Dims = ...) -> tensorrt.Y``
(one line per overload, numbered when there are several); properties as ``(arg0: tensorrt.X) -> int`` on their
getter and setter. Parameters pybind11 got no name for are ``arg0``, ``arg1``...: they cannot be passed by keyword.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

_LINE = re.compile(r"^(?:\d+\.\s+)?(\w*)\((.*)\)\s*->\s*(.+?)\s*$")
_PARAM = re.compile(r"^(\*{0,2}\w+)(?:\s*:\s*(.+?))?(?:\s*=\s*(.+))?$")
_TRT_NAME = re.compile(r"^(?:tensorrt_bindings\.)?tensorrt\.([\w.]+)$")
_CPP_NAME = re.compile(r"^nvinfer1::(I?)(\w+)$")  # a type pybind11 had not seen bound yet: its C++ name
_UNNAMED = re.compile(r"^arg\d+$")


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str
    has_default: bool

    @property
    def keyword(self) -> bool:
        return not _UNNAMED.match(self.name) and not self.name.startswith("*")


@dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...]  # without ``self``
    returns: str
    text: str

    @property
    def variadic(self) -> bool:
        return any(p.name.startswith("*") for p in self.params)

    def bind(self, nargs: int, keywords: tuple[str, ...]) -> tuple[list[Param | None], str | None]:
        """Which parameter each argument fills (positional ones first, then keywords), or why they do not fit."""
        if self.variadic:
            return [None] * (nargs + len(keywords)), None
        if nargs > len(self.params):
            return [], f"{nargs} positional arguments, it takes at most {len(self.params)}"
        filled = list(self.params[:nargs])
        for key in keywords:
            match = next((p for p in self.params if p.name == key), None)
            if match is None:
                return [], f"no parameter named '{key}'"
            if not match.keyword:
                return [], f"'{key}' cannot be passed by keyword"
            if match in filled:
                return [], f"'{key}' given twice"
            filled.append(match)
        missing = [p.name for p in self.params if not p.has_default and p not in filled]
        if missing:
            return [], f"missing {', '.join(missing)}"
        return filled, None


def _split_params(text: str) -> list[str]:
    parts, depth, current, quote = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(<{":
            depth += 1
        elif ch in "])>}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def parse_line(line: str) -> tuple[str, Signature] | None:
    match = _LINE.match(line.strip())
    if match is None:
        return None
    name, params_text, returns = match.groups()
    params = []
    for part in _split_params(params_text):
        pm = _PARAM.match(part)
        if pm is None:
            return None
        params.append(Param(pm.group(1), (pm.group(2) or "").strip(), pm.group(3) is not None))
    return name, Signature(tuple(params), returns, line.strip())


def signatures(doc: str | None, name: str, *, drop_self: bool = True) -> list[Signature]:
    """The overloads of ``name`` documented in ``doc`` (``name`` "" for a property getter or setter)."""
    found = []
    for line in (doc or "").splitlines():
        parsed = parse_line(line)
        if parsed is None or parsed[0] != name:
            continue
        sig = parsed[1]
        if sig.variadic and "Overloaded function" in (doc or ""):
            continue  # the generic first line of an overloaded function
        if drop_self and sig.params:
            sig = Signature(sig.params[1:], sig.returns, sig.text)
        found.append(sig)
    return found


def strip_optional(annotation: str) -> str:
    text = annotation.strip()
    for prefix in ("typing.Optional[", "Optional["):
        if text.startswith(prefix) and text.endswith("]"):
            return text[len(prefix) : -1].strip()
    if text.endswith("| None"):
        return text[: -len("| None")].strip()
    return text


def trt_type(module: ModuleType, annotation: str) -> type | None:
    """The tensorrt class an annotation names (``tensorrt_bindings.tensorrt.ILogger.Severity``), else None.

    ``nvinfer1::IEngineInspector`` (8.6 writes some return types by their C++ name) is the class bound as
    ``IEngineInspector`` or ``EngineInspector``.
    """
    text = strip_optional(annotation)
    cpp = _CPP_NAME.match(text)
    if cpp is not None:
        found = getattr(module, cpp.group(1) + cpp.group(2), None) or getattr(module, cpp.group(2), None)
        return found if isinstance(found, type) else None
    match = _TRT_NAME.match(text)
    if match is None:
        return None
    value: Any = module
    for part in match.group(1).split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value if isinstance(value, type) else None


#: TensorRT types pybind11 converts implicitly from plain Python values (sequences, arrays, ints)
IMPLICIT = {"Dims", "Dims2", "Dims3", "Dims4", "DimsHW", "DimsExprs", "Permutation", "Weights", "IHostMemory"}


def member_kind(owner: Any, name: str) -> str:
    """What a class/module member is: ``property``, ``method``, ``function``, ``class``, ``value`` or ``missing``."""
    try:
        member = getattr(owner, name)
    except AttributeError:
        return "missing"
    if isinstance(owner, type):
        for klass in owner.__mro__:
            raw = klass.__dict__.get(name)
            if isinstance(raw, property):
                return "property"
            if raw is not None:
                break
    if isinstance(member, type):
        return "class"
    if type(member).__name__ in ("instancemethod", "method_descriptor", "function", "wrapper_descriptor"):
        return "method" if isinstance(owner, type) else "function"
    if type(member).__name__ == "builtin_function_or_method":
        return "function"
    return "value"


def property_of(owner: type, name: str) -> property:
    for klass in owner.__mro__:
        raw = klass.__dict__.get(name)
        if isinstance(raw, property):
            return raw
    raise AttributeError(name)
