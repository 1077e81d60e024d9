"""Passwords: argon2id hashes, checked at sign-in and rehashed when the parameters change."""

from __future__ import annotations

import datetime as dt
import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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
# OWASP's argon2id setting (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's default of
# 64 MiB: ten sign-ins at once would otherwise take 640 MB in one web process. Hashes made
# with other parameters are rehashed at the next sign-in.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Every hash of a process runs on one thread of its own. A burst of sign-ins then waits its
# turn (a few tens of milliseconds each), and memory stays bounded: glibc keeps a freed
# 19 MiB buffer in the arena of the thread that used it, so hashing on each of a web
# process's request threads would keep one per thread (measured: +155 MB with 8 threads).
_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-argon2")


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified when the handle is unknown, so that a wrong handle takes as long as a wrong
    # password; made on first use, not when the module is imported.
    return _HASHING.submit(hasher.hash, "not a password of anyone's").result()


def _hash(password: str) -> str:
    return _HASHING.submit(HASHER.hash, password).result()


def _verify(stored: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return _HASHING.submit(verify).result()


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
    cred.password_hash = _hash(password)
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


@dataclass(frozen=True)
class Checked:
    """What checking a password found, before anything is written."""

    reviewer_id: int | None  # whose handle or email was typed (None: nobody's)
    stored: str | None  # the hash it was checked against
    ok: bool  # the password matched it
    rehash: str | None = None  # a new hash, when the stored one used old parameters


def check_password(session: Session, reviewer: Reviewer | None, password: str) -> Checked:
    """Check `password` against the reviewer's hash; reads only, so it can run outside the write lock.

    The hash is the slow part of a sign-in (tens of milliseconds, by design): done here,
    in a read, it does not hold up every other write of the installation meanwhile.
    """
    cred = session.get(Credential, reviewer.id) if reviewer is not None else None
    stored = cred.password_hash if cred is not None else None
    ok = _verify(stored or _dummy_hash(HASHER), password[:MAX_LENGTH]) and stored is not None
    rehash = _hash(password) if ok and stored is not None and HASHER.check_needs_rehash(stored) else None
    return Checked(reviewer.id if reviewer is not None else None, stored, ok, rehash)


def accept(session: Session, checked: Checked) -> Credential | None:
    """In the write: the credential a successful check signs in with, or None.

    None also when the password changed since it was checked (the check read the old
    hash), so a sign-in never outlives the change it raced with.
    """
    if not checked.ok or checked.reviewer_id is None:
        return None
    cred = session.get(Credential, checked.reviewer_id, with_for_update=True)
    if cred is None or cred.password_hash != checked.stored:
        return None
    if checked.rehash is not None:
        cred.password_hash = checked.rehash
        session.flush()
    return cred
