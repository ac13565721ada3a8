"""A local ``tritonserver`` for tests, benchmarks and trying a repository out on a CPU machine.

The ``nvidia-pytriton`` wheel ships a real ``tritonserver`` binary with the Python backend only (no ONNX Runtime,
TensorRT or OpenVINO backends). :class:`LocalTritonServer` starts it on 127.0.0.1 with free ports, a private backend
folder (the Python stub of this interpreter's version copied in), this interpreter's ``bin`` first on ``PATH`` (the
Python models import packages from there), waits until the server is ready (bounded) and always stops it::

    with LocalTritonServer("repo") as server:
        print(server.http_url, server.grpc_url)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from pt2trt.errors import Pt2trtError

HOST = "127.0.0.1"


def pytriton_root() -> Path:
    """``pytriton/tritonserver`` of the installed ``nvidia-pytriton`` wheel."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("pytriton")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise Pt2trtError(
            "no tritonserver here: the local server comes from the nvidia-pytriton wheel",
            "Install it with: pip install --no-deps nvidia-pytriton (or point at a real Triton server with --url)",
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "tritonserver"
    if not (root / "bin" / "tritonserver").is_file():
        raise Pt2trtError(f"{root} has no bin/tritonserver", "Reinstall nvidia-pytriton")
    return root


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class LocalTritonServer:
    """``tritonserver`` on 127.0.0.1 serving ``repo``; a context manager that always stops it."""

    def __init__(self, repo: str | Path, *, timeout: float = 120.0, log: str | Path | None = None) -> None:
        self.repo = Path(repo).resolve()
        self.timeout = timeout
        self.log_path = Path(log) if log else None
        self.process: subprocess.Popen[bytes] | None = None
        self.http_port = self.grpc_port = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"grpc://{HOST}:{self.grpc_port}"

    def _backends(self, root: Path, where: Path) -> Path:
        """A backend folder with the Python backend and the stub for this Python version."""
        python = where / "backends" / "python"
        python.mkdir(parents=True)
        for item in (root / "backends" / "python").iterdir():
            if item.is_file():
                (python / item.name).symlink_to(item)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        stub = root / "python_backend_stubs" / version / "triton_python_backend_stub"
        if not stub.is_file():
            raise Pt2trtError(
                f"nvidia-pytriton has no Python backend stub for Python {version}",
                "Use a Python that nvidia-pytriton ships a stub for (3.8-3.12), or a real Triton server",
            )
        (python / stub.name).symlink_to(stub)  # a link keeps the stub's RPATH ($ORIGIN/../nvidia_pytriton.libs)
        return where / "backends"

    def start(self) -> LocalTritonServer:
        root = pytriton_root()
        self._tmp = tempfile.TemporaryDirectory(prefix="pt2trt-triton-")
        backends = self._backends(root, Path(self._tmp.name))
        self.http_port, self.grpc_port = free_port(), free_port()
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        libs = root.parent.parent / "nvidia_pytriton.libs"
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(libs), env.get("LD_LIBRARY_PATH")) if p)
        command = [
            str(root / "bin" / "tritonserver"),
            f"--model-repository={self.repo}",
            f"--backend-directory={backends}",
            f"--http-address={HOST}",
            f"--http-port={self.http_port}",
            f"--grpc-address={HOST}",
            f"--grpc-port={self.grpc_port}",
            "--allow-metrics=false",
            "--allow-sagemaker=false",
            "--allow-vertex-ai=false",
            "--exit-timeout-secs=5",
        ]
        log = open(self.log_path, "wb") if self.log_path else open(Path(self._tmp.name) / "server.log", "wb")  # noqa: SIM115
        self._log_file = log
        # Triton's Python stub ignores PYTHONPATH but keeps '' (the working directory) on sys.path: starting in the
        # folder this pt2trt was imported from makes the Python models import the same pt2trt as this process.
        cwd = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def log_text(self) -> str:
        path = self.log_path or (Path(self._tmp.name) / "server.log" if self._tmp else None)
        return path.read_text(errors="replace") if path and path.is_file() else ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        url = f"{self.http_url}/v2/health/ready"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = " | ".join(self.log_text().strip().splitlines()[-3:])
                raise Pt2trtError(
                    f"tritonserver exited with code {self.process.returncode}: {tail}",
                    "Read the log above; check the repository with `pt2trt triton --check`",
                )
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        tail = " | ".join(self.log_text().strip().splitlines()[-3:])
        raise Pt2trtError(
            f"tritonserver was not ready after {self.timeout:.0f} s: {tail}",
            "Read the log above; a large model may need a longer timeout",
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its private files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LocalTritonServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
