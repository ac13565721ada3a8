"""pt2trt view: Netron served on loopback (HTTP and a real headless Chromium), and the static SVG picture."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest

import pt2trt
from pt2trt.settings.view import SvgSettings
from pt2trt.view.graph_summary import summarize_graph
from tests.conftest import CliResult, assert_one_line_error
from tests.models import scoped_blocks_model, tiny_conv_relu

Cli = Callable[..., CliResult]
SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_conv_relu(), str(path))
    (tmp_path / "secret.txt").write_text("not for the browser")
    return path


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), b""


# -- the Netron server -----------------------------------------------------------------------------------------------


def test_serves_netron_and_only_the_model(tiny: Path) -> None:
    with pt2trt.serve_netron(tiny) as server:
        assert server.httpd.server_address[0] == "127.0.0.1"
        status, headers, body = get(server.url)
        page = body.decode()
        assert status == 200 and "<title>Netron</title>" in page
        assert '<meta name="file" content="/data/tiny.onnx">' in page
        assert '<meta name="version" content="0.0.0">' in page and 'name="date"' not in page
        assert "consent=" in headers["Set-Cookie"]
        assert get(server.url + "data/tiny.onnx")[2] == tiny.read_bytes()
        assert get(server.url + "index.js")[0] == 200
        for path in ("data/secret.txt", "data/../secret.txt", "../secret.txt", "server.py", "data/"):
            assert get(server.url + path)[0] == 404, path
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=2)  # stopped


def test_port_in_use_is_a_user_error(tiny: Path) -> None:
    with pt2trt.serve_netron(tiny) as server, pytest.raises(pt2trt.Pt2trtError, match=r"cannot listen on 127.0.0.1"):
        pt2trt.serve_netron(tiny, port=server.port)


@pytest.fixture
def cli_server(tiny: Path):
    """``pt2trt view --no-browser`` in a child process; yields its URL, then stops that process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pt2trt.cli.main", "view", str(tiny), "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"at (http://127\.0\.0\.1:\d+/) \(127\.0\.0\.1 only", line)
        assert match, line + (proc.stderr.read() if proc.stderr else "")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cli_view_serves_over_http(cli_server: str, tiny: Path) -> None:
    status, _, body = get(cli_server)
    assert status == 200 and b"/data/tiny.onnx" in body
    assert get(cli_server + "data/tiny.onnx")[2] == tiny.read_bytes()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_netron_shows_the_graph_in_headless_chromium(cli_server: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pt2trt-chromium-") as profile:
        proc = subprocess.run(
            [
                str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--window-size=1280,900", "--dump-dom",
                cli_server,
            ],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Netron drew the graph: one node box per ONNX node, with their names, and the model's input
    assert dom.count('class="node graph-node"') == 2, dom[:2000]
    assert "<title>conv</title>" in dom and "<title>relu</title>" in dom
    assert 'class="node graph-input"' in dom and "float32[1,3,8,8]" in dom
    assert "Please update" not in dom


# -- the SVG picture -------------------------------------------------------------------------------------------------


def _boxes(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return [g for g in root.iter(f"{SVG}g") if "box" in g.get("class", "")]


def test_svg_of_a_tiny_model(tiny: Path, tmp_path: Path) -> None:
    result = pt2trt.write_svg(tiny, tmp_path / "tiny.svg")
    boxes = _boxes(tmp_path / "tiny.svg")
    kinds = [b.get("data-kind") for b in boxes]
    assert kinds == ["input", "node", "node", "output"] and result.boxes == 4 and result.nodes == 2
    texts = [t.text for t in ET.parse(tmp_path / "tiny.svg").getroot().iter(f"{SVG}text")]
    assert {"Conv", "Relu", "input", "float 1x3x8x8", "1x4x8x8"} <= set(texts)


@pytest.mark.parametrize("dynamo_style", [False, True], ids=["legacy-names", "dynamo-scopes"])
def test_svg_groups_modules_to_a_readable_size(tmp_path: Path, dynamo_style: bool) -> None:
    src = tmp_path / "blocks.onnx"
    onnx.save(scoped_blocks_model(12, dynamo_style=dynamo_style), str(src))
    result = pt2trt.write_svg(src, tmp_path / "blocks.svg", SvgSettings(max_boxes=20))
    boxes = _boxes(tmp_path / "blocks.svg")
    assert [b.get("data-kind") for b in boxes] == ["input", "group", "node", "output"]
    assert result.nodes == 37 and result.boxes == 4
    # the 12 identical blocks are one box: "blocks.0 … blocks.11 (Block)", "×12: Gemm Relu Add"
    texts = [t.text for t in boxes[1].iter(f"{SVG}text")]
    assert texts == ["blocks.0 … blocks.11" + (" (Block)" if dynamo_style else ""), "×12: Gemm Relu Add"]
    assert boxes[1].get("data-nodes") == "36"
    opened = pt2trt.write_svg(src, tmp_path / "opened.svg", SvgSettings(max_boxes=40))  # room for every node
    assert opened.boxes == 37 + 2
    full = pt2trt.write_svg(src, tmp_path / "full.svg", SvgSettings(max_boxes=None))
    assert full.boxes == 37 + 2


def test_svg_merges_chains_when_modules_are_not_enough(tmp_path: Path) -> None:
    summary = summarize_graph(scoped_blocks_model(12), max_boxes=6)
    assert len(summary.boxes) <= 6
    assert sum(b.nodes for b in summary.boxes) == 37  # every node is in exactly one box


def test_svg_merges_a_chain_through_repeated_blocks() -> None:
    # stem -> 12 identical blocks (one repeat box "×12: ...") -> head -> post: the chain of all four is merged and
    # counts the repeat's ops once per block (it used to fail parsing the "×12:" of the repeat's detail)
    model = scoped_blocks_model(12)
    graph = model.graph
    graph.input[0].name = "x_in"
    graph.node.insert(0, onnx.helper.make_node("Relu", ["x_in"], ["x"], name="/stem/Relu"))
    graph.node.append(onnx.helper.make_node("Identity", ["y"], ["z"], name="/post/Identity"))
    graph.output[0].name = "z"
    summary = summarize_graph(model, max_boxes=5)
    chains = [b for b in summary.boxes if b.kind == "chain"]
    assert len(chains) == 1 and chains[0].nodes == 3 * 12 + 3
    assert chains[0].detail == "Relu×13 Gemm×12 Add×12 …"
    assert [b.kind for b in summary.boxes] == ["input", "chain", "output"]


def test_cli_view_svg(cli: Cli, tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "pic.svg"
    result = cli("view", str(tiny), "--svg", str(out))
    assert result.returncode == 0 and result.stdout.startswith(f"wrote {out}: 2 nodes drawn as 4 boxes")
    assert_one_line_error(cli("view", str(tiny), "--svg", str(out)), "already exists", "--force")
    assert_one_line_error(cli("view", str(tiny), "--svg", str(tmp_path / "pic.png")), "does not end in .svg")
    assert_one_line_error(cli("view", str(tmp_path / "nope.onnx"), "--svg", str(out), "--force"), "not found")


@pytest.mark.slow
def test_svg_of_exported_resnet18(tmp_path: Path) -> None:
    src = tmp_path / "r18.onnx"
    pt2trt.export("torchvision:resnet18", [pt2trt.parse_input("input:1x3x224x224")], src)
    result = pt2trt.write_svg(src, tmp_path / "r18.svg")
    titles = [t.text for t in ET.parse(tmp_path / "r18.svg").getroot().iter(f"{SVG}text")]
    blocks = {"layer1.0 … layer1.1 (BasicBlock)"} | {f"layer{i}.{j} (BasicBlock)" for i in (2, 3, 4) for j in (0, 1)}
    assert blocks <= set(titles) and "×2: Conv×2 Relu×2 Add" in titles  # layer1's two identical blocks as one
    assert result.boxes <= 30 and result.nodes == len(onnx.load(str(src), load_external_data=False).graph.node)
