"""A form's problems show beside their fields, and the app's dates read as the scorecards' do.

Each problem is next to its input, which is marked aria-invalid and described by it; a
summary at the top links to the fields; what was typed stays in the form. Dates read
"1 Oct 2026" in a <time> whose datetime attribute keeps the ISO form.
"""

from __future__ import annotations

import datetime as dt
import re

from bs4 import BeautifulSoup
from flask import Flask
from support.web import ORIGIN, hidden_fields, login, post, seed, signed_in, soup, text, tracker_app, web

from tracker.app import App
from tracker.errors import InvalidInput, Problem, TrackerError
from tracker.services import get_claim
from tracker.web.forms import UnresolveForm, problems_of, sentence
from tracker.web.views.claims import UNRESOLVE_FIELDS

__all__ = ["tracker_app", "web"]

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def beside(page: BeautifulSoup, field_id: str) -> str:
    """The problem shown beside the input `field_id`, after checking the input points at it."""
    field = page.select_one(f"#{field_id}")
    assert field is not None, field_id
    assert field.get("aria-invalid") == "true", field
    described = str(field.get("aria-describedby", "")).split()
    messages = [page.select_one(f"#{i}") for i in described if i.endswith("-problem")]
    assert len(messages) == 1 and messages[0] is not None, field
    message = messages[0]
    # Beside the field: in its paragraph (or its radio group's fieldset), not in a list elsewhere.
    assert any(message.find_parent(["p", "fieldset"]) is parent for parent in field.parents), message
    summary = page.select_one(".problem-summary")
    assert summary is not None and summary.select_one(f'a[href="#{field_id}"]') is not None, summary
    return str(message.get_text(" ", strip=True))


def not_marked(page: BeautifulSoup, *field_ids: str) -> None:
    """The fields have no problem shown (only the ones with a problem are marked)."""
    for field_id in field_ids:
        field = page.select_one(f"#{field_id}")
        assert field is not None and field.get("aria-invalid") is None, field


def test_each_resolve_problem_is_beside_its_field_and_the_text_is_kept(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"
    hidden = hidden_fields(client, path, "#resolve form")
    future = (now.date() + dt.timedelta(days=2)).isoformat()
    for verdict, evidence, day, field_id, expected in (
        ("true", "", "", "evidence", "needs evidence"),
        ("true", "javascript:alert(1)", "", "evidence", "not an absolute http(s) URL"),
        ("true", "https://example.org", future, "resolved_on", "in the future"),
        ("true", "https://example.org", "2020-01-01", "resolved_on", "before made_on"),
        ("mostly-true", "https://example.org", "", "verdict-true", "Not a valid choice"),
        ("true", "https://example.org", "not a date", "resolved_on", "Not a valid date"),
    ):
        data = {
            **hidden,
            "verdict": verdict,
            "evidence": evidence,
            "note": "my careful note",
            "resolved_on": day,
        }
        response = client.post(f"{path}/resolve", data=data, headers={"Origin": ORIGIN})
        assert response.status_code == 400, expected
        page = soup(response)
        assert expected in beside(page, field_id), (field_id, expected)
        others = {"evidence", "resolved_on", "note", "verdict-true"} - {field_id}
        not_marked(page, *others)
        # What was typed is still there.
        assert page.select_one("#note").get_text() == "my careful note"
        assert page.select_one("#evidence").get_text() == evidence
        if day and field_id == "resolved_on" and day != "not a date":
            assert page.select_one("#resolved_on")["value"] == day
    # Two problems at once: both are shown, each beside its own field.
    data = {**hidden, "verdict": "true", "evidence": "", "note": "", "resolved_on": "2020-01-01"}
    page = soup(client.post(f"{path}/resolve", data=data, headers={"Origin": ORIGIN}))
    assert "needs evidence" in beside(page, "evidence")
    assert "before made_on" in beside(page, "resolved_on")
    assert len(page.select(".problem-summary li")) == 2
    with tracker_app.begin() as session:
        assert get_claim(session, scene.overdue).verdict is None
    # A page without problems marks nothing.
    fresh = soup(client.get(path))
    assert fresh.select(".problem-summary, .field-problem, [aria-invalid]") == []


def test_the_unresolve_reason_is_needed_beside_its_field(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.resolved}"
    hidden = hidden_fields(client, path, "#unresolve form")
    response = client.post(f"{path}/unresolve", data={**hidden, "reason": "  "}, headers={"Origin": ORIGIN})
    assert response.status_code == 400
    assert beside(soup(response), "reason") == "Problem: Say why."


def test_sign_in_and_password_problems_are_beside_their_fields(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = web.test_client()
    empty = soup(login(client, "", ""))
    assert "Enter your handle or email." in beside(empty, "login")
    assert "Enter your password." in beside(empty, "password")
    wrong = soup(login(client, scene.assigned, "not the password"))
    assert "do not match" in beside(wrong, "login")
    assert wrong.select_one("#login")["value"] == scene.assigned
    not_marked(wrong, "password")

    ada = signed_in(web, scene.assigned)
    short = soup(post(ada, "/settings", {"password": "short", "repeat": "short"}, token_from="/settings"))
    assert "at least 10 characters" in beside(short, "password")
    not_marked(short, "repeat")
    differ = soup(
        post(ada, "/settings", {"password": "a long new secret", "repeat": "another"}, token_from="/settings")
    )
    assert beside(differ, "repeat") == "Problem: The two passwords differ."
    not_marked(differ, "password")


def test_pages_write_dates_as_the_scorecards_do(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    claim_page = soup(client.get(f"/claims/{scene.overdue}"))
    made_on = claim_page.find("dt", string="Made on").find_next("dd").select_one("time")
    assert (made_on["datetime"], made_on.get_text()) == ("2026-10-01", "1 Oct 2026")
    deadline = now.date() - dt.timedelta(days=3)
    queue = soup(client.get("/"))
    shown = queue.select_one("#overdue .queue-item time")
    assert shown["datetime"] == deadline.isoformat()
    assert shown.get_text() == f"{deadline.day} {deadline:%b %Y}"
    assert "3 days overdue" in queue.select_one("#overdue .queue-item").get_text()
    # No ISO date left in what a reader sees (the date input's value is ISO, as it must be).
    for path in ("/", f"/claims/{scene.overdue}", f"/claims/{scene.resolved}", "/status"):
        assert ISO_DATE.findall(text(client.get(path))) == [], path
    assert ISO_DATE.fullmatch(str(claim_page.select_one("#resolved_on")["value"]))


def test_a_services_problems_go_to_the_forms_fields(web: Flask) -> None:
    with web.test_request_context("/", method="POST", data={"reason": "", "version": "1"}):
        form = UnresolveForm()
        error = InvalidInput(
            [Problem.at("note", "un-resolving needs a note saying why"), Problem.at("by", "no reviewer 'x'")]
        )
        # The service's "note" is the form's "reason"; a field the form lacks is the form's own.
        assert problems_of(form, error, UNRESOLVE_FIELDS) == {
            "reason": ["Un-resolving needs a note saying why."],
            "": ["No reviewer 'x'."],
        }
        assert problems_of(form, TrackerError("claim 'x' is not resolved")) == {
            "": ["Claim 'x' is not resolved."]
        }
    assert sentence("resolved_on 2020-01-01 is before made_on") == "resolved_on 2020-01-01 is before made_on."
    assert sentence("Say why.") == "Say why."
