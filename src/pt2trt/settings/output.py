"""A file a command writes: where, and whether an existing one may be replaced."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputFile:
    """``path`` (``None``: nothing to write) and ``force`` (replace an existing file; without it one is refused)."""

    path: Path | None = None
    force: bool = False
