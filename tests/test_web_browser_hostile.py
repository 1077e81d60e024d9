"""Hostile text in every field, in Debian's Chromium: nothing runs, nothing errs, the layout holds.

The queue, the claim page, the conflict page, status, settings and a scorecard source page
are opened with script tags, event attributes, javascript: URLs, right-to-left overrides
and very long strings in every field they show. No dialog opens, the console logs no
error, no script fails, a right-to-left override turns no text but its own, and at 1280
and 390 px nothing is wider than the viewport: the long strings wrap.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select
from support.browser import WIDTHS, browser, fits, sign_in, watch
from support.web import seed, served, tracker_app
from test_web_hostile import HOSTILE, LONG

from tracker.app import App
from tracker.models import Appearance, Claim, ClaimTag, JobRun, Reviewer
from tracker.reminders.runs import REMINDERS_JOB
from tracker.scorecards.build import build_site
from tracker.services import get_claim, resolve
from tracker.web import create_app

__all__ = ["browser", "tracker_app"]

LONG_URL = "https://example.org/" + "a" * 3000 + "?q=<script>alert(7)</script>"
# Every element that reaches past the viewport's right edge, or whose text spills out of its
# own box; what sits in a container meant to scroll sideways (a wide table) or in an SVG is left out.
OVERFLOWING = """
(width) => Array.from(document.querySelectorAll('main *')).filter((el) => {
  if (el.closest('svg')) { return false; }
  for (let up = el.parentElement; up; up = up.parentElement) {
    if (getComputedStyle(up).overflowX !== 'visible') { return false; }
  }
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const spills = style.display !== 'inline' && style.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1;
  return box.width > 0 && (box.right > width + 1 || spills);
}).map((el) => `${el.tagName}.${el.className} (${Math.round(el.getBoundingClientRect().right)}, ${el.scrollWidth} > ${el.clientWidth})`)
"""

# Where a right-to-left override reaches past the text it came in: the nearest element that ends
# it (one that isolates, or a block) must hold nothing after each override but the rest of its text
# (`tail`: the rest of HOSTILE, then the Ws of LONG when the field had them).
RTL_LEAKS = """
(tail) => {
  const leaks = [];
  for (const parent of document.querySelectorAll('body *')) {
    if (['TEXTAREA', 'TITLE', 'OPTION', 'SCRIPT', 'STYLE'].includes(parent.tagName)) { continue; }
    const own = Array.from(parent.childNodes).some((n) => n.nodeType === 3 && n.textContent.includes('\\u202e'));
    if (!own) { continue; }
    let scope = parent;
    while (scope.parentElement) {
      const style = getComputedStyle(scope);
      if (/isolate|plaintext/.test(style.unicodeBidi) || style.display !== 'inline') { break; }
      scope = scope.parentElement;
    }
    for (const part of scope.textContent.split('\\u202e').slice(1)) {
      const after = ('\\u202e' + part).trimEnd().replace(/W+$/, '');
      if (after !== tail) { leaks.push(`${scope.tagName}.${scope.className}: ${after.slice(0, 80)}`); }
    }
  }
  return leaks;
}
"""


def _hostile_scene(app: App, now: dt.datetime) -> tuple[str, str]:
    """The scene with hostile text in every field a page shows; the overdue claim's key and its source."""
    scene = seed(
        app,
        now,
        statement=HOSTILE + LONG,
        quote=HOSTILE + LONG,
        confidence=HOSTILE[:200],
        criteria=HOSTILE + LONG,
        source_name=HOSTILE + LONG[:200],
    )
    with app.begin() as session:
        for reviewer in session.scalars(select(Reviewer)):
            reviewer.name = HOSTILE + LONG[:200]  # names hold 300 characters
        claim = session.scalar(select(Claim).where(Claim.key == scene.overdue))
        assert claim is not None
        claim.appearance = Appearance(url="javascript:alert(8)//" + HOSTILE, title=HOSTILE + LONG[:900])
        claim.tags = [ClaimTag(tag=HOSTILE[:100]), ClaimTag(tag=LONG[:100])]
        resolve(
            session,
            scene.soon,
            "true",
            [LONG_URL, "https://example.org/b"],
            HOSTILE + LONG,
            scene.assigned,
            None,
            now,
        )
        session.add(
            JobRun(
                job=REMINDERS_JOB,
                started_at=now - dt.timedelta(minutes=5),
                finished_at=now - dt.timedelta(minutes=4),
                ok=False,
                error=HOSTILE + LONG,
                counts={},
                host="test",
                pid=1,
                worker=HOSTILE[:200],
            )
        )
    return scene.overdue, scene.source


