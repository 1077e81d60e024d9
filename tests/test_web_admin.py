"""Sources and reviewers in the web app: forms with each problem beside its field, and invitations.

An invitation is the first-run setup link, emailed: captured here at a real SMTP server
(aiosmtpd), followed with the test client to set a password and sign in, and dead once used.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SmtpTestServer
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support.web import (
    FAST_HASHER,
    give_password,
    login,
    make_web,
    post,
    seed,
    signed_in,
    soup,
    text,
    tracker_app,
    web,
)
from test_web_forms import beside, not_marked

from tracker import services
from tracker.accounts import passwords
from tracker.app import App
from tracker.audit import AuditEntry

__all__ = ["tracker_app", "web"]


def _editor(app: App, now: dt.datetime) -> FlaskClient:
    with app.begin() as session:
        give_password(
            session, services.add_reviewer(session, "eda", "Eda", "eda@example.org", role="editor"), now
        )
    return signed_in(make_web(app, now), "eda")


def said(page: object, field_id: str) -> str:
    """The problem beside the field, lower-cased (the page starts it with a capital)."""
    return beside(page, field_id).lower()  # type: ignore[arg-type]


def _value(page: object, field_id: str) -> str:
    field = page.select_one(f"#{field_id}")  # type: ignore[attr-defined]
    assert field is not None, field_id
    if field.name == "textarea":
        return str(field.get_text())
    if field.name == "select":
        chosen = field.select_one("option[selected]")
        return str(chosen["value"]) if chosen is not None else ""
    return str(field.get("value", ""))


def test_each_source_problem_is_beside_its_field_and_the_typed_values_stay(
    tracker_app: App, now: dt.datetime
) -> None:
    seed(tracker_app, now)
    client = _editor(tracker_app, now)
    typed = {"slug": "Bad Slug", "name": " ", "kind": "planet", "url": "ftp://example.org", "notes": "Kept."}
    response = post(client, "/sources/new", typed, token_from="/sources/new")
    assert response.status_code == 400
    page = soup(response)
    assert "may hold only lowercase letters" in said(page, "slug")
    assert said(page, "name") == "problem: name is required."
    assert "source kind 'planet' is not one of outlet, person, organisation" in said(page, "kind")
    assert "is not an absolute http(s) url" in said(page, "url")
    not_marked(page, "notes", "member_of")
    assert (_value(page, "slug"), _value(page, "url"), _value(page, "notes")) == (
        "Bad Slug",
        "ftp://example.org",
        "Kept.",
    )
    with tracker_app.begin() as session:
        assert [s.slug for s in services.list_sources(session)] == ["daily"]


def test_a_source_is_added_then_edited_and_cannot_be_its_own_member(
    tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = _editor(tracker_app, now)
    added = post(
        client,
        "/sources/new",
        {"slug": "group", "name": "The Group", "kind": "organisation", "url": "https://group.example.org"},
        token_from="/sources/new",
    )
    assert added.status_code == 302 and added.headers["Location"] == "/sources"
    listing = text(client.get("/sources"))
    assert "Source group is added." in listing and "The Group" in listing
    edit = f"/sources/{scene.source}/edit"
    assert _value(soup(client.get(edit)), "name") == "The Daily"
    saved = post(client, edit, {"name": "The Daily", "kind": "outlet", "member_of": "group"}, token_from=edit)
    assert saved.status_code == 302
    # The group inside the Daily, which is inside the group: refused, beside the field.
    loop = post(
        client,
        "/sources/group/edit",
        {"name": "The Group", "kind": "organisation", "member_of": "daily"},
        token_from=edit,
    )
    assert loop.status_code == 400
    assert "'daily' is 'group' or one of its members" in said(soup(loop), "member_of")
    with tracker_app.begin() as session:
        daily, group = services.get_source(session, scene.source), services.get_source(session, "group")
        assert daily.parent is not None and daily.parent.slug == "group" and group.parent is None
    assert client.get("/sources/nobody/edit").status_code == 404


def test_each_reviewer_problem_is_beside_its_field_and_the_typed_values_stay(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.admin)
    typed = {
        "handle": scene.assigned,
        "name": "Ada Again",
        "email": "not-an-email",
        "timezone": "Mars/Base",
        "role": "king",
    }
    response = post(client, "/reviewers/new", typed, token_from="/reviewers/new")
    assert response.status_code == 400
    page = soup(response)
    assert "a reviewer with this handle already exists" in said(page, "handle")
    assert "'not-an-email' is not an e-mail address: an email address must have an @-sign" in said(
        page, "email"
    )
    assert "unknown timezone 'mars/base'" in said(page, "timezone")
    assert "role 'king' is not one of reviewer, editor, admin" in said(page, "role")
    not_marked(page, "name", "subscribed")
    # The summary lists them in the form's order, not the service's.
    links = [str(a["href"]) for a in page.select(".problem-summary a")]
    assert links == ["#handle", "#email", "#timezone", "#role"]
    assert [_value(page, f) for f in ("handle", "name", "email", "timezone")] == [
        scene.assigned,
        "Ada Again",
        "not-an-email",
        "Mars/Base",
    ]


def test_a_reviewer_is_added_and_edited_and_the_only_admin_stays_one(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.admin)
    fields = {
        "name": "Cleo",
        "email": "cleo@example.org",
        "timezone": "Asia/Seoul",
        "role": "editor",
        "subscribed": "y",
    }
    added = post(client, "/reviewers/new", {"handle": "cleo", **fields}, token_from="/reviewers/new")
    assert added.status_code == 302
    listing = soup(client.get("/reviewers"))
    row = listing.select_one("tr#cleo")
    assert (
        row is not None and "no password yet" in row.get_text() and row.select_one("form[action$='/invite']")
    )
    assert listing.select_one(f"tr#{scene.admin} form[action$='/invite']") is None  # has a password
    edit = f"/reviewers/{scene.admin}/edit"
    demoted = post(
        client,
        edit,
        {"name": "Boss", "email": "boss@example.org", "timezone": "UTC", "role": "editor"},
        token_from=edit,
    )
    assert demoted.status_code == 400
    assert "the only admin cannot stop being one" in said(soup(demoted), "role")
    with tracker_app.begin() as session:
        cleo = services.get_reviewer(session, "cleo")
        assert (cleo.role, cleo.timezone, cleo.subscribed) == ("editor", "Asia/Seoul", True)
        assert services.get_reviewer(session, scene.admin).role == "admin"


@pytest.fixture
def mailing_app(
    db_url: str, tmp_path: Path, smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[App]:
    """An App whose mail goes to the test SMTP server."""
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'database_url = "{db_url}"\n'
        f'[report]\nout_dir = "{tmp_path / "site"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "none"\n'
        '[reminders]\nresolve_url = "https://review.example.org/"\n',
        encoding="utf-8",
    )
    app = App(config_file=config)
    yield app
    app.close()


def _invite(client: FlaskClient, smtp_server: SmtpTestServer, handle: str) -> str:
    """Press the reviewer's invite button; the path of the link in the email that arrives."""
    before = len(smtp_server.messages)
    response = post(client, f"/reviewers/{handle}/invite", {}, token_from="/reviewers")
    assert response.status_code == 302
    assert len(smtp_server.messages) == before + 1, text(client.get("/reviewers"))
    mail = smtp_server.messages[-1]
    assert f"{handle}@example.org" in mail["To"] and "set your password" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https://review\.example\.org(/setup/\S+)", body)
    assert len(links) == 1, body
    return links[0]


