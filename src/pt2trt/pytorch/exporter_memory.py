"""What ``--exporter auto`` learnt: architectures the dynamo exporter failed on, so the next export skips the attempt.

A failed dynamo attempt on a torchvision detector costs 28-50 s before the legacy fallback; paying it again for the
same architecture with the same torch teaches nothing. The memory is a small JSON file in the user's cache
(:func:`pt2trt.environment.cache_dir`: ``$PT2TRT_CACHE_DIR``, else ``$XDG_CACHE_HOME/pt2trt``, else
``~/.cache/pt2trt``), keyed by the model's class and the torch version; ``PT2TRT_CACHE_DIR=off`` disables it. It
is only a shortcut: an export that skips dynamo records why, and ``--exporter dynamo`` always tries.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pt2trt.environment import cache_dir

FILE_NAME = "exporters.json"


def architecture_key(module: Any) -> str:
    """``package.module.Class@torch-version``: what a dynamo failure is a fact about."""
    import torch

    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}@torch-{torch.__version__}"


def known_failure(module: Any) -> str | None:
    """Why dynamo failed on this architecture before (the recorded first line), or None."""
    entry = _read().get(architecture_key(module))
    return entry.get("dynamo_failure") if isinstance(entry, dict) else None


def remember_failure(module: Any, reason: str) -> None:
    """Record that dynamo failed on this architecture (best effort: an unwritable cache is ignored)."""
    _update(architecture_key(module), {"dynamo_failure": reason, "exporter": "legacy"})


def forget_failure(module: Any) -> None:
    """Dynamo worked on this architecture (e.g. a newer torch fixed it): drop what was recorded."""
    data = _read()
    if architecture_key(module) in data:
        _update(architecture_key(module), None)


def _read() -> dict[str, Any]:
    folder = cache_dir()
    if folder is None:
        return {}
    try:
        data = json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _update(key: str, value: dict[str, str] | None) -> None:
    folder = cache_dir()
    if folder is None:
        return
    data = _read()
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, folder / FILE_NAME)  # atomic: a reader sees the old or the new file, never half of one
        tmp = None
    except OSError:
        pass
    finally:  # an error or an interrupt (Ctrl-C, SIGTERM) between the two leaves no temporary file
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