def _rtl_leaks(page: Any) -> list[str]:
    found: list[str] = page.evaluate(RTL_LEAKS, HOSTILE[HOSTILE.index("\u202e") :])
    return found


def _check(page: Any, name: str, shots: Path, *, isolated: bool = True) -> None:
    """The page fits at every width, no element shows a long string without wrapping it and
    (when `isolated`) no override turns text that follows it.

    Each is saved as a screenshot in `shots` too, to look at.
    """
    for width in WIDTHS:
        wide = not fits(page, width)
        leaks = _rtl_leaks(page) if isolated else []
        assert leaks == [], f"{name}: " + " | ".join(leaks)
        spilling = page.evaluate(OVERFLOWING, width)
        assert spilling == [], f"{name} at {width}px: " + "; ".join(spilling)
        assert not wide, f"{name} is wider than the viewport at {width}px"
        page.screenshot(path=str(shots / f"{name.replace(' ', '-')}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_hostile_text_in_chromium(browser: Any, tracker_app: App, now: dt.datetime, tmp_path: Path) -> None:
    overdue, source = _hostile_scene(tracker_app, now)
    with tracker_app.begin() as session:
        build_site(
            session, Path(tracker_app.settings.report.out_dir), settings=tracker_app.settings, now=now, jobs=1
        )
    problems: list[str] = []
    with served(create_app(tracker_app, clock=lambda: now)) as base:
        page = watch(browser.new_context().new_page(), problems)
        sign_in(page, base, "ada")
        assert HOSTILE in page.locator("#overdue .queue-link").inner_text()
        _check(page, "queue", tmp_path)
        page.goto(f"{base}/claims/{overdue}")
        assert page.locator("h1").inner_text() == HOSTILE + LONG
        assert page.locator("a[href^='javascript']").count() == 0
        _check(page, "claim page", tmp_path)
        page.goto(f"{base}/claims/snow-soon")
        _check(page, "resolved claim page", tmp_path)

        # Someone else records a verdict with hostile text while the form is open: the conflict page.
        page.goto(f"{base}/claims/{overdue}")
        with tracker_app.begin() as session:
            resolve(session, overdue, "false", [LONG_URL], HOSTILE + LONG, "boss", None, now)
        page.get_by_label("true", exact=True).check()
        page.get_by_label("Evidence URLs, one per line (http or https)").fill(LONG_URL)
        page.get_by_label("Note").fill(HOSTILE + LONG)
        page.get_by_role("button", name="Record the verdict").click()
        assert page.locator("section.conflict").is_visible()
        assert page.get_by_label("Note").input_value() == HOSTILE + LONG
        _check(page, "conflict page", tmp_path)

        for path, name, shown in (("/status", "status", ".warnings"), ("/settings", "settings", ".who")):
            page.goto(base + path)
            assert HOSTILE in page.locator(shown).inner_text(), name
            _check(page, name, tmp_path)
        page.goto(f"{base}/scorecards/sources/{source}.html")
        assert HOSTILE in page.locator(f"#claim-{overdue}").inner_text()
        # Its overrides are checked apart (test_an_override_on_a_scorecard_page_...): they still leak.
        _check(page, "scorecard source page", tmp_path, isolated=False)

        # A hostile field sent back by a refused form stays text too.
        page.goto(f"{base}/claims/{overdue}")
        page.get_by_label("Why re-open it?").fill(" ")
        page.evaluate("document.querySelector('#reason').removeAttribute('required')")
        page.get_by_role("button", name="Re-open the claim").click()
        assert page.locator("#reason-problem").is_visible()
        _check(page, "refused form", tmp_path)
    with tracker_app.begin() as session:
        assert get_claim(session, overdue).verdict == "false"
    # The conflict (409) and the refused form (400) are logged by Chromium as failed loads; nothing else.
    expected = ("status of 409 (CONFLICT)", "status of 400 (BAD REQUEST)")
    assert [p for p in problems if not p.endswith(expected)] == []


def test_an_override_on_a_scorecard_page_turns_only_its_own_text(
    browser: Any, tracker_app: App, now: dt.datetime
) -> None:
    overdue, source = _hostile_scene(tracker_app, now)
    with tracker_app.begin() as session:
        build_site(
            session, Path(tracker_app.settings.report.out_dir), settings=tracker_app.settings, now=now, jobs=1
        )
    with served(create_app(tracker_app, clock=lambda: now)) as base:
        page = browser.new_context().new_page()
        page.goto(f"{base}/scorecards/sources/{source}.html")
        assert HOSTILE in page.locator(f"#claim-{overdue}").inner_text()
        assert _rtl_leaks(page) == []
