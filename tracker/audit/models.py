"""The audit log's table, and the rule that nothing in it is ever changed or deleted.

Three layers refuse a rewrite: the ORM (a flush that would update or delete an entry,
and an ORM UPDATE or DELETE statement aimed at the table, raise), and the database
itself (triggers made by migration 0008 refuse UPDATE, DELETE and TRUNCATE), so that
a raw SQL statement cannot quietly do what the ORM refuses either.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Table, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from tracker.db import Base, UTCDateTime, utcnow


class Interface(enum.StrEnum):
    """Through which door a write came in."""

    CLI = "cli"
    WEB = "web"
    IMPORT = "import"
    SCHEDULER = "scheduler"


class AppendOnly(ValueError):
    """Raised on any attempt to change or delete an audit entry."""

    def __init__(self) -> None:
        super().__init__("audit_log entries are append-only: they cannot be changed or deleted")


class AuditEntry(Base):
    """One write: who made it, when, through which interface, and what it changed."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(
            f"interface IN ({', '.join(repr(str(i)) for i in Interface)})",
            name="interface",
        ),
        Index("ix_audit_log_entity_entity_key_at", "entity", "entity_key", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The reviewer who acted, when one did. No foreign key: the log outlives what it names,
    # and an ON DELETE action would rewrite it (which the triggers refuse anyway).
    actor_id: Mapped[int | None] = mapped_column(Integer)
    # Their handle, or who else acted: "system", "scheduler", the command line's OS user.
    actor: Mapped[str] = mapped_column(String(320))
    interface: Mapped[str] = mapped_column(String(20))
    # claim.create, verdict.add, assignment.remove, role.change, login.failure ... (see README).
    action: Mapped[str] = mapped_column(String(50))
    # What the write was about: "claim" (key), "reviewer" (handle) or "source" (slug).
    entity: Mapped[str] = mapped_column(String(20))
    entity_key: Mapped[str] = mapped_column(String(320))
    # The fields that changed, as they were and as they became (None: created, or deleted).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


audit_table: Table = AuditEntry.__table__  # type: ignore[assignment]


def _refuse(_mapper: Mapper[Any], _connection: Any, _target: Any) -> None:
    raise AppendOnly()


event.listen(AuditEntry, "before_update", _refuse)
event.listen(AuditEntry, "before_delete", _refuse)


@event.listens_for(Session, "before_flush")
def _no_rewrites_in_a_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse before anything is written (the mapper events above fire mid-flush)."""
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AppendOnly()
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AppendOnly()


@event.listens_for(Session, "do_orm_execute")
def _no_rewriting_statements(state: ORMExecuteState) -> None:
    """Refuse `session.execute(update(AuditEntry)...)` and `delete(...)`, by entity or by table."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    target = getattr(state.statement, "table", None)
    if (mapper is not None and mapper.class_ is AuditEntry) or target is audit_table:
        raise AppendOnly()
