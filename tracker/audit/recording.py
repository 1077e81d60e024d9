"""Turning writes into audit entries, in the transaction that makes them.

ORM writes are seen by one `before_flush` listener: each insert, update or delete of
an audited model (and each change of a claim's reviewers or tags, read from the
collection's history) becomes an entry added to the same flush. The bulk importer
writes with Core statements, which no ORM event sees; it calls `entry_row` for each
change and inserts the rows on its own connection (`insert_rows`). Either way an
entry exists exactly when its write does: a rollback takes both.

A password change is recorded as the fact alone: `password.change` with no before or
after, never the hash. Sign-ins are recorded by the web's login view (`record`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, event, insert, inspect, select
from sqlalchemy.orm import InstanceState, Session

from tracker.accounts.models import Credential
from tracker.audit.context import Actor, current
from tracker.audit.models import AuditEntry, audit_table
from tracker.models import (
    Appearance,
    Claim,
    ClaimTag,
    CriteriaVersion,
    Resolution,
    Reviewer,
    Source,
)

# Session.info key: False turns the log off for the sessions of a factory (setting audit.enabled).
ENABLED = "tracker_audit_enabled"


def enabled(session: Session) -> bool:
    """Whether this session's writes are audited (on unless its factory said otherwise)."""
    return bool(session.info.get(ENABLED, True))


@dataclass(frozen=True)
class Ref:
    """A field shown by the name of what it points at (a claim's source by slug), not by id."""

    relationship: str
    column: str
    model: type[Any]
    name: str


@dataclass(frozen=True)
class Audited:
    """How one model's rows become entries."""

    entity: str  # "claim", "reviewer" or "source"
    noun: str  # the action's first part: claim, criteria, verdict, reviewer, source
    fields: tuple[str, ...]
    refs: Mapping[str, Ref] = field(default_factory=dict)
    created: str = "create"  # the verb for an insert; "add" for a history entry
    # Fields whose change is an action of its own: a reviewer's role is "role.change".
    own_actions: Mapping[str, str] = field(default_factory=dict)


CLAIM_FIELDS = (
    "kind",
    "statement",
    "quote",
    "made_on",
    "source",
    "appearance",
    "probability",
    "confidence",
    "probability_basis",
    "recorded_after_outcome",
    "criteria",
    "deadline",
    "window_start",
    "timezone",
    "as_of",
    "status",
    "verdict",
    "progress",
)
CRITERIA_FIELDS = ("version", "criteria", "deadline", "window_start", "timezone")
VERDICT_FIELDS = ("verdict", "progress", "evidence", "note", "reviewer", "resolved_on")
REVIEWER_FIELDS = ("handle", "name", "email", "timezone", "role", "subscribed")
SOURCE_FIELDS = ("slug", "name", "kind", "url", "notes", "parent")

AUDITED: dict[type[Any], Audited] = {
    Claim: Audited(
        "claim",
        "claim",
        CLAIM_FIELDS,
        {
            "source": Ref("source", "source_id", Source, "slug"),
            "appearance": Ref("appearance", "appearance_id", Appearance, "url"),
        },
    ),
    CriteriaVersion: Audited("claim", "criteria", CRITERIA_FIELDS, created="add"),
    Resolution: Audited(
        "claim",
        "verdict",
        VERDICT_FIELDS,
        {"reviewer": Ref("reviewer", "reviewer_id", Reviewer, "handle")},
        created="add",
    ),
    Reviewer: Audited("reviewer", "reviewer", REVIEWER_FIELDS, own_actions={"role": "role.change"}),
    Source: Audited(
        "source", "source", SOURCE_FIELDS, {"parent": Ref("parent", "parent_id", Source, "slug")}
    ),
}


_AS_IS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A value as JSON holds it: dates as ISO text, lists as lists."""
    if type(value) in _AS_IS:  # most values: a quick look (an import makes hundreds of thousands)
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def entry_row(
    actor: Actor,
    action: str,
    entity: str,
    key: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    *,
    at: dt.datetime | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """The column values of one entry (for a Core insert, or `AuditEntry(**row)`)."""
    return {
        "at": at or actor.clock(),
        "actor_id": actor.reviewer_id if actor_id is None else actor_id,
        "actor": actor.label,
        "interface": actor.interface.value,
        "action": action,
        "entity": entity,
        "entity_key": key,
        "before": {k: plain(v) for k, v in before.items()} if before is not None else None,
        "after": {k: plain(v) for k, v in after.items()} if after is not None else None,
    }


def insert_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert entries made by `entry_row` in one statement (the importer's bulk path)."""
    if rows:
        connection.execute(insert(audit_table), list(rows))


def actor_id_of(db: Connection | Session, actor: Actor) -> int | None:
    """The actor's reviewer id, looking their handle up when the actor asked for it."""
    if actor.reviewer_id is not None or not actor.lookup:
        return actor.reviewer_id
    return db.scalar(select(Reviewer.id).where(Reviewer.handle == actor.label))


