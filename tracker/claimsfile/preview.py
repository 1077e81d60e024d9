"""Preview an import, then import exactly what was previewed, or nothing.

The preview is the real import (`import_claims`) run inside a savepoint that is rolled
back: one implementation, so the preview cannot promise what the import would not do.
It is bound to the database it saw by a fingerprint: the sha256 of the database written
out as claims.yaml (`write_claims_file`). The export holds every value the import reads
to decide what changes (reviewers, sources and their parents, each claim's fields, tags,
reviewers, article, current criteria and latest outcome), so any change that could
change the import's result changes the fingerprint, whoever made it (the web app, the
CLI, another host). Counters or max(updated_at) would miss some (a reviewer's new email,
a source's new parent), and the export is what the preview's import reads anyway.

The confirm holds the database still (`hold_still`), computes the fingerprint again and
imports only if it is the one the preview saw; otherwise it previews afresh. The preview
itself holds nothing still: a change while it reads can only make the confirm refuse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker.claimsfile.exporter import write_claims_file
from tracker.claimsfile.importer import import_claims
from tracker.claimsfile.writer import ImportReport
from tracker.config import Settings
from tracker.db import lock_catalogue
from tracker.errors import InvalidInput, Problem

# Every table an import reads or writes, the claims first: a web verdict locks its claim's
# row before it writes the others, so taking `claims` first lets it finish instead of deadlocking.
_TABLES = (
    "claims",
    "resolutions",
    "criteria_versions",
    "claim_tags",
    "claim_reviewers",
    "appearances",
    "sources",
    "reviewers",
)


@dataclass
class Preview:
    """What importing a file would do (`report`), or its problems; and the fingerprint it saw."""

    file_name: str
    fingerprint: str
    report: ImportReport | None = None
    problems: list[Problem] = field(default_factory=list)


class _Hasher:
    """A text stream that only hashes what is written to it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, chunk: str) -> int:
        self.digest.update(chunk.encode("utf-8"))
        return len(chunk)


def fingerprint(session: Session) -> str:
    """The sha256 of the database as claims.yaml: it changes whenever an import's result could."""
    hasher = _Hasher()
    write_claims_file(session, hasher)  # type: ignore[arg-type]  # write() is all it uses
    return hasher.digest.hexdigest()


def content_digest(content: bytes) -> str:
    """The sha256 of an uploaded file, to check that the file imported is the one previewed."""
    return hashlib.sha256(content).hexdigest()


def hold_still(session: Session) -> None:
    """Keep every other writer of claims, sources and reviewers out until this transaction ends.

    Call it first in the transaction. On SQLite the write lock taken at BEGIN already does
    this; on PostgreSQL the catalogue lock queues imports and the CLI's additions, and an
    EXCLUSIVE table lock holds back everything else that writes (readers go on reading).
    """
    lock_catalogue(session)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"LOCK TABLE {', '.join(_TABLES)} IN EXCLUSIVE MODE"))


@contextmanager
def _as_file(content: bytes) -> Iterator[Path]:
    """The upload in a temporary file for the reader (which streams a path), removed afterwards."""
    handle, name = tempfile.mkstemp(prefix="tracker-upload-", suffix=".yaml")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _import(
    session: Session, content: bytes, file_name: str, settings: Settings, now: dt.datetime, *, keep: bool
) -> tuple[ImportReport | None, list[Problem]]:
    """Import in a savepoint: kept when `keep` and the file is good, else rolled back."""
    savepoint = session.begin_nested()
    try:
        with _as_file(content) as path:
            report = import_claims(
                session, path, settings=settings, now=now, display_name=file_name, detail=True
            )
    except InvalidInput as exc:
        savepoint.rollback()
        return None, list(exc.problems)
    except BaseException:
        savepoint.rollback()
        raise
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()
    return report, []


def preview(
    session: Session, content: bytes, file_name: str, *, settings: Settings, now: dt.datetime
) -> Preview:
    """What importing `content` would do, or its problems (file:line: field); writes nothing.

    Other writers are not held back: one that commits while the preview reads makes the
    preview's fingerprint differ from the database's, so its confirm shows a fresh preview
    rather than import what nobody saw. Imports queue as always (the catalogue lock).
    """
    lock_catalogue(session)
    seen = fingerprint(session)
    report, problems = _import(session, content, file_name, settings, now, keep=False)
    return Preview(file_name, seen, report, problems)


def confirm(
    session: Session, content: bytes, file_name: str, seen: str, *, settings: Settings, now: dt.datetime
) -> tuple[Preview, bool]:
    """Import `content` if the database is as the preview with fingerprint `seen` found it.

    Returns the preview of what was imported and True; or, when the database changed
    since (or the file now has problems), a fresh preview and False, having written nothing.
    """
    hold_still(session)
    now_seen = fingerprint(session)
    if now_seen != seen:
        report, problems = _import(session, content, file_name, settings, now, keep=False)
        return Preview(file_name, now_seen, report, problems), False
    report, problems = _import(session, content, file_name, settings, now, keep=True)
    return Preview(file_name, now_seen, report, problems), report is not None
