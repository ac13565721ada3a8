"""A TensorRT build: its target version, optimization profiles, precision and builder options."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pt2trt.errors import UsageError
from pt2trt.shapes import parse_input

Shape = tuple[int, ...]


def shape_text(shape: tuple[int, ...]) -> str:
    """``(1, 3, 224, 224)`` -> ``1x3x224x224`` (``scalar`` for rank 0)."""
    return "x".join(map(str, shape)) or "scalar"


@dataclass(frozen=True)
class Profile:
    """One optimization profile: input name -> (min, opt, max) shapes."""

    shapes: dict[str, tuple[Shape, Shape, Shape]]

    def to_dict(self) -> dict[str, dict[str, list[int]]]:
        return {n: {"min": list(a), "opt": list(b), "max": list(c)} for n, (a, b, c) in self.shapes.items()}

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, list[int]]]) -> Profile:
        return cls({n: (tuple(v["min"]), tuple(v["opt"]), tuple(v["max"])) for n, v in data.items()})

    def text(self) -> str:
        parts = []
        for name, (low, opt, high) in self.shapes.items():
            if low == opt == high:
                parts.append(f"{name} {shape_text(opt)}")
            else:
                parts.append(f"{name} min {shape_text(low)} opt {shape_text(opt)} max {shape_text(high)}")
        return "; ".join(parts)


def parse_profile_flags(
    shapes: Sequence[str] = (),
    min_shapes: Sequence[str] = (),
    opt_shapes: Sequence[str] = (),
    max_shapes: Sequence[str] = (),
) -> tuple[Profile, ...]:
    """trtexec's shape flags (``NAME:DIMS[,NAME:DIMS...]``) as profiles: each ``--shapes`` value is a profile with one
    fixed shape; the k-th ``--min/--opt/--max-shapes`` values form profile k (``opt`` defaults to ``max``). The names
    are checked against a model later (:func:`pt2trt.backends.tensorrt.profiles.resolve_profiles`)."""
    if shapes and (min_shapes or opt_shapes or max_shapes):
        raise UsageError(
            "--shapes cannot be combined with --min-shapes/--opt-shapes/--max-shapes",
            "Use --shapes for fixed-shape profiles, or the min/opt/max flags for ranges",
        )
    if len(min_shapes) != len(max_shapes) or len(opt_shapes) > len(max_shapes):
        raise UsageError(
            f"{len(min_shapes)} --min-shapes, {len(opt_shapes)} --opt-shapes and {len(max_shapes)} --max-shapes given",
            "Give one --min-shapes and one --max-shapes per profile (--opt-shapes defaults to the max shapes)",
        )
    profiles = []
    for text in shapes:
        fixed = _shape_list("--shapes", text)
        profiles.append(Profile({n: (s, s, s) for n, s in fixed.items()}))
    for k, (low_text, high_text) in enumerate(zip(min_shapes, max_shapes)):
        low = _shape_list("--min-shapes", low_text)
        high = _shape_list("--max-shapes", high_text)
        opt = _shape_list("--opt-shapes", opt_shapes[k]) if k < len(opt_shapes) else dict(high)
        if not set(low) == set(opt) == set(high):
            raise UsageError(
                f"profile {k} names different inputs in --min-shapes ({', '.join(low)}), --opt-shapes "
                f"({', '.join(opt)}) and --max-shapes ({', '.join(high)})",
                "Give every input of a profile in all three flags",
            )
        profiles.append(Profile({n: (low[n], opt[n], high[n]) for n in high}))
    return tuple(profiles)


def _shape_list(flag: str, text: str) -> dict[str, Shape]:
    """``input:1x3x224x224,mask:1x1x224x224`` -> {name: shape}."""
    result: dict[str, Shape] = {}
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise UsageError(f"malformed {flag} '{text}': an empty entry", "Separate NAME:DIMS entries with single commas")
    for item in items:
        if ":" not in item:
            raise UsageError(f"malformed {flag} entry '{item}'", f"Write NAME:DIMS, e.g. {flag} input:1x3x224x224")
        try:
            spec = parse_input(item)
        except UsageError as exc:
            raise UsageError(f"malformed {flag} entry '{item}': {exc.message}", exc.hint) from None
        name = str(spec.name)
        if name in result:
            raise UsageError(f"{flag} gives input '{name}' twice in one profile", "Give each input once per profile")
        result[name] = spec.shape
    return result


@dataclass(frozen=True)
class BuildSettings:
    """Everything ``pt2trt build`` is asked besides its files, in trtexec's terms.

    ``trt_version`` (``8.6``, ``10``, ``11``; None: the installed TensorRT) is the target. ``profiles`` give each
    dynamic input its min/opt/max shapes (one :class:`Profile` per optimization profile; none: from the model's
    recorded shapes). ``fp16``/``int8`` with ``calibration_data``/``calibration_cache`` and ``keep_io_types`` set
    precision; ``workspace_mib``, ``timing_cache``, ``builder_optimization_level``, ``version_compatible`` and
    ``hardware_compatibility_level`` are the builder's options.
    """

    trt_version: str | None = None
    profiles: tuple[Profile, ...] = ()
    fp16: bool = False
    int8: bool = False
    calibration_data: Path | None = None
    calibration_cache: Path | None = None
    keep_io_types: bool = True
    workspace_mib: int | None = None
    timing_cache: Path | None = None
    builder_optimization_level: int | None = None
    version_compatible: bool = False
    hardware_compatibility_level: str = "none"