def test_an_invitation_is_emailed_and_its_link_sets_a_password_once(
    mailing_app: App, now: dt.datetime, smtp_server: SmtpTestServer
) -> None:
    scene = seed(mailing_app, now)
    flask_app = make_web(mailing_app, now)
    admin = signed_in(flask_app, scene.admin)
    fields = {
        "handle": "cleo",
        "name": "Cleo",
        "email": "cleo@example.org",
        "timezone": "UTC",
        "role": "reviewer",
    }
    assert post(admin, "/reviewers/new", fields, token_from="/reviewers/new").status_code == 302
    first = _invite(admin, smtp_server, "cleo")
    with mailing_app.begin(write=False) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "reviewer.invite")).one()
        assert (entry.entity_key, entry.after, entry.actor) == (
            "cleo",
            {"email": "cleo@example.org"},
            scene.admin,
        )
    assert "An invitation is on its way to cleo@example.org" in text(admin.get("/reviewers"))
    link = _invite(admin, smtp_server, "cleo")  # a second invitation ends the first
    invited = flask_app.test_client()
    assert invited.get(first).status_code == 404
    page = invited.get(link)
    assert page.status_code == 200 and "Welcome, Cleo (cleo)" in text(page)
    new_password = "cleo's own passphrase"
    done = post(invited, link, {"password": new_password, "repeat": new_password}, token_from=link)
    assert done.status_code == 302
    assert invited.get("/").status_code == 200  # signed in
    # The link is spent, and the password is hers.
    assert invited.get(link).status_code == 404
    assert flask_app.test_client().get(link).status_code == 404
    assert login(flask_app.test_client(), "cleo", new_password).status_code == 302
    # She has a password now: no more invitations.
    refused = post(admin, "/reviewers/cleo/invite", {}, token_from="/reviewers")
    assert (
        refused.status_code == 302
        and "No invitation was sent to cleo: cleo already has a password" in text(admin.get("/reviewers"))
    )


def test_without_a_mail_server_the_invitation_is_not_sent_and_the_page_says_why(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    with tracker_app.begin() as session:
        services.add_reviewer(session, "cleo", "Cleo", "cleo@example.org")
    # The default channel is the console: the invitation goes there (stdout), for a local setup.
    client = signed_in(web, scene.admin)
    assert post(client, "/reviewers/cleo/invite", {}, token_from="/reviewers").status_code == 302
    assert "An invitation is on its way" in text(client.get("/reviewers"))
