"""What the source reading records: uses of TensorRT (chains of steps from the module), gates, subclasses, calls of
Polygraphy's TensorRT loaders. Plain data, serialised to JSON for the probe (:mod:`tests.trt_api.probe`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# -- records --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    kind: str  # "attr", "call" or "set" (an assignment to an attribute)
    name: str = ""
    nargs: int = 0
    keywords: tuple[str, ...] = ()
    star: bool = False  # *args or **kwargs of unknown content: arity not checked
    optional: bool = False  # getattr(x, "name", default): the code handles its absence
    args: tuple[tuple[str, tuple[Step, ...]], ...] = ()  # TensorRT values passed: (position or keyword, chain)

    def text(self) -> str:
        if self.kind == "attr" or self.kind == "set":
            return f".{self.name}" + (" = ..." if self.kind == "set" else "")
        inside = ", ".join(["_"] * self.nargs + [f"{k}=_" for k in self.keywords] + (["*..."] if self.star else []))
        return f"({inside})"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "nargs": self.nargs, "keywords": list(self.keywords),
                "star": self.star, "optional": self.optional,
                "args": [[key, [s.to_json() for s in chain]] for key, chain in self.args]}  # fmt: skip


Chain = tuple[Step, ...]


def chain_text(chain: Chain) -> str:
    return "trt" + "".join(step.text() for step in chain)


@dataclass(frozen=True)
class Gate:
    kind: str  # "target" (a Target field), "version" (at least), "has" (an optional member exists)
    subject: str
    positive: bool = True

    def negated(self) -> Gate:
        return Gate(self.kind, self.subject, not self.positive)

    def text(self) -> str:
        body = {"target": f"target.{self.subject}", "version": f"TensorRT >= {self.subject}"}.get(self.kind, "")
        return ("" if self.positive else "not ") + (body or f"has {self.subject}")


@dataclass
class Use:
    chain: Chain
    gates: tuple[Gate, ...]
    guarded: bool  # optional members on the chain were checked for None before this use
    where: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"chain": [s.to_json() for s in self.chain], "text": chain_text(self.chain),
                "gates": [[g.kind, g.subject, g.positive] for g in self.gates], "guarded": self.guarded,
                "where": sorted(self.where)}  # fmt: skip


@dataclass
class Subclass:
    """A class of ours deriving from a TensorRT class: what it overrides (positional parameters without self)."""

    name: str
    base: Chain
    methods: dict[str, tuple[int, int, bool]]  # name -> (required, total, *args), with our bases' methods
    own: tuple[str, ...]  # the methods written in the class itself
    gates: tuple[Gate, ...]
    guarded: bool
    where: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "base": [s.to_json() for s in self.base], "base_text": chain_text(self.base),
                "methods": {k: list(v) for k, v in self.methods.items()}, "own": list(self.own),
                "gates": [[g.kind, g.subject, g.positive] for g in self.gates], "guarded": self.guarded,
                "where": self.where}  # fmt: skip


@dataclass
class PolyCall:
    """A call of a ``polygraphy.backend.trt`` export (``CreateConfig``) or a method of its objects (``Profile.add``)."""

    name: str
    nargs: int
    keywords: tuple[str, ...]
    star: bool
    where: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "nargs": self.nargs, "keywords": list(self.keywords), "star": self.star,
                "where": sorted(self.where)}  # fmt: skip


@dataclass
class SourceUses:
    uses: dict[tuple[Chain, tuple[Gate, ...], bool], Use] = field(default_factory=dict)
    subclasses: dict[str, Subclass] = field(default_factory=dict)
    poly_calls: dict[tuple[str, int, tuple[str, ...], bool], PolyCall] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)  # files where TensorRT or Polygraphy's TensorRT loaders are used

    def to_json(self) -> dict[str, Any]:
        return {
            "uses": [u.to_json() for u in self.uses.values()],
            "subclasses": [s.to_json() for s in self.subclasses.values()],
            "poly_calls": [p.to_json() for p in self.poly_calls.values()],
            "modules": sorted(self.modules),
        }
