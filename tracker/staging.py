"""The table of uploaded claims files waiting for their confirm (the web app's import preview).

An upload is previewed in one request and imported in another, which may reach another
web process: so the file waits here, in the database, not in a process's memory. A row
lives until it is confirmed or cancelled, or for `PENDING_FOR` at most.

Like `tracker.accounts.models`, it refers to `reviewers` only by name, so that
`tracker.models` can import it at its end without a cycle.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, UTCDateTime

PENDING_FOR = dt.timedelta(hours=1)


class PendingImport(Base):
    """One uploaded claims file, as uploaded, with who uploaded it and when."""

    __tablename__ = "pending_imports"

    # Random and unguessable: the preview page's confirm and cancel forms carry it.
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # sha256 of `content`: checked again before the import, so the file imported is the one previewed.
    content_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
