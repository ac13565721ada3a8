"""Which ONNX Runtime releases can load a model, from ONNX Runtime's published compatibility table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class OrtRelease:
    version: str
    onnx: str
    opset: int
    ml_opset: int
    ir_version: int


@cache
def ort_table() -> tuple[tuple[OrtRelease, ...], str]:
    """The table (newest first) and where it came from."""
    data = json.loads(resources.files("pt2trt").joinpath("data/onnxruntime_compatibility.json").read_text())
    rows = tuple(OrtRelease(*row) for row in data["rows"])
    return rows, data["source"]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:2] if p.isdigit())


@dataclass
class OrtCompatibility:
    """The oldest ONNX Runtime release that implements the model's IR version and opsets."""

    ir_version: int
    opset: int | None
    ml_opset: int | None
    minimum: str | None
    newest_in_table: str
    installed: str | None
    installed_ok: bool | None
    source: str

    @property
    def summary(self) -> str:
        if self.minimum:
            text = f"ONNX Runtime >= {self.minimum}"
        else:
            text = f"ONNX Runtime newer than {self.newest_in_table} (beyond the published table)"
        if self.installed:
            verdict = {True: "can load it", False: "is too old", None: "is newer than the table"}[self.installed_ok]
            text += f"; installed {self.installed} {verdict}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "ir_version": self.ir_version,
            "opset": self.opset,
            "ml_opset": self.ml_opset,
            "minimum_onnxruntime": self.minimum,
            "newest_in_table": self.newest_in_table,
            "installed_onnxruntime": self.installed,
            "installed_can_load": self.installed_ok,
            "summary": self.summary,
            "source": self.source,
        }


def ort_compatibility(
    ir_version: int, opset: int | None, ml_opset: int | None = None, installed: str | None = None
) -> OrtCompatibility:
    """Match a model's versions against the table; ``installed`` is an ONNX Runtime version to judge."""
    rows, source = ort_table()

    def fits(r: OrtRelease) -> bool:
        return (
            r.ir_version >= ir_version
            and (opset is None or r.opset >= opset)
            and (ml_opset is None or r.ml_opset >= ml_opset)
        )

    ok = [r for r in rows if fits(r)]
    minimum = min(ok, key=lambda r: _key(r.version)).version if ok else None
    newest = max(rows, key=lambda r: _key(r.version)).version
    installed_ok: bool | None = None
    if installed:
        if _key(installed) > _key(newest):
            installed_ok = True if minimum else None
        else:
            installed_ok = minimum is not None and _key(installed) >= _key(minimum)
    return OrtCompatibility(ir_version, opset, ml_opset, minimum, newest, installed, installed_ok, source)
