"""The TensorRT releases the conformance tests import, fetched from the package registry and cached per user.

Each release is one bindings wheel (``tensorrt_bindings/tensorrt.so`` plus its ``__init__.py``): a real binary wheel,
unlike the ``*-libs`` packages, which fetch NVIDIA's libraries from elsewhere. The extension links libnvinfer,
libnvonnxparser, libnvinfer_plugin (and libnvparsers on 8.6) but needs only a handful of C entry points from them:
:func:`build_stubs` compiles libraries of those names that define each missing symbol and return null, so the module
imports on any Linux machine with a C compiler. Nothing then runs on a device (``trt.Builder(logger)`` raises
``TypeError``: the factory returned null), but every class, enum, signature and trampoline base is the real one.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Release:
    """One TensorRT release as the registry ships its Python bindings."""

    version: str
    distribution: str  # the registry's package name

    @property
    def test_id(self) -> str:
        return f"trt-{self.version}"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


#: The oldest and newest of each supported family (pt2trt.backends.tensorrt.versions.TARGETS): 8.6, the first 10.x, the
#: newest 10.x and the newest 11.x in the registry on 2026-12-04 (``pip index versions tensorrt-cu12-bindings``). The
#: 8.6 bindings are published as ``tensorrt-bindings`` only; 11.x as ``tensorrt-cu12-bindings`` and ``-cu13-bindings``
#: (the same Python API; cu13 is taken, the CUDA 13 build NVIDIA leads with). ``test_newest_releases_are_pinned`` fails,
#: naming the new version, when the registry has a newer 10.x or 11.x.
RELEASES = (
    Release("8.6.1", "tensorrt-bindings"),
    Release("10.0.1", "tensorrt-cu12-bindings"),
    Release("10.16.1.11", "tensorrt-cu12-bindings"),
    Release("11.4.0.106", "tensorrt-cu13-bindings"),
)

#: the registry packages whose versions say which 10.x / 11.x is the newest
NEWEST_SOURCES = {10: "tensorrt-cu12-bindings", 11: "tensorrt-cu13-bindings"}
#: where every release pt2trt supports is published (8.6 under one name, 10.0 to 11.x under the cu12 one)
ALL_RELEASES_SOURCES = ("tensorrt-bindings", "tensorrt-cu12-bindings")


class SetupError(RuntimeError):
    """The machine lacks what the conformance tests need (the registry, a C compiler, binutils)."""


def cache_dir() -> Path:
    """Per-user cache of the downloaded wheels (never inside the repository)."""
    if os.environ.get("PT2TRT_TRT_API_CACHE"):
        return Path(os.environ["PT2TRT_TRT_API_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pt2trt" / "trt-api"


def registry_releases(distribution: str) -> list[Release]:
    """Every version of a bindings package the registry lists (``pip index versions``), oldest first."""
    command = [sys.executable, "-m", "pip", "index", "versions", distribution]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    match = re.search(r"Available versions:\s*(.+)", proc.stdout)
    if proc.returncode != 0 or match is None:
        raise SetupError(f"pip index versions {distribution} failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
    versions = [v.strip() for v in match.group(1).split(",") if re.fullmatch(r"[\d.]+", v.strip())]
    return sorted((Release(v, distribution) for v in versions), key=lambda r: _key(r.version))


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def boundary(since: str, releases: list[Release]) -> tuple[Release | None, Release | None]:
    """The last release before ``since`` and the first from it on (None where the registry has none)."""
    before = [r for r in releases if _key(r.version) < _key(since)]
    after = [r for r in releases if _key(r.version) >= _key(since)]
    return (before[-1] if before else None), (after[0] if after else None)


def _wheel_name(release: Release) -> str:
    return f"{release.distribution.replace('-', '_')}-{release.version}-"


def fetch_wheel(release: Release, cache: Path | None = None) -> Path:
    """The release's wheel, downloaded from the package registry with pip (once; later runs use the cache)."""
    wheels = (cache or cache_dir()) / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob(_wheel_name(release) + "*.whl"))
    if found:
        return found[0]
    with tempfile.TemporaryDirectory(dir=wheels) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
                   f"{release.distribution}=={release.version}", "-d", tmp]  # fmt: skip
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
        got = sorted(Path(tmp).glob(_wheel_name(release) + "*.whl"))
        if proc.returncode != 0 or not got:
            raise SetupError(
                f"pip could not download {release.distribution}=={release.version} from the package registry: "
                f"{(proc.stderr or proc.stdout).strip()[-500:]}"
            )
        target = wheels / got[0].name
        os.replace(got[0], target)
    return target


