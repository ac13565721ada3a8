"""report.html in headless Chromium: it renders every section and figure, logs no error and requests nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, Chromium
from tests.images import photos

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")

SECTIONS = ["summary", "steps", "facts", "verification", "precision", "speed", "graph", "predictions", "commands"]
FIGURES = ["figure-errors", "figure-latency", "figure-accuracy-latency", "figure-graph"]

CHECK_IMAGES = """(() => {
  const imgs = [...document.images];
  return {
    sections: [...document.querySelectorAll('section, header')].map(s => s.id),
    figures: [...document.querySelectorAll('figure')].map(f => f.id),
    images: imgs.length,
    drawn: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    sources: [...new Set(imgs.map(i => i.src.split(':')[0]))],
    scripts: document.scripts.length,
    links: document.querySelectorAll('link').length,
    verdict: document.querySelector('.verdict').textContent,
  };
})()"""


@pytest.fixture(scope="module")
def seednet_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pt2trt
    from pt2trt.conversion import convert

    root = tmp_path_factory.mktemp("report")
    images = root / "images"
    photos(images)
    result = convert(
        "pt2trt.models:SeedNet", [pt2trt.parse_input("input:1x3x28x28")], root / "out", progress=False,
        images=images, bench_duration=0.2, task="classify",
    )  # fmt: skip
    assert result.passed, result.verdict()
    assert result.report_html is not None
    return result.report_html


def test_report_renders_offline_in_chromium(seednet_report: Path, tmp_path: Path) -> None:
    with Chromium(width=1280, height=900) as browser:
        session = browser.open(seednet_report.resolve().as_uri())
        page = browser.evaluate(session, CHECK_IMAGES)
        png = browser.screenshot(session)
        requests = browser.requests()
        errors = browser.console_errors()
    assert errors == [], errors
    # the page itself is the only file loaded; every picture is an inline data: URI, nothing goes to the network
    assert [u for u in requests if not u.startswith("data:")] == [seednet_report.resolve().as_uri()], requests
    assert page["sources"] == ["data"] and page["scripts"] == 0 and page["links"] == 0
    assert page["sections"] == SECTIONS, page["sections"]
    assert set(FIGURES) <= set(page["figures"]), page["figures"]
    assert page["images"] == page["drawn"] >= len(FIGURES) + 6  # figures + 3 photos x 2 backends, all decoded
    assert page["verdict"].startswith("converted pt2trt.models:SeedNet")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    (tmp_path / "report.png").write_bytes(png)
