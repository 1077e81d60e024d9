"""The queue's keys in Debian's Chromium: j and k move the focus through the claims, Enter opens one.

The script is templates/web/static/keys.js, loaded as a file (the CSP allows no inline script).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from support.browser import browser, sign_in, watch
from support.web import seed, served, tracker_app

from tracker.app import App
from tracker.web import create_app

__all__ = ["browser", "tracker_app"]

FOCUSED = "document.activeElement.getAttribute('href')"
CURRENT = (
    "Array.from(document.querySelectorAll('.queue-item.current a.queue-link'), a => a.getAttribute('href'))"
)


def test_j_and_k_move_through_the_queue_and_enter_opens_the_claim(
    browser: Any, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    problems: list[str] = []
    with served(create_app(tracker_app, clock=lambda: now)) as base:
        page = watch(browser.new_context().new_page(), problems)
        sign_in(page, base, scene.assigned)
        # The claims in the order the queue shows them: overdue, due soon, upcoming, resolved.
        order = page.eval_on_selector_all("a.queue-link", "links => links.map(a => a.getAttribute('href'))")
        assert order == [
            f"/claims/{key}" for key in (scene.overdue, scene.soon, scene.upcoming, scene.resolved)
        ]
        assert page.evaluate(FOCUSED) != order[0]  # nothing is picked before a key is pressed
        seen = []
        for key in ("j", "j", "j", "j", "j", "k", "k", "k", "k", "k", "j"):
            page.keyboard.press(key)
            seen.append(page.evaluate(FOCUSED))
            assert page.evaluate(CURRENT) == [seen[-1]], key  # one claim is marked, the focused one
        # j stops at the last claim, k at the first.
        assert seen == [order[i] for i in (0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 1)]
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}{order[1]}")
        assert page.locator("h1").inner_text() == f"The claim {scene.soon} will come true."
        # On the claim page, j typed into the form is text, not a shortcut.
        page.get_by_label("Note").press("j")
        assert page.get_by_label("Note").input_value() == "j"
        # Back on the queue, a letter typed into the filters' selects moves nothing.
        page.goto(f"{base}/")
        page.locator("#f-kind").focus()
        page.keyboard.press("j")
        assert page.evaluate(CURRENT) == []
    assert problems == []
