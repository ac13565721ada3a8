"""Hold recorded uses (:mod:`tests.trt_api.source_uses`, as JSON) against one real ``tensorrt`` module.

A use is a chain of steps from the module. Each step is resolved against the real classes: an attribute must exist
(on the module, the class, or an instance of the class a previous call returned, as its pybind11 signature says),
a call must fit one of the callee's documented overloads (positional count, keyword names, TensorRT-typed arguments),
an assignment must hit a property with a setter. A use whose gates do not hold on this release is skipped; a use of an
optional member (``getattr(trt, "X", None)``) is fine where the member is absent if the code checked it first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.trt_api.pybind import Signature, member_kind, property_of, signatures, strip_optional, trt_type


@dataclass(frozen=True)
class State:
    kind: str  # module, class, instance, unbound, bound, function, value, absent
    cls: Any = None
    name: str = ""
    annotation: str = ""


class Failure(Exception):
    pass


class Resolver:
    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.memo: dict[str, tuple[State | None, str | None]] = {}

    # -- one chain ---------------------------------------------------------------------------------------------------
    def resolve(self, chain: list[dict[str, Any]]) -> tuple[State | None, str | None]:
        """The state after the chain, or (None, why it fails); (State("value"), None) when it cannot be followed."""
        key = json.dumps(chain, sort_keys=True)
        if key in self.memo:
            return self.memo[key]
        if not chain:
            result: tuple[State | None, str | None] = (State("module", self.module), None)
        else:
            before, why = self.resolve(chain[:-1])
            if before is None:
                result = (None, why)
            else:
                try:
                    result = (self.step(before, chain[-1]), None)
                except Failure as exc:
                    result = (None, str(exc))
        self.memo[key] = result
        return result

    def step(self, state: State, step: dict[str, Any]) -> State:
        if state.kind == "absent":
            return state
        if state.kind in ("value", "unfollowed"):  # not a TensorRT object: its members are not TensorRT's API
            return State("unfollowed", annotation=state.annotation)
        if step["kind"] == "attr":
            return self.attribute(state, step["name"], step.get("optional", False))
        if step["kind"] == "set":
            return self.assignment(state, step["name"])
        return self.call(state, step)

    def attribute(self, state: State, name: str, optional: bool) -> State:
        owner = state.cls if state.kind in ("module", "class", "instance") else None
        if owner is None:
            raise Failure(f"{describe(state)} has no attributes to read ('{name}')")
        kind = member_kind(owner, name)
        if kind == "missing":
            if optional:
                return State("absent", name=name)
            raise Failure(f"{describe(state)} has no attribute '{name}'")
        if kind == "property":
            if state.kind != "instance":
                return State("value", annotation="property")
            getter = property_of(owner, name).fget
            sig = signatures(getter.__doc__ if getter else "", "", drop_self=False)
            return self.typed(sig[0].returns if sig else "")
        if kind == "class":
            return State("class", getattr(owner, name))
        if kind == "method":
            return State("bound" if state.kind == "instance" else "unbound", owner, name)
        if kind == "function":
            return State("function", owner, name)
        value = getattr(owner, name)
        if type(value).__module__.endswith("tensorrt") or isinstance(value, tuple(_trt_classes(self.module))):
            return State("instance", type(value))
        return State("value", annotation=type(value).__name__)

    def assignment(self, state: State, name: str) -> State:
        if state.kind != "instance" or member_kind(state.cls, name) != "property":
            raise Failure(f"{describe(state)} has no property '{name}' to set")
        if property_of(state.cls, name).fset is None:
            raise Failure(f"{state.cls.__name__}.{name} is read-only")
        return State("value", annotation="None")

    def call(self, state: State, step: dict[str, Any]) -> State:
        if state.kind == "class":
            sigs, what = signatures(state.cls.__init__.__doc__, "__init__"), f"{state.cls.__name__}()"
        elif state.kind in ("bound", "unbound", "function"):
            member = getattr(state.cls, state.name)
            sigs = signatures(member.__doc__, state.name, drop_self=state.kind == "bound")
            what = f"{getattr(state.cls, '__name__', 'tensorrt')}.{state.name}()"
        else:
            raise Failure(f"{describe(state)} is not callable")
        if step.get("star"):
            matched = sigs
        else:
            matched = [s for s in sigs if self.fits(s, step) is None]
            if sigs and not matched:
                reasons = "; ".join(f"{s.text}: {self.fits(s, step)}" for s in sigs)
                raise Failure(f"{what} does not take {describe_call(step)} ({reasons})")
        if state.kind == "class":
            return State("instance", state.cls)
        returns = {s.returns for s in matched}
        return self.typed(returns.pop()) if len(returns) == 1 else State("value", annotation=" | ".join(returns))

    def fits(self, sig: Signature, step: dict[str, Any]) -> str | None:
        params, why = sig.bind(step["nargs"], tuple(step["keywords"]))
        if why is not None:
            return why
        for key, chain in step.get("args", []):
            param = params[int(key)] if key.isdigit() else next((p for p in params if p and p.name == key), None)
            expected = trt_type(self.module, param.annotation) if param is not None else None
            if expected is None:
                continue
            got, _ = self.resolve(chain)
            if got is not None and got.kind == "instance" and not issubclass(got.cls, expected):
                return f"'{param.name}' takes {expected.__name__}, got {got.cls.__name__}"
        return None

    def typed(self, annotation: str) -> State:
        cls = trt_type(self.module, annotation)
        if cls is not None:
            return State("instance", cls)
        return State("value", annotation=strip_optional(annotation))


def _trt_classes(module: ModuleType) -> list[type]:
    return [v for v in vars(module).values() if isinstance(v, type)]


def describe(state: State) -> str:
    if state.kind == "module":
        return "tensorrt"
    if state.kind == "class":
        return f"class {state.cls.__name__}"
    if state.kind == "instance":
        return f"a {state.cls.__name__}"
    return f"{state.kind} {state.name or state.annotation}".strip()


def describe_call(step: dict[str, Any]) -> str:
    parts = [f"{step['nargs']} positional argument(s)"]
    if step["keywords"]:
        parts.append("keywords " + ", ".join(step["keywords"]))
    return " and ".join(parts)


# -- gates -------------------------------------------------------------------------------------------------------------
def gates_hold(gates: list[list[Any]], module: ModuleType, version: str) -> tuple[bool, str]:
    """Whether the code path of a use can run on this release (and the gate that rules it out)."""
    from tests.trt_api.ours import at_least, target_of

    for kind, subject, positive in gates:
        if kind == "target":
            holds = bool(getattr(target_of(version), subject))
        elif kind == "version":
            holds = at_least(version, subject)
        else:
            value: Any = module
            for part in subject.split("."):
                value = getattr(value, part, None)
            holds = value is not None
        if holds != positive:
            return False, f"{'' if positive else 'not '}{kind} {subject}"
    return True, ""


# -- the checks --------------------------------------------------------------------------------------------------------
def check_uses(
    uses: list[dict[str, Any]], module: ModuleType, version: str, *, ignore_gates: bool = False
) -> list[dict[str, Any]]:
    """Each use's status here: ok, gated out, absent (an optional member the code checks), unfollowed or fail."""
    resolver = Resolver(module)
    results = []
    for use in uses:
        holds, why_not = (True, "") if ignore_gates else gates_hold(use["gates"], module, version)
        entry = {"text": use["text"], "where": use["where"], "gates": use["gates"]}
        if not holds:
            results.append({**entry, "status": "gated out", "detail": why_not})
            continue
        state, why = resolver.resolve(use["chain"])
        if state is None:
            results.append({**entry, "status": "fail", "detail": why})
        elif state.kind == "unfollowed":
            results.append({**entry, "status": "unfollowed", "detail": f"continues on a {state.annotation}"})
        elif state.kind == "absent" and not use["guarded"] and use["chain"][-1].get("name") != state.name:
            detail = f"'{state.name}' does not exist here and the code uses it without checking for None"
            results.append({**entry, "status": "fail", "detail": detail})
        else:
            results.append({**entry, "status": "absent" if state.kind == "absent" else "ok", "detail": describe(state)})
    return results


