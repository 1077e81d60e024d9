"""The web app's side of the audit log: what its requests record, and the admins' /audit and /audit.csv."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from support.web import (
    ORIGIN,
    PASSWORD,
    axe_violations,
    hidden_fields,
    make_web,
    post,
    seed,
    served,
    signed_in,
    soup,
    text,
    tracker_app,
    web,
)
from test_web_browser import browser

from tracker import audit
from tracker.accounts.models import Credential
from tracker.app import App
from tracker.audit import AuditEntry
from tracker.audit.query import CSV_COLUMNS
from tracker.models import Reviewer
from tracker.web.views.auth import setup_serializer

__all__ = ["browser", "tracker_app", "web"]


def entries(app: App, **where: Any) -> list[AuditEntry]:
    with app.begin(write=False) as session:
        return list(session.scalars(select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)))


def _rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_web_resolve_is_recorded_as_the_signed_in_reviewers(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"
    response = client.post(
        f"{path}/resolve",
        data={
            **hidden_fields(client, path, "#resolve form"),
            "verdict": "true",
            "evidence": "https://example.org/a",
        },
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 302
    recorded = entries(tracker_app, entity_key=scene.overdue, interface="web")
    assert [e.action for e in recorded] == ["claim.update", "verdict.add"]
    with tracker_app.begin(write=False) as session:
        ada = session.scalars(select(Reviewer).where(Reviewer.handle == scene.assigned)).one()
    assert {(e.actor, e.actor_id, e.at) for e in recorded} == {(scene.assigned, ada.id, now)}


def test_an_admins_assignment_is_theirs(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    boss = signed_in(web, scene.admin)
    response = post(boss, f"/claims/{scene.upcoming}/assign", {"handle": scene.unassigned})
    assert response.status_code == 302
    (entry,) = entries(tracker_app, action="assignment.add", interface="web")
    assert (entry.actor, entry.entity_key, entry.after) == (
        scene.admin,
        scene.upcoming,
        {"reviewer": scene.unassigned},
    )


def test_sign_ins_are_recorded_and_failed_ones_are_kept_without_the_password(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    signed_in(web, scene.assigned)
    wrong = "not the password at all"
    failed = post(web.test_client(), "/login", {"login": " Ada-Typo ", "password": wrong})
    assert failed.status_code == 400  # and yet its entry is committed
    ok, bad = entries(tracker_app, action="login.success"), entries(tracker_app, action="login.failure")
    assert [(e.actor, e.entity_key, e.interface) for e in ok] == [(scene.assigned, scene.assigned, "web")]
    assert [(e.actor, e.actor_id, e.entity_key, e.after) for e in bad] == [
        (audit.ANONYMOUS, None, "Ada-Typo", {"address": "127.0.0.1"})
    ]
    everything = json.dumps([[e.before, e.after, e.actor, e.entity_key] for e in entries(tracker_app)])
    assert wrong not in everything and PASSWORD not in everything


def test_throttled_sign_ins_are_recorded_as_refused(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    for _ in range(6):
        post(web.test_client(), "/login", {"login": scene.unassigned, "password": "wrong password!"})
    refused = [e for e in entries(tracker_app, action="login.failure") if (e.after or {}).get("refused")]
    assert len(refused) == 1 and refused[0].entity_key == scene.unassigned


def test_password_changes_are_recorded_without_the_hash(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    new = "another long password"
    response = post(client, "/settings", {"password": new, "repeat": new}, token_from="/settings")
    assert response.status_code == 302
    (entry,) = entries(tracker_app, action="password.change", interface="web")
    assert (entry.actor, entry.entity_key, entry.before, entry.after) == (
        scene.assigned,
        scene.assigned,
        None,
        None,
    )
    with tracker_app.begin(write=False) as session:
        hashes = list(session.scalars(select(Credential.password_hash)))
    everything = json.dumps([[e.before, e.after, e.actor, e.entity_key] for e in entries(tracker_app)])
    assert all(h and h not in everything for h in hashes) and new not in everything


def test_a_setup_link_sets_the_password_as_its_reviewer(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    with tracker_app.begin() as session:
        newcomer = Reviewer(handle="newcomer", name="New", email="new@example.org", role="admin")
        session.add(newcomer)
    token = setup_serializer(str(web.secret_key)).dumps({"rid": newcomer.id, "epoch": 0})
    client = web.test_client()
    done = post(
        client, f"/setup/{token}", {"password": PASSWORD, "repeat": PASSWORD}, token_from=f"/setup/{token}"
    )
    assert done.status_code == 302
    (entry,) = entries(tracker_app, action="password.change")
    assert (entry.actor, entry.actor_id, entry.interface) == ("newcomer", newcomer.id, "web")


# --- the page and the download -------------------------------------------------------------------


def _busy_log(tracker_app: App, now: dt.datetime, count: int) -> None:
    """`count` sign-in entries, one a day back from `now`, alternating between two people."""
    with tracker_app.begin() as session:
        for n in range(count):
            at = now - dt.timedelta(days=n)
            actor = audit.Actor(audit.Interface.WEB, "ada" if n % 2 else "bob", clock=lambda at=at: at)
            audit.record(session, "login.success", "reviewer", actor.label, {"n": n}, actor=actor)


def test_only_admins_see_the_log_and_the_nav_links_it_for_them(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    assert signed_in(web, scene.assigned).get("/audit").status_code == 403
    assert signed_in(web, scene.assigned).get("/audit.csv").status_code == 403
    assert soup(signed_in(web, scene.assigned).get("/")).select_one("a[href='/audit']") is None
    boss = signed_in(web, scene.admin)
    assert soup(boss.get("/")).select_one("nav a[href='/audit']") is not None
    page = boss.get("/audit")
    assert page.status_code == 200
    shown = text(page)
    assert "claim.create" in shown and "verdict.add" in shown and "login.success" in shown


def test_the_page_filters_by_claim_person_and_period_newest_first(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    boss = signed_in(web, scene.admin)
    by_claim = soup(boss.get(f"/audit?claim={scene.resolved}"))
    keys = {a.get_text() for a in by_claim.select("table.audit tbody a")}
    assert keys == {scene.resolved}
    actions = [c.get_text() for c in by_claim.select("table.audit tbody code")]
    assert actions == ["verdict.add", "claim.update", "criteria.add", "claim.create"]  # newest first
    _busy_log(tracker_app, now - dt.timedelta(days=10), 6)
    period = soup(boss.get("/audit?person=bob&from=2026-11-08&to=2026-11-13"))
    rows = period.select("table.audit tbody tr")
    assert [r.select_one("time")["datetime"][:10] for r in rows] == ["2026-11-13", "2026-11-11", "2026-11-09"]
    assert {r.select("td")[1].get_text() for r in rows} == {"bob"}


def test_a_bad_date_is_named_beside_its_field(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    response = signed_in(web, scene.admin).get("/audit?from=yesterday&to=2026-01-01")
    assert response.status_code == 400
    page = soup(response)
    assert "'yesterday' is not a date" in page.select_one("#e-from").get_text()
    assert page.select_one("#f-from")["aria-invalid"] == "true"
    assert signed_in(web, scene.admin).get("/audit.csv?to=never").status_code == 400


def test_the_log_is_paginated(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    _busy_log(tracker_app, now - dt.timedelta(days=1), 120)
    boss = signed_in(web, scene.admin)
    first = soup(boss.get("/audit?person=ada"))
    assert len(first.select("table.audit tbody tr")) == 50
    assert "Page 1 of 2" in first.select_one("nav.pager").get_text()
    older = first.select_one("nav.pager a[rel=next]")["href"]
    second = soup(boss.get(older))
    assert len(second.select("table.audit tbody tr")) == 10
    assert second.select_one("nav.pager a[rel=next]") is None


def test_the_csv_has_the_same_filters_and_every_column(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    boss = signed_in(web, scene.admin)
    response = boss.get(f"/audit.csv?claim={scene.resolved}")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit.csv"'
    rows = _rows(response)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["action"] for r in rows] == ["claim.create", "criteria.add", "claim.update", "verdict.add"]
    assert json.loads(rows[2]["after"]) == {"status": "resolved", "verdict": "mostly-true"}
    assert {r["key"] for r in rows} == {scene.resolved}
    # The page links to the same selection.
    link = soup(boss.get(f"/audit?claim={scene.resolved}")).select_one("a[download]")["href"]
    assert _rows(boss.get(link)) == rows


def test_the_csv_never_hands_a_spreadsheet_a_formula(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    post(web.test_client(), "/login", {"login": '=HYPERLINK("http://x")', "password": "whatever it is"})
    rows = _rows(signed_in(web, scene.admin).get("/audit.csv"))
    (failed,) = [r for r in rows if r["action"] == "login.failure"]
    assert failed["key"] == '\'=HYPERLINK("http://x")'


def test_a_rehash_at_sign_in_is_not_a_password_change(
    web: Flask, tracker_app: App, now: dt.datetime, monkeypatch: Any
) -> None:
    from argon2 import PasswordHasher

    from tracker.accounts import passwords

    scene = seed(tracker_app, now)
    before = len(entries(tracker_app, action="password.change"))
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    with tracker_app.begin(write=False) as session:
        old = set(session.scalars(select(Credential.password_hash)))
    signed_in(web, scene.assigned)
    with tracker_app.begin(write=False) as session:
        assert set(session.scalars(select(Credential.password_hash))) != old  # it was rehashed
    assert len(entries(tracker_app, action="password.change")) == before


def test_the_page_in_chromium_filters_downloads_and_passes_axe(
    browser: Any, tracker_app: App, now: dt.datetime, tmp_path: Path
) -> None:
    scene = seed(tracker_app, now)
    shots = tmp_path / "shots"
    shots.mkdir()
    with served(make_web(tracker_app, now)) as base:
        # axe-core needs its script injected, which the app's CSP would (rightly) refuse.
        page = browser.new_context(bypass_csp=True, accept_downloads=True).new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Handle or email").fill(scene.admin)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        page.get_by_role("link", name="Audit log").click()
        page.wait_for_url(f"{base}/audit")
        page.get_by_label("Claim id").fill(scene.resolved)
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"{base}/audit?claim={scene.resolved}*")
        codes = page.locator("table.audit tbody code").all_inner_texts()
        assert codes == ["verdict.add", "claim.update", "criteria.add", "claim.create"]
        assert axe_violations(page) == []
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"overflows at {width}px"
            page.screenshot(path=str(shots / f"audit-{width}.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download these entries as CSV").click()
        saved = Path(download.value.path())
        rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
        assert [r["action"] for r in rows] == ["claim.create", "criteria.add", "claim.update", "verdict.add"]
