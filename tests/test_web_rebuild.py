"""The web process's background rebuild of the public scorecard pages."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from flask import Flask
from support.web import seed, signed_in, soup, tracker_app, web

from tracker.app import App
from tracker.scorecards.build import build_site
from tracker.services.resolutions import resolve
from tracker.web.rebuild import Rebuilder
from tracker.web.state import state

__all__ = ["tracker_app", "web"]


def _public_state(client, path: str) -> str:  # type: ignore[no-untyped-def]
    return str(soup(client.get(path)).select_one(".public-state").get_text())


def test_an_idle_rebuilder_catches_up_with_a_change_made_outside_the_web_app(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    out = Path(tracker_app.settings.report.out_dir)
    with tracker_app.begin() as session:
        build_site(session, out, settings=tracker_app.settings, now=now, jobs=1)
    # A verdict recorded the way `tracker resolve` records it: no web request asks for a rebuild.
    with tracker_app.begin() as session:
        resolve(
            session,
            scene.overdue,
            "true",
            ["https://example.org/cli"],
            "From the CLI.",
            scene.assigned,
            None,
            now,
        )
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"
    assert "not yet showing the latest change" in _public_state(client, path)

    rebuilder = Rebuilder(state(web), catch_up=0.05)
    try:
        deadline = time.monotonic() + 30  # a bound on a background thread, not a wait for a deadline
        while "up to date" not in _public_state(client, path) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        rebuilder.stop()
    assert "up to date" in _public_state(client, path)
    assert "From the CLI." in (out / "sources" / f"{scene.source}.html").read_text(encoding="utf-8")
