"""Helpers for the web app's tests: an App on the test database, a signed-in test client, CSRF tokens."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tracker.accounts import passwords
from tracker.accounts.passwords import set_password
from tracker.app import App
from tracker.models import Claim, CriteriaVersion, Reviewer, Source
from tracker.services import resolve
from tracker.web import create_app

PASSWORD = "correct horse battery"
ORIGIN = "http://localhost"


def make_app(db_url: str, tmp_path: Path, *tables: str) -> App:
    """An App on `db_url` whose site folder is in `tmp_path` (settings from a config file);
    `tables` are more TOML tables for it, such as "[review]\nverdicts_required = 2"."""
    lines = [f'database_url = "{db_url}"', "[report]", f'out_dir = "{tmp_path / "site"}"', *tables]
    config = tmp_path / "tracker.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return App(config_file=config)


def make_web(app: App, now: dt.datetime) -> Flask:
    """The Flask app with the clock frozen at `now`."""
    flask_app = create_app(app, clock=lambda: now)
    flask_app.config["TESTING"] = True
    return flask_app


def give_password(session: Session, reviewer: Reviewer, now: dt.datetime, password: str = PASSWORD) -> None:
    """Set the reviewer's password (as `tracker reviewers set-password` would)."""
    set_password(session, reviewer.handle, password, now)


def soup(response: Any) -> BeautifulSoup:
    """The response's HTML, parsed."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def hidden_fields(client: FlaskClient, path: str, selector: str = "#resolve form") -> dict[str, str]:
    """The hidden inputs (CSRF token, the claim's version) of the form at `selector` on `path`."""
    form = soup(client.get(path)).select_one(selector)
    assert form is not None, f"no {selector} on {path}"
    return {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """A CSRF token of this client's session, read from a page's form."""
    page = soup(client.get(path))
    field = page.find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no CSRF token on {path}"
    return str(field["value"])


def post(client: FlaskClient, path: str, data: dict[str, Any], *, token_from: str = "/login") -> Any:
    """POST a form the way a browser on this site would: with the CSRF token and the Origin header."""
    return client.post(
        path, data={"csrf_token": csrf(client, token_from), **data}, headers={"Origin": ORIGIN}
    )


def login(client: FlaskClient, handle: str, password: str = PASSWORD) -> Any:
    """Sign the client in; returns the response."""
    return post(client, "/login", {"login": handle, "password": password})


# Cheap argon2 parameters: the tests hash and check dozens of passwords, and what they test
# is the flow, not argon2's cost (a test checks that the real parameters rehash them).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def tracker_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """An App on the test database (import this fixture into a test module), with cheap hashes."""
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)
    app = make_app(db_url, tmp_path)
    yield app
    app.close()


@pytest.fixture
def web(tracker_app: App, now: dt.datetime) -> Flask:
    """The Flask app on `tracker_app`, its clock frozen at `now`."""
    return make_web(tracker_app, now)


@dataclass
class Scene:
    """Who and what the web tests use: an admin, an editor, an assigned and an unassigned reviewer, four claims."""

    admin: str = "boss"
    editor: str = "eve"
    assigned: str = "ada"
    unassigned: str = "bob"
    overdue: str = "rates-fall"
    soon: str = "snow-soon"
    upcoming: str = "election-later"
    resolved: str = "gdp-fact"
    source: str = "daily"


def _claim(session: Session, source: Source, reviewers: list[Reviewer], key: str, **fields: Any) -> Claim:
    criteria = fields.pop("criteria", f"Resolves true if {key} is reported by the deadline.")
    claim = Claim(
        key=key,
        kind=fields.pop("kind", "prediction"),
        statement=fields.pop("statement", f"The claim {key} will come true."),
        quote=fields.pop("quote", f"It is likely that {key} happens."),
        made_on=fields.pop("made_on", dt.date(2026, 10, 1)),
        probability=fields.pop("probability", 0.7),
        confidence=fields.pop("confidence", "likely"),
        criteria=criteria,
        source=source,
        status="open",
        **fields,
    )
    claim.criteria_versions = [CriteriaVersion(version=1, criteria=criteria, deadline=claim.deadline)]
    claim.reviewers = list(reviewers)
    session.add(claim)
    session.flush()
    return claim


def seed(app: App, now: dt.datetime, **texts: str) -> Scene:
    """Make the scene's reviewers (all with PASSWORD) and claims; `texts` override the overdue claim's fields."""
    scene = Scene()
    today = now.date()
    with app.begin() as session:
        people = {
            handle: Reviewer(
                handle=handle, name=name, email=f"{handle}@example.org", timezone="UTC", role=role
            )
            for handle, name, role in (
                (scene.admin, "Boss", "admin"),
                (scene.editor, "Eve", "editor"),
                (scene.assigned, "Ada", "reviewer"),
                (scene.unassigned, "Bob", "reviewer"),
            )
        }
        session.add_all(people.values())
        session.flush()
        for reviewer in people.values():
            give_password(session, reviewer, now)
        source = Source(slug=scene.source, name=texts.pop("source_name", "The Daily"), kind="outlet")
        session.add(source)
        ada = [people[scene.assigned]]
        _claim(session, source, ada, scene.overdue, deadline=today - dt.timedelta(days=3), **texts)
        _claim(session, source, ada, scene.soon, deadline=today + dt.timedelta(days=5))
        _claim(session, source, ada, scene.upcoming, deadline=today + dt.timedelta(days=60))
        fact = _claim(session, source, ada, scene.resolved, kind="fact", probability=None, confidence=None)
        resolve(
            session,
            fact.key,
            "mostly-true",
            ["https://example.org/gdp"],
            "Checked.",
            scene.assigned,
            None,
            now,
        )
    return scene


def signed_in(flask_app: Flask, handle: str) -> FlaskClient:
    """A test client signed in as `handle`."""
    client = flask_app.test_client()
    response = login(client, handle)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def text(response: Any) -> str:
    """The page's visible text, whitespace collapsed."""
    return " ".join(soup(response).get_text(" ").split())


@contextmanager
def served(flask_app: Flask) -> Iterator[str]:
    """The app on a real waitress server on a free loopback port, in a thread; yields its base URL."""
    from waitress import create_server

    sockets: dict[int, Any] = {}
    server: Any = create_server(flask_app, map=sockets, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:

        def close_all() -> None:
            server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
            for channel in list(sockets.values()):
                channel.close()

        server.trigger.pull_trigger(close_all)
        thread.join(timeout=10)


AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page (axe-core from npm, tests/support)."""
    assert AXE.is_file(), f"{AXE} is missing: run `npm install` in tests/support"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
