"""What the Flask app holds for tracker: the App, the clock, and the per-request unit of work.

Each request opens at most one session from the App's session factory (on first use),
commits it before the response goes out, and rolls it back on any error. Nothing that
another process needs is kept here: sessions, throttling and the key live in the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app, g, request
from sqlalchemy import delete, false
from sqlalchemy.orm import Session

from tracker.accounts.models import LoginAttempt
from tracker.app import App
from tracker.db import utcnow

if TYPE_CHECKING:
    from tracker.web.rebuild import Rebuilder


@dataclass
class WebState:
    """The App and the clock (tests freeze it) behind one Flask app."""

    app: App
    clock: Callable[[], dt.datetime] = utcnow
    # Rebuilds scorecard pages after a verdict; None: the site is left alone (most tests).
    rebuilder: Rebuilder | None = None


@dataclass(frozen=True)
class Viewer:
    """The signed-in reviewer, as the views and templates need them."""

    id: int
    handle: str
    name: str
    role: str
    timezone: str

    @property
    def admin(self) -> bool:
        """Whether they may do everything, assigning included."""
        return self.role == "admin"


def state(flask_app: Flask | None = None) -> WebState:
    """The WebState of the current (or the given) Flask app."""
    found = (flask_app or current_app).extensions["tracker"]
    assert isinstance(found, WebState)
    return found


def now() -> dt.datetime:
    """The time of this request (the frozen one in tests)."""
    return state().clock()


def db() -> Session:
    """This request's session: opened on first use, committed or rolled back when the request ends."""
    session: Session | None = g.get("db")
    if session is None:
        session = state().app.session_factory()
        session.begin()
        g.db = session
        if request.method == "POST":
            take_write_lock(session)
    return session


def take_write_lock(session: Session) -> None:
    """On SQLite, take the database's write lock before the request reads anything.

    A POST reads, then writes (a verdict after comparing versions, a login attempt). A
    deferred SQLite transaction that read before another process committed cannot then
    write at all ("database is locked", busy_timeout or not), so a POST's first statement
    is a write that matches no row: it waits its turn for the lock, and everything after
    it reads the latest state. PostgreSQL needs nothing: the claim's row lock orders writers.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.execute(delete(LoginAttempt).where(false()))


def finish(ok: bool) -> None:
    """Commit (ok) or roll back this request's session, if it opened one, and close it."""
    session: Session | None = g.pop("db", None)
    if session is None:
        return
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def viewer() -> Viewer | None:
    """The signed-in reviewer of this request, or None."""
    found: Viewer | None = g.get("viewer")
    return found