_DEF = re.compile(r"^\s*def (\w+)\(self(?:,\s*([^)]*))?\)\s*:")


def called_methods(base: type, pure_virtual: set[str]) -> tuple[dict[str, int], set[str]]:
    """The methods TensorRT calls on a subclass of ``base`` (name -> arity without self), and those it must define.

    Read from three places: the methods pybind11 binds on the base (with signatures; they have a default, so
    overriding them is optional), the ``def`` lines of the base's docstring ("to implement a custom X": required),
    and the base's pure virtual functions named in the extension's strings (required).
    """
    methods: dict[str, int] = {}
    required: set[str] = set(pure_virtual)
    for name, raw in vars(base).items():
        if name.startswith("_") or member_kind(base, name) != "method":
            continue
        sigs = signatures(raw.__doc__, name)
        if sigs:
            methods[name] = len(sigs[0].params)
    for line in (base.__doc__ or "").splitlines():
        match = _DEF.match(line)
        if match and not match.group(1).startswith("_"):
            methods.setdefault(match.group(1), len([p for p in (match.group(2) or "").split(",") if p.strip()]))
            required.add(match.group(1))
    for name in pure_virtual:
        methods.setdefault(name, -1)  # arity unknown from the string alone
    return methods, required


def pure_virtuals(extension: Path) -> dict[str, set[str]]:
    """``Tried to call pure virtual function "Class::method"``: pybind11's message for each pure virtual override."""
    found: dict[str, set[str]] = {}
    data = extension.read_bytes()
    for cls, method in re.findall(rb'Tried to call pure virtual function "(\w+)::(\w+)"', data):
        found.setdefault(cls.decode(), set()).add(method.decode())
    return found


