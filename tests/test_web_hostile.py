"""Hostile text in every field a page shows: it is escaped, never run, never a link to javascript:."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from support.web import ORIGIN, seed, signed_in, soup, tracker_app, web

from tracker.app import App

__all__ = ["tracker_app", "web"]

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">\u202egnp.exe "\'><b onmouseover=alert(3)>'
LONG = "W" * 5000


def _check(html_page: str) -> None:
    page = soup_text(html_page)
    scripts = [s.get("src") for s in page.find_all("script")]
    assert scripts == ["/static/keys.js"]
    for tag in page.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        href = str(tag.get("href", ""))
        assert not href.lower().startswith("javascript:"), tag
        assert not href.lower().startswith("data:") or tag.name == "link", tag
    assert page.find("b") is None and page.find("img") is None


def soup_text(html_page: str):  # type: ignore[no-untyped-def]
    from bs4 import BeautifulSoup

    return BeautifulSoup(html_page, "html.parser")


def test_hostile_text_is_shown_as_text_everywhere(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(
        tracker_app,
        now,
        statement=HOSTILE + LONG,
        quote=HOSTILE,
        confidence=HOSTILE[:200],
        criteria=HOSTILE,
        source_name=HOSTILE,
    )
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"
    hidden = {
        str(i["name"]): str(i.get("value", ""))
        for i in soup(client.get(path)).select("#resolve form input[type=hidden]")
    }
    # A hostile note and a javascript: URL: refused, and both shown back as text.
    refused = client.post(
        f"{path}/resolve",
        data={**hidden, "verdict": "true", "evidence": "javascript:alert(4)", "note": HOSTILE},
        headers={"Origin": ORIGIN},
    )
    assert refused.status_code == 400
    _check(refused.get_data(as_text=True))
    assert HOSTILE in soup(refused).select_one("#note").get_text()
    recorded = client.post(
        f"{path}/resolve",
        data={**hidden, "verdict": "true", "evidence": "https://example.org/?q=<script>", "note": HOSTILE},
        headers={"Origin": ORIGIN},
    )
    assert recorded.status_code == 302
    for page_path in ("/", path, "/?reviewer=*", "/settings", "/status"):
        response = client.get(page_path)
        assert response.status_code in (200, 403), page_path
        _check(response.get_data(as_text=True))
    claim_page = soup(client.get(path))
    assert claim_page.select_one("h1").get_text() == HOSTILE + LONG
    assert claim_page.select_one("blockquote").get_text() == HOSTILE
    _check(signed_in(web, scene.admin).get("/?reviewer=*").get_data(as_text=True))
