"""Tables of the web accounts: credentials, login attempts, and process-shared secrets.

They only refer to `reviewers` by name, so that `tracker.models` can import this module
at its end (registering the tables on the one metadata) without a cycle.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, UTCDateTime, utcnow


class Credential(Base):
    """A reviewer's sign-in: the password hash, the session epoch and the calendar token.

    A row of its own (not columns on `reviewers`) so that a reviewer without web access
    costs nothing and the CLI's reviewer code is untouched.
    """

    __tablename__ = "credentials"

    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"), primary_key=True)
    # argon2id, in its own encoded form (parameters and salt included); NULL: no password yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Carried in the signed session cookie: bumping it ends every session made before.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The secret part of /calendar/<token>.ics; replaced (revoking the old URL) on request.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)


class LoginAttempt(Base):
    """One failed sign-in, counted per handle and per address to throttle guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_handle_at", "handle", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As typed (lower-cased), whether or not such a reviewer exists.
    handle: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class AppSecret(Base):
    """A value every process must share, made once: the web app's generated secret key."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
