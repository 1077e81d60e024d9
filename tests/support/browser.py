"""Helpers for the web app's browser tests: Debian's Chromium through Playwright, and what every test checks.

Import the `browser` fixture into a test module. `watch` collects what must not happen on a
page (a dialog, a console error, an uncaught exception); `shoot` checks the page fits the
viewport at 1280 and 390 px and saves a screenshot at each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.web import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu"]
WIDTHS = (1280, 390)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (import this fixture into a test module)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def watch(page: Any, problems: list[str]) -> Any:
    """The page, with every dialog, console error and page error appended to `problems`."""
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return page


def sign_in(page: Any, base: str, handle: str, *, lands: str = "/") -> None:
    """Sign in through the form; `lands` is where the app should then go."""
    if "/login" not in page.url:
        page.goto(f"{base}/login")
    page.get_by_label("Handle or email").fill(handle)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{lands}")


def fits(page: Any, width: int) -> bool:
    """Whether the page, at `width` px, is no wider than the viewport (nothing scrolls sideways)."""
    # After a form's submit, the new page's DOM can be there before its stylesheet: unstyled, a
    # long string makes any page wide. Measure the page as it loads, not half-loaded.
    page.wait_for_load_state()
    page.set_viewport_size({"width": width, "height": 900})
    scroll_width: int = page.evaluate("document.documentElement.scrollWidth")
    return scroll_width <= width


def shoot(page: Any, folder: Path | None, name: str) -> None:
    """Check the page fits at each width and, given a folder, save a full-page screenshot at each."""
    for width in WIDTHS:
        assert fits(page, width), f"{name} overflows at {width}px"
        if folder is not None:
            page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
