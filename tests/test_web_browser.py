"""End to end in Debian's Chromium (Playwright) against a real waitress server.

A reviewer signs in, finds the overdue claim, resolves it with evidence and sees the
verdict on the public scorecard; a stale form from a second browser gets the conflict
page with its text kept; then un-resolve and sign out. axe-core (npm, tests/support)
finds no serious or critical violations; screenshots at 1280 and 390 px are saved.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.web import PASSWORD, axe_violations, seed, served, tracker_app

from tracker.app import App
from tracker.scorecards.build import build_site
from tracker.web import create_app

__all__ = ["tracker_app"]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu"]


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _watch(page: Any, problems: list[str]) -> Any:
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return page


def _sign_in(page: Any, base: str, handle: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Handle or email").fill(handle)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _shoot(page: Any, folder: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            f"{name} overflows at {width}px"
        )
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_resolve_conflict_unresolve_in_chromium(
    browser: Any, tracker_app: App, now: dt.datetime, tmp_path: Path
) -> None:
    scene = seed(tracker_app, now, statement="Rates will fall by March.")
    out = Path(tracker_app.settings.report.out_dir)
    with tracker_app.begin() as session:
        build_site(session, out, settings=tracker_app.settings, now=now, jobs=1)
    shots = tmp_path / "screens"
    shots.mkdir()
    flask_app = create_app(tracker_app, clock=lambda: now, rebuild=True)
    problems: list[str] = []
    with served(flask_app) as base:
        ada = _watch(browser.new_context().new_page(), problems)
        _sign_in(ada, base, scene.assigned)
        overdue = ada.locator("#overdue .queue-item")
        assert overdue.count() == 1 and "3 days overdue" in overdue.inner_text()
        _shoot(ada, shots, "queue")
        overdue.get_by_role("link").click()
        ada.wait_for_url(f"{base}/claims/{scene.overdue}")
        assert ada.locator("h1").inner_text() == "Rates will fall by March."
        _shoot(ada, shots, "claim")

        # A second reviewer (an admin) loads the same form before Ada resolves.
        boss = _watch(browser.new_context().new_page(), problems)
        _sign_in(boss, base, scene.admin)
        boss.goto(f"{base}/claims/{scene.overdue}")

        ada.get_by_label("true", exact=True).check()
        ada.get_by_label("Evidence URLs, one per line (http or https)").fill("https://example.org/rates")
        ada.get_by_label("Note").fill("The bank cut rates.")
        ada.get_by_role("button", name="Record the verdict").click()
        assert "Resolved as true" in ada.locator("[role=status]").inner_text()

        # The public scorecard catches up (rebuilt in the background).
        deadline = time.monotonic() + 60
        entry = ""
        while time.monotonic() < deadline:
            ada.goto(f"{base}/scorecards/sources/{scene.source}.html")
            entry = ada.locator(f"#claim-{scene.overdue}").inner_text()
            if "example.org/rates" in ada.content():
                break
            time.sleep(0.5)
        assert "example.org/rates" in ada.content(), entry
        ada.goto(f"{base}/claims/{scene.overdue}")
        assert "up to date" in ada.locator(".public-state").inner_text()

        boss.get_by_label("false", exact=True).check()
        boss.get_by_label("Evidence URLs, one per line (http or https)").fill("https://example.org/boss")
        boss.get_by_label("Note").fill("My stale note, kept.")
        boss.get_by_role("button", name="Record the verdict").click()
        conflict = boss.locator("section.conflict")
        assert conflict.is_visible() and "ada recorded true" in " ".join(conflict.inner_text().split())
        assert boss.get_by_label("Note").input_value() == "My stale note, kept."
        assert (
            boss.get_by_label("Evidence URLs, one per line (http or https)").input_value()
            == "https://example.org/boss"
        )
        _shoot(boss, shots, "conflict")

        ada.goto(f"{base}/claims/{scene.overdue}")
        ada.get_by_label("Why re-open it?").fill("The cut was reversed the same day.")
        ada.get_by_role("button", name="Re-open the claim").click()
        assert "Re-opened" in ada.locator("[role=status]").inner_text()
        ada.get_by_role("button", name="Sign out").click()
        ada.wait_for_url(f"{base}/login")
        ada.goto(f"{base}/")
        assert ada.url.startswith(f"{base}/login")

        # axe-core needs its script injected, which the app's CSP would (rightly) refuse.
        checker = browser.new_context(bypass_csp=True).new_page()
        checker.goto(f"{base}/login")
        found = {"login": axe_violations(checker)}
        _sign_in(checker, base, scene.assigned)
        found["queue"] = axe_violations(checker)
        checker.goto(f"{base}/claims/{scene.overdue}")
        found["claim"] = axe_violations(checker)
        assert found == {"login": [], "queue": [], "claim": []}
    # The conflict page is answered with 409, which Chromium logs as a failed load: that one is expected.
    assert [p for p in problems if "status of 409 (CONFLICT)" not in p] == []
    assert len(problems) <= 1
    assert sorted(p.name for p in shots.iterdir()) == sorted(
        f"{name}-{width}.png" for name in ("queue", "claim", "conflict") for width in (1280, 390)
    )
