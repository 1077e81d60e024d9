"""Request guards: headers on every response, the Origin check on POST, sessions and roles.

The session is Flask's signed cookie holding the reviewer's id, their session epoch and
when it was last used. Each request checks the epoch against the database (a changed
password bumps it, ending every other session) and the idle time against the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, abort, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from tracker.accounts.models import Credential
from tracker.models import Reviewer
from tracker.web.state import Viewer, db, now, state, viewer

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
# The built scorecard site sizes its bars with style attributes; it runs no script at all.
SITE_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def add_headers(response: Response) -> Response:
    """The security headers, on every response."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint in ("site.file", "site.index"):
        response.headers["Content-Security-Policy"] = SITE_CSP
    if request.endpoint not in ("static", "site.file", "site.index", "site.stylesheet"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def same_origin() -> bool:
    """Whether a state-changing request came from this site (Origin, else Sec-Fetch-Site)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        mine = urlsplit(request.host_url)
        theirs = urlsplit(origin)
        return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc)
    if origin == "null":
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    # Neither header: not a browser (a script with its own CSRF token), or a very old one.
    return fetch_site in (None, "same-origin", "none")


def check_origin() -> None:
    """Refuse a cross-site POST before any view sees it."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and not same_origin():
        abort(403, "This form was sent from another site.")


def sign_in(reviewer: Reviewer, epoch: int) -> None:
    """Start a session for `reviewer` (a new cookie, so a planted session id cannot be reused)."""
    session.clear()
    session.permanent = True
    session.update(rid=reviewer.id, epoch=epoch, seen=now().timestamp())


def sign_out() -> None:
    """End this browser's session."""
    session.clear()


def load_viewer() -> None:
    """Find the signed-in reviewer; an ended or idle session is cleared."""
    from flask import g

    g.viewer = None
    rid = session.get("rid")
    if rid is None:
        return
    idle = dt.timedelta(minutes=state().app.settings.web.session_idle_minutes)
    seen = session.get("seen")
    moment = now()
    if not isinstance(seen, int | float) or moment - dt.datetime.fromtimestamp(seen, dt.UTC) > idle:
        session.clear()
        return
    row = (
        db()
        .execute(
            select(Reviewer, Credential.session_epoch)
            .join(Credential, Credential.reviewer_id == Reviewer.id)
            .where(Reviewer.id == rid)
        )
        .first()
    )
    if row is None or row[1] != session.get("epoch"):
        session.clear()
        return
    reviewer = row[0]
    g.viewer = Viewer(reviewer.id, reviewer.handle, reviewer.name, reviewer.role, reviewer.timezone)
    session["seen"] = moment.timestamp()


def login_required(view: F) -> F:
    """Send an anonymous visitor to the sign-in page, keeping where they were going."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if viewer() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _role_required(allowed: Callable[[Viewer], bool]) -> Callable[[F], F]:
    """A decorator: anonymous visitors go to sign in; signed-in ones not `allowed` get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = viewer()
            if who is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not allowed(who):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


admin_required = _role_required(lambda who: who.admin)
"""Only admins; a reviewer or an editor gets 403."""
editor_required = _role_required(lambda who: who.editor)
"""Editors and admins (who record claims, sources and claims files); a reviewer gets 403."""


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (another site) goes to the queue."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("queue.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("queue.index")
    return target
