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
from sqlalchemy.orm import Session

from tracker.app import App
from tracker.db import take_write_lock, utcnow

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

    @property
    def editor(self) -> bool:
        """Whether they may record claims and sources (editors, and admins)."""
        return self.role in ("editor", "admin")


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
            # A POST reads, then writes: on SQLite it takes the write lock at BEGIN (IMMEDIATE),
            # so it waits its turn instead of failing after another process committed.
            take_write_lock(session)
    return session


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