def check_overrides(
    ours: dict[str, tuple[int, int, bool]], own: set[str], base: type, virtuals: dict[str, set[str]]
) -> list[str]:
    """What is wrong with a subclass's overrides on this release (empty: it overrides what TensorRT calls).

    ``ours``: every method of the subclass and of our classes it derives from (name -> required, total, *args);
    ``own``: the methods written in the subclass itself, each of which must be one TensorRT calls.
    """
    called, required = called_methods(base, virtuals.get(base.__name__, set()))
    problems = [
        f"{base.__name__}.{name} must be overridden (TensorRT calls it)" for name in sorted(required - set(ours))
    ]
    for name, arity in sorted(called.items()):
        if name in ours:
            low, high, star = ours[name]
            if arity >= 0 and not star and not low <= arity <= high:
                problems.append(f"{name} takes {low}..{high} arguments, TensorRT passes {arity}")
    problems += [f"{name} overrides nothing {base.__name__} calls here" for name in sorted(own - set(called))
                 if not name.startswith("_")]  # fmt: skip
    return problems


def check_subclasses(subclasses: list[dict[str, Any]], module: ModuleType, version: str, extension: Path) -> list[dict]:
    resolver, virtuals = Resolver(module), pure_virtuals(extension)
    results = []
    for sub in subclasses:
        entry = {"name": sub["name"], "base": sub["base_text"], "where": sub["where"]}
        holds, why_not = gates_hold(sub["gates"], module, version)
        state, why = resolver.resolve(sub["base"]) if holds else (None, why_not)
        if not holds:
            results.append({**entry, "status": "gated out", "detail": why_not})
        elif state is None:
            results.append({**entry, "status": "fail", "detail": why})
        elif state.kind == "absent":
            status = "absent" if sub["guarded"] else "fail"
            results.append({**entry, "status": status, "detail": f"{state.name} does not exist here"})
        elif state.kind != "class":
            results.append({**entry, "status": "fail", "detail": f"{describe(state)} is not a class"})
        else:
            methods = {k: tuple(v) for k, v in sub["methods"].items()}
            problems = check_overrides(methods, set(sub["own"]), state.cls, virtuals)
            called = sorted(called_methods(state.cls, virtuals.get(state.cls.__name__, set()))[0])
            results.append({**entry, "status": "fail" if problems else "ok", "detail": "; ".join(problems),
                            "called": called})  # fmt: skip
    return results
