"""Passwords: argon2id hashes, checked at sign-in and rehashed when the parameters change."""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.accounts.models import Credential
from tracker.errors import TrackerError
from tracker.models import Reviewer
from tracker.services.lookup import get_reviewer

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is only a way to burn CPU
HASHER = PasswordHasher()
# Verified when the handle is unknown, so that a wrong handle takes as long as a wrong password.
_DUMMY_HASH = HASHER.hash("not a password of anyone's")


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if password.strip() != password:
        return "a password cannot start or end with spaces"
    return None


def credential(session: Session, reviewer: Reviewer) -> Credential:
    """The reviewer's credential row, made (without a password) when there is none yet."""
    found = session.get(Credential, reviewer.id)
    if found is None:
        found = Credential(reviewer_id=reviewer.id, session_epoch=0)
        session.add(found)
        session.flush()
    return found


def set_password(session: Session, handle: str, password: str, now: dt.datetime) -> Credential:
    """Store a new password for `handle`; the bumped epoch ends every session made before."""
    reviewer = get_reviewer(session, handle)
    if problem := password_problem(password):
        raise TrackerError(f"reviewer {handle!r}: {problem}")
    cred = credential(session, reviewer)
    cred.password_hash = HASHER.hash(password)
    cred.session_epoch += 1
    cred.password_changed_at = now
    session.flush()
    return cred


def find_reviewer(session: Session, login: str) -> Reviewer | None:
    """The reviewer whose handle, or email (any case), is `login`."""
    login = login.strip()
    if not login:
        return None
    found = session.scalars(
        select(Reviewer)
        .where(or_(Reviewer.handle == login, func.lower(Reviewer.email) == login.lower()))
        .order_by(Reviewer.id)
    ).first()
    return found


def check_password(session: Session, reviewer: Reviewer | None, password: str) -> Credential | None:
    """The reviewer's credential when `password` is theirs (rehashing it if needed), else None."""
    cred = session.get(Credential, reviewer.id) if reviewer is not None else None
    stored = cred.password_hash if cred is not None else None
    try:
        HASHER.verify(stored or _DUMMY_HASH, password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    if cred is None or stored is None:
        return None
    if HASHER.check_needs_rehash(stored):
        cred.password_hash = HASHER.hash(password)
        session.flush()
    return cred
