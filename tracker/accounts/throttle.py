"""Sign-in throttling: failures counted per handle and per address, in the database.

The count lives in a table, not in one process's memory, so every web process sees
the same count. The check and the record are separate statements: two processes racing
may let one extra guess through, which does not matter at a limit of five.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tracker.accounts.models import LoginAttempt

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
# Rows older than this are of no use to any count.
KEEP = dt.timedelta(days=1)


@dataclass(frozen=True)
class Refusal:
    """Sign-ins refused: why, and when they are accepted again."""

    until: dt.datetime

    def message(self, now: dt.datetime) -> str:
        """The sentence shown on the sign-in form."""
        minutes = max(1, -(-int((self.until - now).total_seconds()) // 60))
        unit = "minute" if minutes == 1 else "minutes"
        return f"Too many failed sign-ins. Try again in {minutes} {unit}."


def _key(login: str) -> str:
    return login.strip().lower()[:320]


def refused(session: Session, login: str, address: str, now: dt.datetime) -> Refusal | None:
    """A Refusal when the handle or the address has failed MAX_FAILURES times within WINDOW."""
    since = now - WINDOW
    for column, value in ((LoginAttempt.handle, _key(login)), (LoginAttempt.address, address[:64])):
        times = list(
            session.scalars(
                select(LoginAttempt.at)
                .where(column == value, LoginAttempt.at > since, LoginAttempt.ok.is_(False))
                .order_by(LoginAttempt.at.desc())
                .limit(MAX_FAILURES)
            )
        )
        if len(times) >= MAX_FAILURES:
            # Accepted again once the oldest of the last five falls out of the window.
            return Refusal(until=times[-1] + WINDOW)
    return None


def record_failure(session: Session, login: str, address: str, now: dt.datetime) -> None:
    """Count one failed sign-in, and forget the rows no count needs any more."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
    session.add(LoginAttempt(handle=_key(login), address=address[:64], at=now, ok=False))
    session.flush()


def record_success(session: Session, login: str, handle: str) -> None:
    """A correct password clears the failures of that account (the address keeps its count)."""
    keys = {_key(login), _key(handle)}
    session.execute(delete(LoginAttempt).where(or_(*(LoginAttempt.handle == k for k in keys))))
    session.flush()
