"""Signed, expiring links: from reminder emails to a claim's resolve form, and to set a password.

A resolve link carries only the claim's id, signed with the shared secret key and stamped
with when it was made; the web app checks both (`web.link_days`). Opening one records
nothing, so a mail scanner that follows every link changes nothing.

A setup link (`/setup/<token>`: the first-run link `tracker up` prints, and the invitation
an admin emails) carries the reviewer's id and their credential's session epoch. It works
until a password is set, or the epoch moves (a newer invitation), or SETUP_MAX_AGE passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tracker.accounts.keys import SECRET_KEY, stored_secret
from tracker.config import Settings

LINK_SALT = "tracker-resolve-link"
SETUP_SALT = "tracker-setup"
SETUP_MAX_AGE = 7 * 24 * 3600


def link_serializer(secret_key: str) -> URLSafeTimedSerializer:
    """Signs (and checks) the links to a claim's resolve form."""
    return URLSafeTimedSerializer(secret_key, salt=LINK_SALT)


def configured_key(session: Session, settings: Settings, now: dt.datetime) -> str:
    """The configured secret key, else the one stored in the database (made on first use)."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    return stored_secret(session, SECRET_KEY, now)


def link_signer(session: Session, settings: Settings, now: dt.datetime) -> Callable[[str], str]:
    """A function from a claim's id to the signed token of its link (`/r/<token>`)."""
    serializer = link_serializer(configured_key(session, settings, now))

    def sign(key: str) -> str:
        return str(serializer.dumps(key))

    return sign


def setup_serializer(secret_key: str) -> URLSafeTimedSerializer:
    """Signs (and checks) the one-time links that set a reviewer's first password."""
    return URLSafeTimedSerializer(secret_key, salt=SETUP_SALT)


def setup_token(secret_key: str, reviewer_id: int, epoch: int) -> str:
    """The token of a reviewer's set-password link, good while their epoch is `epoch` and no password is set."""
    return str(setup_serializer(secret_key).dumps({"rid": reviewer_id, "epoch": epoch}))
