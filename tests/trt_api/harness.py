"""Parent side: one subprocess per TensorRT release, with the real module importable over the stub libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.trt_api.releases import Release, build_stubs, extension, unpack

ROOT = Path(__file__).resolve().parents[2]


#: what the ``tensorrt`` / ``tensorrt-cu12`` / ``tensorrt-cu13`` packages install as ``tensorrt/__init__.py`` over the
#: bindings wheel (read from the registry's ``tensorrt-cu12`` 10.16.1.11 source distribution)
TENSORRT_SHIM = "from tensorrt_bindings import *\nfrom tensorrt_bindings import __version__\n"
#: the bindings import ``tensorrt_libs`` (NVIDIA's libraries) when it exists; on a machine with TensorRT installed that
#: would load the real libraries of another release under the stubs' names, so the probe hides it
NO_LIBS = 'raise ImportError("tensorrt_libs is hidden from the real-API conformance tests: stubs stand in")\n'


@dataclass(frozen=True)
class RealModule:
    """A release's bindings, unpacked from the cached wheel, the stub libraries compiled for it, and ``tensorrt``."""

    release: Release
    module_dir: Path
    stubs: Path
    shim: Path  # holds tensorrt/__init__.py, as the metapackages install it

    @property
    def extension(self) -> Path:
        return extension(self.module_dir)

    def env(self) -> dict[str, str]:
        path = [str(self.shim), str(self.module_dir), str(ROOT / "src"), str(ROOT)]
        return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "LD_LIBRARY_PATH": str(self.stubs),
                "PYTHONWARNINGS": "ignore", "POLYGRAPHY_AUTOINSTALL_DEPS": "0"}  # fmt: skip


def prepare(release: Release, workdir: Path) -> RealModule:
    module_dir = unpack(release)
    stubs = build_stubs(extension(module_dir), workdir / "stubs")
    shim = workdir / "shim"
    (shim / "tensorrt").mkdir(parents=True, exist_ok=True)
    (shim / "tensorrt" / "__init__.py").write_text(TENSORRT_SHIM)
    (shim / "tensorrt_libs.py").write_text(NO_LIBS)
    return RealModule(release, module_dir, stubs, shim)


def run_probe(
    real: RealModule, uses: dict[str, Any], workdir: Path, *, dynamic: bool = True, ignore_gates: bool = False
) -> dict[str, Any]:
    """The probe's report for this release (:mod:`tests.trt_api.probe`); raises with its stderr when it crashes.

    ``dynamic``: also instantiate our trampolines and run the build loaders; ``ignore_gates``: resolve every use as if
    its code path ran here.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    request = workdir / "request.json"
    out = workdir / "report.json"
    request.write_text(json.dumps({"uses": uses, "extension": str(real.extension), "scratch": str(workdir / "scratch"),
                                   "dynamic": dynamic, "ignore_gates": ignore_gates}))  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "tests.trt_api.probe", str(request), str(out)], env=real.env(),
                          cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"the probe for TensorRT {real.release.version} failed:\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text())
