"""A model's output folder as bytes and back: how results travel from a Ray worker to the driver (no shared disk)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path


def pack(folder: Path) -> bytes:
    """``folder`` and everything under it as a gzip'd tar (members named ``FOLDER_NAME/...``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:  # ONNX weights barely compress
        tar.add(folder, arcname=folder.name)
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> None:
    """Extract an archive made by :func:`pack` into ``dest``; members that would land outside it are refused
    (tarfile's ``data`` filter: no absolute paths, no ``..``, no links out, no device files)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
            return
        members = tar.getmembers()  # Pythons before 3.10.12 / 3.11.4: the same checks by hand
        for member in members:
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
                raise ValueError(f"refusing archive member {member.name!r}")
        tar.extractall(dest, members=members)  # every member checked above
