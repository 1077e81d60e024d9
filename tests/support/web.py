"""Helpers for the web app's tests: an App on the test database, a signed-in test client, CSRF tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tracker.accounts.passwords import set_password
from tracker.app import App
from tracker.models import Reviewer
from tracker.web import create_app

PASSWORD = "correct horse battery"
ORIGIN = "http://localhost"


def make_app(db_url: str, tmp_path: Path, **settings: str) -> App:
    """An App on `db_url` whose site folder is in `tmp_path` (settings from a config file)."""
    lines = [f'database_url = "{db_url}"', "[report]", f'out_dir = "{tmp_path / "site"}"']
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


@pytest.fixture
def tracker_app(db_url: str, tmp_path: Path) -> Iterator[App]:
    """An App on the test database (import this fixture into a test module)."""
    app = make_app(db_url, tmp_path)
    yield app
    app.close()


@pytest.fixture
def web(tracker_app: App, now: dt.datetime) -> Flask:
    """The Flask app on `tracker_app`, its clock frozen at `now`."""
    return make_web(tracker_app, now)
