"""``pt2trt view``: the model in Netron, served by pt2trt on 127.0.0.1 only.

Netron's own Python server serves every file in the model's directory and its page asks a geolocation service
whether to show a cookie banner, then reports usage to Google Analytics. pt2trt serves Netron's static page itself:

- bound to 127.0.0.1 (never a public interface), port chosen by the OS unless ``port`` is given;
- only Netron's own files and the model (plus its ``.onnx.data`` external-data file) are reachable;
- only requests whose Host header is ``127.0.0.1:PORT`` or ``localhost:PORT`` are answered (403 otherwise), so a web
  page cannot read the model through DNS rebinding (a name of its own resolving to 127.0.0.1); malformed paths (a
  ``%00``, control characters, bad percent-encoding) get 400, and nothing is ever written to stderr;
- the page is marked as a development build (version 0.0.0, no build date): Netron then sends no telemetry and does
  not lock itself with "Please update" once the release is 180 days old; a ``consent`` cookie set by the server
  skips the banner and the geolocation request.
"""

from __future__ import annotations

import html
import http.server
import re
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError
from pt2trt.files import existing_file

HOST = "127.0.0.1"
_MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
}


def netron_dir() -> Path:
    """The directory of Netron's web page (index.html and its scripts), from the ``netron`` package."""
    try:
        import netron
    except ImportError as exc:
        raise Pt2trtError(
            "Netron is not installed", "pip install netron (or use `pt2trt view MODEL.onnx --svg OUT.svg`)"
        ) from exc
    root = Path(netron.__file__).resolve().parent
    if not (root / "index.html").is_file():
        raise Pt2trtError(f"the netron package at {root} has no index.html", "Reinstall it: pip install -U netron")
    return root


def netron_page(root: Path, model_name: str) -> bytes:
    """Netron's index.html pointed at ``/data/MODEL``, marked as a development build (no telemetry, no expiry)."""
    text = (root / "index.html").read_text(encoding="utf-8")
    name = html.escape(model_name, quote=True)
    meta = (
        '<meta name="version" content="0.0.0">\n'
        '<meta name="type" content="Python">\n'
        f'<meta name="file" content="/data/{urllib.parse.quote(model_name)}">\n'
        f'<meta name="identifier" content="{name}">\n'
        f'<meta name="name" content="{name}">'
    )
    text = re.sub(r'<meta name="date" content="[^"]*">\s*', "", text)
    text, n = re.subn(r'<meta name="version" content="[^"]*">', lambda _: meta, text, count=1)
    if n != 1:
        raise Pt2trtError("this Netron version's page has no version tag to configure", "Install netron 7 or newer")
    return text.encode("utf-8")


@dataclass
class NetronServer:
    """A running Netron server for one model; ``stop()`` (or leaving the ``with`` block) shuts it down."""

    model: Path
    url: str
    httpd: http.server.ThreadingHTTPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> NetronServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _handler(root: Path, model: Path, page: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    files = {model.name: model}
    data = model.with_name(model.name + ".data")
    if data.is_file():
        files[data.name] = data

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "pt2trt-view"

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            port = self.server.server_address[1]  # type: ignore[index]  # an (host, port) pair: bound to 127.0.0.1
            if not _local_host(self.headers.get("Host"), int(port)):
                self.send_error(403, "Only 127.0.0.1 and localhost are served")
                return
            path = _request_path(self.path)
            if path is None:
                self.send_error(400, "Malformed path")
                return
            extra: dict[str, str] = {}
            if path in ("/", "/index.html"):
                content, mime = page, _MIME[".html"]
                extra["Set-Cookie"] = "consent=1; Path=/; SameSite=Strict"
                extra["Cache-Control"] = "no-store"
            elif path.startswith("/data/") and path[len("/data/") :] in files:
                content, mime = files[path[len("/data/") :]].read_bytes(), "application/octet-stream"
            else:
                try:
                    target = (root / path.lstrip("/")).resolve()
                    found = target.parent == root and target.suffix in _MIME and target.is_file()
                except (OSError, ValueError):  # a name too long for the file system...
                    found = False
                if not found:
                    self.send_error(404)
                    return
                suffix = target.suffix
                content, mime = target.read_bytes(), _MIME[suffix]
            self.send_response(200)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(content)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI prints the URL once
            pass

    return Handler


def _local_host(host: str | None, port: int) -> bool:
    """True for the Host headers of this server's own address: ``127.0.0.1:PORT`` or ``localhost:PORT``."""
    return host is not None and host.strip().lower() in (f"{HOST}:{port}", f"localhost:{port}")


def _request_path(raw: str) -> str | None:
    """The request's decoded path, or None when it is malformed (bad percent-encoding, NUL or control characters)."""
    try:
        path = urllib.parse.unquote(urllib.parse.urlparse(raw).path, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    if not path.startswith("/") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return None
    return path


class _QuietServer(http.server.ThreadingHTTPServer):
    """A server that never prints a traceback on the CLI's stderr (a client hanging up, a malformed request)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def serve(model: str | Path, *, port: int = 0) -> NetronServer:
    """Serve ``model`` in Netron on http://127.0.0.1:PORT (``port=0``: any free port) in a background thread."""
    path = existing_file(model, "model file").resolve()
    root = netron_dir()
    page = netron_page(root, path.name)
    try:
        httpd = _QuietServer((HOST, port), _handler(root, path, page))
    except OSError as exc:
        raise Pt2trtError(
            f"cannot listen on {HOST}:{port}: {exc.strerror or exc}", "Choose another --port (or 0 for any free one)"
        ) from exc
    thread = threading.Thread(target=httpd.serve_forever, name="pt2trt-netron", daemon=True)
    thread.start()
    return NetronServer(path, f"http://{HOST}:{httpd.server_address[1]}/", httpd, thread)
