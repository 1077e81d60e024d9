"""The secret key every web process shares, and the personal calendar tokens.

The key comes from the settings (`secret_key`, TRACKER_SECRET_KEY) when set. Otherwise
the first process to need it generates one and stores it in `app_secrets`; a second
process racing it loses the insert and reads the winner's, so all of them sign alike.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tracker.accounts.models import AppSecret, Credential
from tracker.accounts.passwords import credential
from tracker.models import Reviewer

SECRET_KEY = "secret_key"


def stored_secret(session: Session, name: str, now: dt.datetime) -> str:
    """The stored secret `name`, generated and stored first if there is none."""
    found = session.scalar(select(AppSecret.value).where(AppSecret.name == name))
    if found is not None:
        return found
    values = {"name": name, "value": secrets.token_urlsafe(48), "created_at": now}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(AppSecret).values(**values).on_conflict_do_nothing(index_elements=["name"]))
    value = session.scalar(select(AppSecret.value).where(AppSecret.name == name))
    assert value is not None  # inserted, or inserted by the process that won the race
    return value


def new_calendar_token(session: Session, reviewer: Reviewer) -> str:
    """Give the reviewer a new calendar token; the URL with the old one stops working."""
    cred = credential(session, reviewer)
    cred.calendar_token = secrets.token_urlsafe(24)
    session.flush()
    return cred.calendar_token


def reviewer_for_calendar(session: Session, token: str) -> Reviewer | None:
    """The reviewer whose calendar token is `token`, or None."""
    if not token:
        return None
    return session.scalar(
        select(Reviewer)
        .join(Credential, Credential.reviewer_id == Reviewer.id)
        .where(Credential.calendar_token == token)
    )
