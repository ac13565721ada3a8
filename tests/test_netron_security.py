"""pt2trt view's Netron server against hostile requests, over real HTTP to a running ``pt2trt view``: foreign Host
headers (DNS rebinding) get 403, malformed paths 400, and the command's stderr stays empty."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper


@pytest.fixture
def view(tmp_path: Path):
    """``pt2trt view --no-browser`` in a child process: yields (port, process)."""
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])  # fmt: skip
    model = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), model)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pt2trt.cli.main", "view", str(model), "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    line = proc.stdout.readline() if proc.stdout else ""
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        pytest.fail(line + (proc.stderr.read() if proc.stderr else ""))
    try:
        yield int(match.group(1)), proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _request(port: int, path: str, host: str | None) -> int:
    """Send a raw GET (no client-side path checks) and return the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"GET {path} HTTP/1.1\r\n" + (f"Host: {host}\r\n" if host is not None else "") + "Connection: close\r\n\r\n"
        )
        sock.sendall(head.encode("latin-1"))
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status


def test_only_loopback_host_headers_and_well_formed_paths_are_served(view) -> None:
    port, proc = view
    local = f"127.0.0.1:{port}"
    assert _request(port, "/", local) == 200
    assert _request(port, "/data/tiny.onnx", f"LOCALHOST:{port}") == 200
    for host in (f"rebind.attacker.example:{port}", "127.0.0.1", f"localhost:{port + 1}", "", None):
        assert _request(port, "/data/tiny.onnx", host) == 403, host
    for path in ("/%00", "/data/%00tiny.onnx", "/index%00.js", "/%ff%fe", "/a%0ab", "/" + "a" * 5000 + ".js"):
        assert _request(port, path, local) in (400, 404), path
    assert _request(port, "/%00", local) == 400 and _request(port, "/%ff", local) == 400
    assert _request(port, "/", local) == 200  # still serving
    proc.terminate()
    _, stderr = proc.communicate(timeout=10)
    assert stderr == "", stderr
