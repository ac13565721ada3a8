"""Which TensorRT each Triton Inference Server release ships: an engine only loads on the version it was built with.

The table lives in ``pt2trt/data/triton_tensorrt.json`` together with its source (NVIDIA's release notes); a
release missing from it is an error that says how to proceed (``--tensorrt-version`` states the server's TensorRT).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pt2trt.errors import UsageError

DEFAULT_RELEASE = "24.12"


@cache
def _table() -> dict[str, Any]:
    return json.loads(resources.files("pt2trt").joinpath("data/triton_tensorrt.json").read_text())


def table_source() -> str:
    """Where the release -> TensorRT table comes from."""
    return str(_table()["source"])


def releases() -> dict[str, dict[str, str]]:
    """``{"24.12": {"triton": "2.53.0", "tensorrt": "10.7.0.23"}, ...}``."""
    return dict(_table()["releases"])


def tensorrt_of(release: str) -> str:
    """The TensorRT version in Triton container release ``release`` (``YY.MM``)."""
    known = releases()
    if release not in known:
        span = f"{next(iter(known))} to {list(known)[-1]}"
        raise UsageError(
            f"Triton release {release} is not in pt2trt's table ({span})",
            "Pass --tensorrt-version with the TensorRT version your server ships",
        )
    return known[release]["tensorrt"]
