"""Hostile text in every field a page or an email shows: it is escaped, never run, never a link to javascript:.

The emails are drawn by the real renderers (the reminder digest's and the report's), with
hostile text in every field a person or a claims file fills in.
"""

from __future__ import annotations

import datetime as dt

from bs4 import BeautifulSoup
from flask import Flask
from support.web import ORIGIN, seed, signed_in, soup, tracker_app, web

from tracker.app import App
from tracker.reminders import digest as reminder_digest
from tracker.reports import ClaimRef, Digest, Headline, NewResolution, ScoreChange, Section, render_digest
from tracker.templating import environment

__all__ = ["tracker_app", "web"]

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">\u202egnp.exe "\'><b onmouseover=alert(3)>'
LONG = "W" * 5000


JS_URL = "javascript:alert(5)"


def _inert(html_page: str, scripts: list[str]) -> BeautifulSoup:
    """The parsed page, after checking that the hostile text made no markup of its own."""
    page = BeautifulSoup(html_page, "html.parser")
    assert [s.get("src") for s in page.find_all("script")] == scripts
    for tag in page.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        for attribute in ("href", "src", "action", "formaction"):
            link = str(tag.get(attribute, "")).strip().lower()
            assert not link.startswith(("javascript:", "vbscript:")), tag
            assert not link.startswith("data:") or tag.name == "link", tag
    assert page.find("b") is None and page.find("img") is None
    return page


def _check(html_page: str) -> None:
    _inert(html_page, ["/static/keys.js"])


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


def _claim_ref(key: str, **overrides: object) -> ClaimRef:
    fields: dict[str, object] = {
        "key": key,
        "kind": "prediction",
        "statement": HOSTILE + LONG,
        "source_slug": HOSTILE,
        "source_name": HOSTILE,
        "probability": 0.7,
        "confidence": HOSTILE,
        "made_on": dt.date(2026, 10, 1),
        "deadline": dt.date(2026, 11, 20),
    }
    return ClaimRef(**{**fields, **overrides})  # type: ignore[arg-type]


def _report() -> Digest:
    until = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    resolution = NewResolution(
        claim=_claim_ref(HOSTILE),
        verdict="false",
        evidence=(JS_URL, "https://example.org/?q=" + HOSTILE, " JavaScript:alert(6)"),
        note=HOSTILE,
        reviewer=HOSTILE,
        reviewer_name=HOSTILE,
        resolved_on=dt.date(2026, 11, 22),
        recorded_at=until,
    )
    change = ScoreChange(HOSTILE, HOSTILE, Headline(), Headline(1, 0.2, 1, 1.0), Headline(), Headline(1, 0.2))
    return Digest(
        since=until - dt.timedelta(days=7),
        until=until,
        timezone="UTC",
        resolutions=Section((resolution,), 1),
        score_changes=Section((change,), 1),
        newly_overdue=Section((_claim_ref("overdue-" + HOSTILE),), 1),
        new_claims=Section((_claim_ref("new-" + HOSTILE, kind="fact", probability=None),), 1),
    )


def _reminder() -> reminder_digest.Digest:
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    claims = tuple(
        reminder_digest.digest_claim(
            key=HOSTILE,
            statement=HOSTILE + LONG,
            criteria=HOSTILE,
            deadline=dt.date(2026, 11, 20),
            claim_timezone="UTC",
            reviewer_handle=HOSTILE,
            reviewer_timezone="UTC",
            source=HOSTILE,
            article_url=url,
            article_title=HOSTILE,
            kind=kind,
            assigned=[HOSTILE],
            resolve_url="https://tracker.example.org/",
            now=now,
            sign=lambda key: "signed-token",
        )
        for url, kind in ((JS_URL, "due"), ("https://example.org/a?b=" + HOSTILE, "escalation"))
    )
    return reminder_digest.Digest(HOSTILE, HOSTILE, "ada@example.org", "UTC", claims)


def test_hostile_text_in_every_email_is_escaped_and_never_a_javascript_link() -> None:
    env = environment()
    reminder = reminder_digest.render(env, _reminder(), "<id@tracker>")
    report = render_digest(env, _report())
    for html_part in (reminder.html, report.html):
        page = _inert(html_part, [])
        shown = page.get_text()
        # Shown as the text it is, every time it was given (parsing undoes the escaping).
        assert shown.count(HOSTILE) >= 5, shown[:2000]
        assert "<script>" not in html_part and "&lt;script&gt;" in html_part
        # The javascript: URLs are shown, but as text only.
        assert JS_URL in shown
        assert not [a for a in page.find_all("a") if "javascript" in str(a.get("href", "")).lower()]
    reminder_links = [str(a["href"]) for a in BeautifulSoup(reminder.html, "html.parser").find_all("a")]
    assert reminder_links == [
        "https://tracker.example.org/r/signed-token",
        reminder_links[1],
        "https://tracker.example.org/r/signed-token",
    ] and reminder_links[1].startswith("https://example.org/a?b=")
    # The plain-text parts are not HTML: the text is there as typed, not as entities.
    for text_part in (reminder.text, report.text):
        assert "<script>alert(1)</script>" in text_part and "&lt;" not in text_part