class _Stamp:
    """Who and when, fixed once for the entries of one flush or one import."""

    def __init__(self, db: Connection | Session, actor: Actor) -> None:
        self.actor = actor
        self.at = actor.clock()
        self.actor_id = actor_id_of(db, actor)

    def row(
        self,
        action: str,
        entity: str,
        key: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return entry_row(self.actor, action, entity, key, before, after, at=self.at, actor_id=self.actor_id)


def split(
    spec: Audited, before: dict[str, Any], after: dict[str, Any]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """One row's changed fields as entries: (action, before, after), a role change apart."""
    entries = []
    for name, action in spec.own_actions.items():
        if name in after:
            entries.append((action, {name: before.pop(name, None)}, {name: after.pop(name)}))
    if after:
        entries.append((f"{spec.noun}.update", before, after))
    return entries


class Rows(_Stamp):
    """Entries of Core writes (the importer's), inserted in bulk on the writer's connection."""

    def __init__(self, connection: Connection, actor: Actor) -> None:
        super().__init__(connection, actor)
        self.connection = connection
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        action: str,
        entity: str,
        key: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """One entry, written at the next `write`."""
        self.rows.append(self.row(action, entity, key, before, after))

    def changed(self, model: type[Any], key: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """The entries of one updated row of `model` (only the fields that differ are given)."""
        spec = AUDITED[model]
        for action, old, new in split(spec, before, after):
            self.add(action, spec.entity, key, old, new)

    def write(self) -> None:
        """Insert the entries collected so far."""
        insert_rows(self.connection, self.rows)
        self.rows.clear()


def record(
    session: Session,
    action: str,
    entity: str,
    key: str,
    after: Mapping[str, Any] | None = None,
    *,
    actor: Actor | None = None,
) -> None:
    """Add one entry for something that is not a row change (a sign-in, a failed one)."""
    if enabled(session):
        session.add(AuditEntry(**entry_row(actor or current(), action, entity, key, None, after)))


# --- the ORM listener --------------------------------------------------------------------------


class _Flush(_Stamp):
    """The entries one flush adds, and what it needs to name things."""

    def __init__(self, session: Session) -> None:
        with session.no_autoflush:
            super().__init__(session, current())
        self.session = session
        self.entries: list[AuditEntry] = []
        self.handled: set[int] = set()  # ClaimTags already told through their claim

    def add(
        self,
        action: str,
        entity: str,
        key: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        self.entries.append(AuditEntry(**self.row(action, entity, key, before, after)))

    def get(self, model: type[Any], ident: Any) -> Any:
        if ident is None:
            return None
        with self.session.no_autoflush:
            return self.session.get(model, ident)

    # -- naming ----------------------------------------------------------------------------

    def name_of(self, ref: Ref, target: Any) -> Any:
        return getattr(target, ref.name) if target is not None else None

    def value(self, obj: Any, spec: Audited, name: str) -> Any:
        ref = spec.refs.get(name)
        if ref is None:
            return getattr(obj, name)
        target = getattr(obj, ref.relationship)
        if target is None:
            target = self.get(ref.model, getattr(obj, ref.column))
        return self.name_of(ref, target)

    def snapshot(self, obj: Any, spec: Audited) -> dict[str, Any]:
        values = {name: self.value(obj, spec, name) for name in spec.fields}
        # A column left unset gets its default only as the row is inserted (after this
        # listener): name the value the row will have, not None.
        columns = inspect(type(obj)).columns
        for name, value in values.items():
            default = columns[name].default if value is None and name in columns else None
            if default is not None and default.is_scalar:
                values[name] = default.arg
        return values

    def changes(self, state: InstanceState[Any], spec: Audited) -> tuple[dict[str, Any], dict[str, Any]]:
        """The audited fields this flush changes: as they were, and as they become."""
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for name in spec.fields:
            ref = spec.refs.get(name)
            if ref is not None:
                by_object = state.attrs[ref.relationship].history
                by_id = state.attrs[ref.column].history
                if by_object.has_changes():
                    old, new = _first(by_object.deleted), _first(by_object.added)
                    before[name], after[name] = self.name_of(ref, old), self.name_of(ref, new)
                elif by_id.has_changes():
                    old_id, new_id = _first(by_id.deleted), _first(by_id.added)
                    before[name] = self.name_of(ref, self.get(ref.model, old_id))
                    after[name] = self.name_of(ref, self.get(ref.model, new_id))
                continue
            history = state.attrs[name].history
            if history.has_changes():
                before[name], after[name] = _first(history.deleted), _first(history.added)
        return before, after

    def key_of(self, obj: Any, spec: Audited) -> str:
        if spec.entity == "claim" and not isinstance(obj, Claim):
            claim = getattr(obj, "claim", None) or self.get(Claim, obj.claim_id)
            return str(claim.key)
        if isinstance(obj, Reviewer):
            return obj.handle
        if isinstance(obj, Source):
            return obj.slug
        return str(obj.key)

    # -- per object ------------------------------------------------------------------------

    def inserted(self, obj: Any) -> None:
        spec = AUDITED.get(type(obj))
        if spec is not None:
            after = self.snapshot(obj, spec)
            if isinstance(obj, Claim):
                # A new claim's tags and reviewers are part of it, not changes of their own.
                after["tags"] = sorted(t.tag for t in obj.tags)
                after["reviewers"] = sorted(r.handle for r in obj.reviewers)
                self.handled.update(id(t) for t in obj.tags)
            self.add(f"{spec.noun}.{spec.created}", spec.entity, self.key_of(obj, spec), None, after)
        elif isinstance(obj, Credential) and obj.password_hash is not None:
            self.password(obj)

    def updated(self, obj: Any) -> None:
        state = inspect(obj)
        spec = AUDITED.get(type(obj))
        if spec is not None:
            key = self.key_of(obj, spec)
            for action, before, after in split(spec, *self.changes(state, spec)):
                self.add(action, spec.entity, key, before, after)
        if isinstance(obj, Claim):
            self.collections(obj, state)
        elif isinstance(obj, Credential) and _new_password(state):
            self.password(obj)

    def deleted(self, obj: Any) -> None:
        spec = AUDITED.get(type(obj))
        if spec is not None:
            self.add(
                f"{spec.noun}.delete", spec.entity, self.key_of(obj, spec), self.snapshot(obj, spec), None
            )

    def collections(self, claim: Claim, state: InstanceState[Any]) -> None:
        """A claim's reviewers and tags changed through its collections: one entry each."""
        reviewers = state.attrs.reviewers.history
        for reviewer in reviewers.added or ():
            self.add("assignment.add", "claim", claim.key, None, {"reviewer": reviewer.handle})
        for reviewer in reviewers.deleted or ():
            self.add("assignment.remove", "claim", claim.key, {"reviewer": reviewer.handle}, None)
        tags = state.attrs.tags.history
        for tag in tags.added or ():
            self.handled.add(id(tag))
            self.add("tag.add", "claim", claim.key, None, {"tag": tag.tag})
        for tag in tags.deleted or ():
            self.handled.add(id(tag))
            self.add("tag.remove", "claim", claim.key, {"tag": tag.tag}, None)

    def tag(self, tag: ClaimTag, verb: str) -> None:
        """A tag added or removed by itself (not through its claim's collection)."""
        if id(tag) in self.handled:
            return
        claim = self.get(Claim, tag.claim_id)
        if claim is not None:
            value = {"tag": tag.tag}
            before, after = (None, value) if verb == "add" else (value, None)
            self.add(f"tag.{verb}", "claim", claim.key, before, after)

    def password(self, credential: Credential) -> None:
        # The fact only: neither the hash nor anything derived from it goes in the log.
        reviewer = self.get(Reviewer, credential.reviewer_id)
        self.add("password.change", "reviewer", reviewer.handle if reviewer else str(credential.reviewer_id))


def _new_password(state: InstanceState[Any]) -> bool:
    # A new password also ends the other sessions (a new epoch) and is dated; a hash redone
    # with new argon2 parameters at sign-in changes neither, and is not a change of password.
    attrs = state.attrs
    return attrs.password_hash.history.has_changes() and (
        attrs.session_epoch.history.has_changes() or attrs.password_changed_at.history.has_changes()
    )


def _first(values: Iterable[Any] | None) -> Any:
    for value in values or ():
        return value
    return None


def record_flush(session: Session, _context: Any, _instances: Any) -> None:
    """The before_flush listener: entries for what this flush writes, added to the same flush."""
    if not enabled(session):
        return
    flush: _Flush | None = None

    def ready() -> _Flush:
        nonlocal flush
        if flush is None:
            flush = _Flush(session)
        return flush

    # Changed rows first, then new ones: a claim's new verdict, then the history row that holds
    # it (the order the importer records them in too).
    for obj in list(session.dirty):
        if (type(obj) in AUDITED or isinstance(obj, Credential)) and session.is_modified(obj):
            ready().updated(obj)
    for obj in list(session.new):
        if isinstance(obj, ClaimTag):
            continue
        if type(obj) in AUDITED or isinstance(obj, Credential):
            ready().inserted(obj)
    for obj in list(session.deleted):
        if type(obj) in AUDITED:
            ready().deleted(obj)
    for obj in list(session.new):
        if isinstance(obj, ClaimTag):
            ready().tag(obj, "add")
    for obj in list(session.deleted):
        if isinstance(obj, ClaimTag):
            ready().tag(obj, "remove")
    if flush is not None:
        session.add_all(flush.entries)


event.listen(Session, "before_flush", record_flush)