def unpack(release: Release, cache: Path | None = None) -> Path:
    """A directory holding the release's ``tensorrt_bindings`` package, ready for ``sys.path``."""
    root = (cache or cache_dir()) / "modules"
    target = root / f"{release.distribution}-{release.version}"
    if (target / "tensorrt_bindings" / "tensorrt.so").is_file():
        return target
    wheel = fetch_wheel(release, cache)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".unpack-"))
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(staging)
        try:
            os.replace(staging, target)
        except OSError:  # another process unpacked it first
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def extension(module_dir: Path) -> Path:
    return module_dir / "tensorrt_bindings" / "tensorrt.so"


# -- stub native libraries --------------------------------------------------------------------------------------------
_SYSTEM_LIBRARIES = ("libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libgcc_s.so.1",
                     "libstdc++.so.6")  # fmt: skip


def _binutils(*command: str) -> str:
    tool = shutil.which(command[0])
    if tool is None:
        raise SetupError(f"{command[0]} (binutils) is not installed: it reads the extension's needed symbols")
    return subprocess.run([tool, *command[1:]], capture_output=True, text=True, check=True).stdout


def needed_libraries(so: Path) -> list[str]:
    """The extension's DT_NEEDED entries that this machine cannot load (NVIDIA's libraries)."""
    names = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", _binutils("readelf", "-d", str(so)))
    missing = []
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def missing_symbols(so: Path) -> list[str]:
    """Undefined, unversioned symbols of the extension that nothing loaded here defines."""
    process = ctypes.CDLL(None)
    loaded = [process]
    for name in _SYSTEM_LIBRARIES:
        try:
            loaded.append(ctypes.CDLL(name))
        except OSError:
            continue
    symbols = []
    for line in _binutils("nm", "-D", "--undefined-only", str(so)).splitlines():
        parts = line.split()
        if len(parts) != 2 or parts[0] != "U" or "@" in parts[1]:
            continue  # weak symbols may stay undefined; versioned ones come from glibc/libstdc++
        if not any(hasattr(lib, parts[1]) for lib in loaded):
            symbols.append(parts[1])
    return symbols


def _library_for(symbol: str, libraries: list[str]) -> str:
    """Which stub library defines a symbol (the dynamic linker does not mind; this keeps each stub plausible)."""
    wanted = ("libnvonnxparser" if "OnnxParser" in symbol
              else "libnvinfer_plugin" if "NvInferPlugins" in symbol
              else "libnvparsers" if symbol.startswith(("_ZN11nvuffparser", "_ZN14nvcaffeparser"))
              else "libnvinfer.")  # fmt: skip
    return next((lib for lib in libraries if lib.startswith(wanted)), libraries[0])


def build_stubs(so: Path, out: Path) -> Path:
    """Compile one stub library per missing DT_NEEDED entry of ``so`` into ``out``; returns ``out``."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SetupError("no C compiler (cc or gcc): the stub libraries are compiled at test time")
    libraries = needed_libraries(so)
    if not libraries:
        raise SetupError(f"{so} needs no library this machine lacks: is a real TensorRT installed here?")
    out.mkdir(parents=True, exist_ok=True)
    by_library: dict[str, list[str]] = {lib: [] for lib in libraries}
    for symbol in missing_symbols(so):
        by_library[_library_for(symbol, libraries)].append(symbol)
    for library, symbols in by_library.items():
        source = out / f"{library}.c"
        lines = ["/* generated by tests/trt_api/releases.py: returns null for every entry point */"]
        lines += [f"void *{name}(void) {{ return 0; }}" for name in symbols]
        source.write_text("\n".join(lines) + "\n")
        command = [compiler, "-shared", "-fPIC", "-o", str(out / library), f"-Wl,-soname,{library}", str(source)]
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SetupError(f"compiling the {library} stub failed: {proc.stderr.strip()[-300:]}")
    return out
