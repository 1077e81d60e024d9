"""Signing in and out, throttling, sessions ended by a new password, the setup link, headers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from support.web import ORIGIN, PASSWORD, csrf, give_password, login, post, soup, tracker_app, web

from tracker.app import App
from tracker.models import Reviewer
from tracker.web import create_app
from tracker.web.views.auth import setup_serializer

__all__ = ["tracker_app", "web"]


def _reviewer(tracker_app: App, now: dt.datetime, **fields: Any) -> Reviewer:
    with tracker_app.begin() as session:
        reviewer = Reviewer(
            handle=fields.get("handle", "ada"),
            name="Ada",
            email=fields.get("email", "ada@example.org"),
            timezone="UTC",
            role=fields.get("role", "reviewer"),
        )
        session.add(reviewer)
        session.flush()
        if fields.get("password", True):
            give_password(session, reviewer, now)
        return reviewer


def test_sign_in_with_handle_or_email_and_out(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    _reviewer(tracker_app, now)
    client = web.test_client()
    assert client.get("/").status_code == 302
    response = login(client, "ADA@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = soup(client.get("/"))
    assert "Ada (ada)" in page.select_one("nav.app-nav").get_text()
    assert post(client, "/logout", {}, token_from="/").status_code == 302
    assert client.get("/").status_code == 302
    other = web.test_client()
    assert login(other, "ada").status_code == 302


def test_wrong_password_is_refused_and_five_failures_lock_the_handle(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    _reviewer(tracker_app, now)
    client = web.test_client()
    for _ in range(5):
        response = login(client, "ada", "not the password")
        assert response.status_code == 400
        assert "do not match" in soup(response).select_one("[role=alert]").get_text()
    response = login(client, "ada")  # right password, but locked
    assert response.status_code == 400
    assert "Too many failed sign-ins. Try again in 15 minutes." in response.get_data(as_text=True)
    # A second process (a second Flask app on the same database) sees the same count.
    later = create_app(tracker_app, clock=lambda: now + dt.timedelta(minutes=16))
    later.config["TESTING"] = True
    assert login(later.test_client(), "ada").status_code == 302


def test_a_new_password_ends_the_other_sessions(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    _reviewer(tracker_app, now)
    first, second = web.test_client(), web.test_client()
    login(first, "ada")
    login(second, "ada")
    response = post(
        first,
        "/settings",
        {"password": "a new password!", "repeat": "a new password!"},
        token_from="/settings",
    )
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    assert login(second, "ada", "a new password!").status_code == 302


def test_sessions_expire_when_idle(tracker_app: App, now: dt.datetime) -> None:
    _reviewer(tracker_app, now)
    clock = [now]
    flask_app = create_app(tracker_app, clock=lambda: clock[0])
    flask_app.config["TESTING"] = True
    client = flask_app.test_client()
    login(client, "ada")
    clock[0] = now + dt.timedelta(hours=11)
    assert client.get("/").status_code == 200
    clock[0] += dt.timedelta(hours=12, minutes=1)
    assert client.get("/").status_code == 302


def test_post_without_csrf_or_from_another_site_is_refused(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    _reviewer(tracker_app, now)
    client = web.test_client()
    no_token = client.post("/login", data={"login": "ada", "password": PASSWORD}, headers={"Origin": ORIGIN})
    assert no_token.status_code == 400
    token = csrf(client)
    cross = client.post(
        "/login",
        data={"csrf_token": token, "login": "ada", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    fetch = client.post(
        "/login",
        data={"csrf_token": token, "login": "ada", "password": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert fetch.status_code == 403


def test_security_headers_and_cookie_flags(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    _reviewer(tracker_app, now)
    client = web.test_client()
    response = login(client, "ada")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = web.test_client()
    response = secure.post(
        "/login",
        base_url="https://localhost",
        data={"csrf_token": csrf(secure), "login": "ada", "password": PASSWORD},
        headers={"Origin": "https://localhost"},
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_next_survives_sign_in_and_never_leaves_the_site(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    _reviewer(tracker_app, now)
    client = web.test_client()
    assert client.get("/status").headers["Location"] == "/login?next=/status"
    response = post(client, "/login", {"login": "ada", "password": PASSWORD, "next": "/status"})
    assert response.headers["Location"] == "/status"
    other = web.test_client()
    response = post(other, "/login", {"login": "ada", "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_setup_link_sets_a_first_password_once(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    admin = _reviewer(tracker_app, now, handle="boss", email="boss@example.org", role="admin", password=False)
    token = setup_serializer(str(web.secret_key)).dumps({"rid": admin.id, "epoch": 0})
    client = web.test_client()
    assert client.get(f"/setup/{token}").status_code == 200
    short = post(
        client, f"/setup/{token}", {"password": "short", "repeat": "short"}, token_from=f"/setup/{token}"
    )
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    done = post(
        client, f"/setup/{token}", {"password": PASSWORD, "repeat": PASSWORD}, token_from=f"/setup/{token}"
    )
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    assert web.test_client().get(f"/setup/{token}").status_code == 404
    assert web.test_client().get("/setup/forged").status_code == 404


def test_the_generated_key_is_shared_and_a_configured_one_wins(
    tracker_app: App, now: dt.datetime, db_url: str, tmp_path: Any, monkeypatch: Any
) -> None:
    first = create_app(tracker_app, clock=lambda: now)
    second = create_app(tracker_app, clock=lambda: now)
    assert first.secret_key == second.secret_key and len(str(first.secret_key)) > 40
    monkeypatch.setenv("TRACKER_SECRET_KEY", "configured key of some length")
    configured = App(config_file=tmp_path / "tracker.toml")
    assert create_app(configured, clock=lambda: now).secret_key == "configured key of some length"
    configured.close()


def test_a_hash_made_with_old_parameters_is_rehashed_at_sign_in(
    web: Flask, tracker_app: App, now: dt.datetime, monkeypatch: Any
) -> None:
    from argon2 import PasswordHasher

    from tracker.accounts import passwords
    from tracker.accounts.models import Credential

    reviewer = _reviewer(tracker_app, now)  # hashed with the tests' cheap parameters
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(passwords, "HASHER", stronger)
    with tracker_app.begin() as session:
        before = session.get(Credential, reviewer.id).password_hash
    assert stronger.check_needs_rehash(before)
    assert login(web.test_client(), "ada").status_code == 302
    with tracker_app.begin() as session:
        after = session.get(Credential, reviewer.id).password_hash
    assert after != before and not stronger.check_needs_rehash(after)
    assert login(web.test_client(), "ada").status_code == 302


def test_the_password_is_checked_without_the_write_lock_and_a_change_meanwhile_wins(
    tracker_app: App, now: dt.datetime
) -> None:
    from tracker.accounts.passwords import accept, check_password, set_password

    reviewer = _reviewer(tracker_app, now)
    # Another writer holds the write lock (SQLite: BEGIN IMMEDIATE) while the passwords are checked.
    with tracker_app.begin(), tracker_app.session_factory() as reading:
        checked = check_password(reading, reading.get(Reviewer, reviewer.id), PASSWORD)
        wrong = check_password(reading, reading.get(Reviewer, reviewer.id), "not the password")
        nobody = check_password(reading, None, PASSWORD)
    assert checked.ok and not wrong.ok and not nobody.ok
    with tracker_app.begin() as session:
        assert accept(session, wrong) is None and accept(session, nobody) is None
        set_password(session, "ada", "a brand new password", now)
    with tracker_app.begin() as session:
        # Checked against the old hash: the change made since ends that sign-in.
        assert accept(session, checked) is None


def test_passwords_use_a_bounded_argon2id_setting() -> None:
    from argon2 import PasswordHasher

    from tracker.accounts import passwords

    assert passwords.HASHER.memory_cost <= 19 * 1024 and passwords.HASHER.type.name == "ID"
    assert passwords.HASHER.check_needs_rehash(PasswordHasher().hash("made with argon2-cffi's default"))
