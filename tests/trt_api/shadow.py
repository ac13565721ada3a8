"""Objects that behave, member by member, as instances of the real TensorRT classes would, with no device behind them.

A :class:`Shadow` of ``IBuilderConfig`` has exactly the real class's members: reading a member the real class lacks
raises ``AttributeError``, calling a method checks the arguments against the method's pybind11 signatures (arity,
keyword names, TensorRT-typed arguments) and raises ``TypeError`` like pybind11 does, setting a read-only or missing
property raises ``AttributeError``. A method returns what its signature says: a shadow of the returned TensorRT class,
``True``, ``0``, ``""``... (a :class:`World` can supply values, e.g. a network's inputs). Every call and assignment is
logged, so a test can see what a library (Polygraphy) asked of TensorRT.

:func:`install` replaces the module's factories that would need NVIDIA's libraries (``Builder``, ``Runtime``,
``OnnxParser``...) by shadow classes whose constructors check the real ``__init__`` signature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from tests.trt_api.pybind import IMPLICIT, Signature, member_kind, property_of, signatures, strip_optional, trt_type

_MISSING = object()


@dataclass
class World:
    """The module, the log of everything asked of it, and values some members should return."""

    module: ModuleType
    log: list[tuple[str, str, str, tuple[Any, ...]]] = field(default_factory=list)
    returns: dict[tuple[str, str], Callable[..., Any]] = field(default_factory=dict)  # (class, member) -> f(*args)
    real: dict[str, type] = field(default_factory=dict)  # the classes install() replaced

    def calls(self, cls: str, name: str) -> list[tuple[Any, ...]]:
        return [args for kind, c, n, args in self.log if kind == "call" and c == cls and n == name]

    def sets(self, cls: str, name: str) -> list[Any]:
        return [args[0] for kind, c, n, args in self.log if kind == "set" and c == cls and n == name]

    def value(self, annotation: str) -> Any:
        """What a member of this return annotation gives back."""
        text = strip_optional(annotation)
        cls = trt_type(self.module, text)
        if cls is not None:
            members = getattr(cls, "__members__", None)
            if members:  # an enum: its first member
                return next(iter(members.values()))
            return Shadow(cls, self)
        plain = text.split("[")[0].split(".")[-1]
        return {"None": None, "bool": True, "int": 0, "SupportsInt": 0, "float": 0.0, "SupportsFloat": 0.0,
                "str": "", "list": [], "List": [], "tuple": (), "Tuple": (), "dict": {}}.get(plain)  # fmt: skip


def _accepts(world: World, param_annotation: str, value: Any) -> bool:
    expected = trt_type(world.module, param_annotation)
    if expected is None:
        return not (strip_optional(param_annotation) == "str" and not isinstance(value, str) and value is not None)
    if value is None:
        return param_annotation.strip().startswith(("Optional", "typing.Optional")) or "None" in param_annotation
    if expected.__name__ in IMPLICIT and isinstance(value, (tuple, list, int, bytes, bytearray, memoryview)):
        return True
    actual = value._cls if isinstance(value, Shadow) else type(value)
    return isinstance(actual, type) and issubclass(actual, expected)


def check_call(
    world: World, sigs: list[Signature], what: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Signature:
    """The overload that accepts these arguments, or ``TypeError`` listing the overloads."""
    reasons = []
    for sig in sigs:
        params, why = sig.bind(len(args), tuple(kwargs))
        if why is None:
            values = [*args, *kwargs.values()]
            wrong = [p.name for p, v in zip(params, values) if p is not None and not _accepts(world, p.annotation, v)]
            if not wrong:
                return sig
            why = f"wrong type for {', '.join(wrong)}"
        reasons.append(f"{sig.text}: {why}")
    raise TypeError(f"{what}(): incompatible arguments ({'; '.join(reasons) or 'no signature documented'})")


class Shadow:
    """An instance of a real TensorRT class, without the native object (see the module docstring)."""

    def __init__(self, cls: type, world: World) -> None:
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_world", world)
        object.__setattr__(self, "_values", {})

    def __repr__(self) -> str:
        return f"<shadow {self._cls.__name__}>"

    def __getattr__(self, name: str) -> Any:
        cls, world = self._cls, self._world
        if name in self._values:
            return self._values[name]
        kind = member_kind(cls, name)
        if kind == "missing":
            raise AttributeError(f"'{cls.__name__}' object has no attribute '{name}'")
        if kind == "property":
            getter = property_of(cls, name).fget
            sig = signatures(getter.__doc__ if getter else "", "", drop_self=False)
            supplied = world.returns.get((cls.__name__, name))
            world.log.append(("get", cls.__name__, name, ()))
            if supplied is not None:
                return supplied()
            return world.value(sig[0].returns) if sig else None
        if kind == "method":
            return BoundShadowMethod(self, name)
        return getattr(cls, name)

    def __setattr__(self, name: str, value: Any) -> None:
        cls, world = self._cls, self._world
        if member_kind(cls, name) != "property":
            raise AttributeError(f"'{cls.__name__}' object has no attribute '{name}'")
        prop = property_of(cls, name)
        if prop.fset is None:
            raise AttributeError(f"'{cls.__name__}.{name}' is read-only")
        sig = signatures(prop.fset.__doc__, "", drop_self=True)
        if sig:
            check_call(world, sig, f"{cls.__name__}.{name} setter", (value,), {})
        world.log.append(("set", cls.__name__, name, (value,)))
        self._values[name] = value

    # dunders are looked up on the type: forward the ones the real class has
    def __iter__(self) -> Any:
        supplied = self._world.returns.get((self._cls.__name__, "__iter__"))
        return iter(supplied() if supplied else ())

    def __len__(self) -> int:
        supplied = self._world.returns.get((self._cls.__name__, "__len__"))
        return int(supplied()) if supplied else 0

    def __bool__(self) -> bool:
        return True

    def __enter__(self) -> Shadow:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class BoundShadowMethod:
    def __init__(self, owner: Shadow, name: str) -> None:
        self.owner, self.name = owner, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        cls, world = self.owner._cls, self.owner._world
        sigs = signatures(getattr(cls, self.name).__doc__, self.name)
        sig = check_call(world, sigs, f"{cls.__name__}.{self.name}", args, kwargs)
        world.log.append(("call", cls.__name__, self.name, (*args, *kwargs.values())))
        supplied = world.returns.get((cls.__name__, self.name))
        if supplied is not None:
            return supplied(*args, **kwargs)
        return world.value(sig.returns)


def shadow_class(real: type, world: World) -> type:
    """A stand-in for ``real`` whose constructor checks the real ``__init__`` signature and gives a :class:`Shadow`."""

    def __init__(self: Shadow, *args: Any, **kwargs: Any) -> None:
        check_call(world, signatures(real.__init__.__doc__, "__init__"), real.__name__, args, kwargs)
        world.log.append(("new", real.__name__, "__init__", (*args, *kwargs.values())))
        Shadow.__init__(self, real, world)

    return type(real.__name__, (Shadow,), {"__init__": __init__, "__module__": "shadow"})


#: what cannot be constructed without NVIDIA's libraries (the factories return null over the stubs)
FACTORIES = ("Builder", "Runtime", "OnnxParser", "Refitter", "OnnxParserRefitter")


def install(module: ModuleType) -> World:
    """Replace the module's native factories by shadow classes (this process only); returns the shared world."""
    world = World(module)
    for name in FACTORIES:
        real = getattr(module, name, None)
        if isinstance(real, type):
            world.real[name] = real
            setattr(module, name, shadow_class(real, world))
    return world


def uninstall(world: World) -> None:
    for name, real in world.real.items():
        setattr(world.module, name, real)
