"""The data model: sources, the articles they appear in, claims, reviewers and resolutions.

Two histories are append-only: a claim's resolution criteria (`CriteriaVersion`) and its
verdicts (`Resolution`). The claim row caches the current criteria and verdict so that
listings and scorecards need no subqueries; only `tracker.services` writes either.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from tracker.db import Base, UTCDateTime, utcnow


class SourceKind(enum.StrEnum):
    OUTLET = "outlet"
    PERSON = "person"
    ORGANISATION = "organisation"


class ClaimKind(enum.StrEnum):
    PREDICTION = "prediction"
    FACT = "fact"
    PROMISE = "promise"  # a commitment about the speaker's own future conduct: never scored


class ClaimStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    # Double review (review.verdicts_required = 2): one verdict given, the second awaited;
    # or two verdicts that differ, awaiting an admin's adjudication. Either way the claim
    # has no verdict yet (claim.verdict NULL) and stays out of the scores.
    AWAITING = "awaiting"
    DISPUTED = "disputed"


class ReviewRole(enum.StrEnum):
    """What a verdict entry is within its round (the entries since the last un-resolve)."""

    VERDICT = "verdict"  # an ordinary entry: a single reviewer's verdict, progress or an un-resolve
    FIRST = "first"  # the first of two blind verdicts
    SECOND = "second"  # the second of two, by another reviewer: agreeing resolves, differing disputes
    ADJUDICATION = "adjudication"  # an admin's verdict on a disputed claim, with a note


class ReviewerRole(enum.StrEnum):
    REVIEWER = "reviewer"  # resolves the claims assigned to them
    EDITOR = "editor"  # also records claims and sources
    ADMIN = "admin"  # everything: assigning, roles, adjudicating


class PredictionVerdict(enum.StrEnum):
    TRUE = "true"
    FALSE = "false"
    AMBIGUOUS = "ambiguous"  # happened or not, reviewers cannot tell: kept out of scores
    ANNULLED = "annulled"  # the premise failed (void): kept out of scores


class FactVerdict(enum.StrEnum):
    TRUE = "true"
    MOSTLY_TRUE = "mostly-true"
    HALF_TRUE = "half-true"
    MOSTLY_FALSE = "mostly-false"
    FALSE = "false"
    UNVERIFIABLE = "unverifiable"


class PromiseVerdict(enum.StrEnum):
    """PolitiFact's promise meter: what became of a promise once it can be rated."""

    KEPT = "kept"
    COMPROMISE = "compromise"  # partly kept, or kept in a weaker form
    BROKEN = "broken"


class PromiseProgress(enum.StrEnum):
    """Where an open promise stands: recorded in its history beside the verdicts, not a verdict."""

    IN_THE_WORKS = "in-the-works"
    STALLED = "stalled"


VERDICT_SCALES: dict[ClaimKind, tuple[str, ...]] = {
    ClaimKind.PREDICTION: tuple(v.value for v in PredictionVerdict),
    ClaimKind.FACT: tuple(v.value for v in FactVerdict),
    ClaimKind.PROMISE: tuple(v.value for v in PromiseVerdict),
}
ALL_VERDICTS: tuple[str, ...] = tuple(dict.fromkeys(v for scale in VERDICT_SCALES.values() for v in scale))
PROGRESS_STATUSES: tuple[str, ...] = tuple(p.value for p in PromiseProgress)

# Kinds judged against resolution criteria by a deadline (and so reminded): a fact has as_of instead.
DEADLINE_KINDS: tuple[str, ...] = (ClaimKind.PREDICTION.value, ClaimKind.PROMISE.value)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Source(Base):
    """Whoever made a claim: an outlet, a person (possibly of an outlet) or an organisation."""

    __tablename__ = "sources"
    __table_args__ = (CheckConstraint(_in("kind", tuple(SourceKind)), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(2000))
    notes: Mapped[str | None] = mapped_column(Text)
    # A person can belong to an outlet, so scorecards can aggregate either way.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    # Bumped whenever anything on the source's scorecard changes (its claims, their criteria,
    # verdicts, tags, reviewers or articles), so a rebuild can tell which pages are stale
    # without reading every claim.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Source | None] = relationship(remote_side=[id], back_populates="members")
    members: Mapped[list[Source]] = relationship(back_populates="parent")
    claims: Mapped[list[Claim]] = relationship(back_populates="source")


class Appearance(Base):
    """Where claims were published: one article can hold claims from several sources."""

    __tablename__ = "appearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str | None] = mapped_column(String(1000))
    author: Mapped[str | None] = mapped_column(String(300))
    published: Mapped[dt.date | None] = mapped_column(Date)

    claims: Mapped[list[Claim]] = relationship(back_populates="appearance")


class Reviewer(Base):
    """A person who marks outcomes and receives deadline reminders."""

    __tablename__ = "reviewers"
    __table_args__ = (CheckConstraint(_in("role", tuple(ReviewerRole)), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    role: Mapped[str] = mapped_column(String(20), default=ReviewerRole.REVIEWER.value)
    # Receives the periodic scorecard report by email (reminders go to every assigned reviewer).
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


claim_reviewers = Table(
    "claim_reviewers",
    Base.metadata,
    Column("claim_id", ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True),
    Column("reviewer_id", ForeignKey("reviewers.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ClaimTag(Base):
    """One tag on one claim."""

    __tablename__ = "claim_tags"

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Claim(Base):
    """A testable prediction, a checkable factual claim or a promise, as its source stated it."""

    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(_in("kind", tuple(ClaimKind)), name="kind"),
        CheckConstraint(_in("status", tuple(ClaimStatus)), name="status"),
        CheckConstraint(f"verdict IS NULL OR {_in('verdict', ALL_VERDICTS)}", name="verdict"),
        CheckConstraint("probability IS NULL OR (probability >= 0 AND probability <= 1)", name="probability"),
        CheckConstraint(f"progress IS NULL OR {_in('progress', PROGRESS_STATUSES)}", name="progress"),
        Index("ix_claims_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The stable id from claims.yaml; re-import updates the claim in place.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    statement: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    made_on: Mapped[dt.date] = mapped_column(Date)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"), index=True)
    appearance_id: Mapped[int | None] = mapped_column(
        ForeignKey("appearances.id", ondelete="SET NULL"), index=True
    )
    # Probability implied by the source's words (or stated); NULL with words = an unscored hedge.
    probability: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[str | None] = mapped_column(String(200))
    # Where a bare probability comes from, when the source gave a number but no words.
    probability_basis: Mapped[str | None] = mapped_column(Text)
    # Said by the file: the outcome was already known when the claim was recorded (criteria
    # recorded after the deadline are marked so from the dates alone; see `recorded_late`).
    recorded_after_outcome: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Current resolution criteria; every version is kept in criteria_versions.
    criteria: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    window_start: Mapped[dt.date | None] = mapped_column(Date)
    timezone: Mapped[str | None] = mapped_column(String(64))
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.OPEN.value)
    verdict: Mapped[str | None] = mapped_column(String(20))
    # A promise's latest progress status (in-the-works, stalled) from its history, cached like
    # the verdict; it describes the promise only while it is open (NULL: not yet rated).
    progress: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    source: Mapped[Source] = relationship(back_populates="claims")
    appearance: Mapped[Appearance | None] = relationship(back_populates="claims")
    tags: Mapped[list[ClaimTag]] = relationship(
        cascade="all, delete-orphan", order_by=ClaimTag.tag, passive_deletes=True
    )
    reviewers: Mapped[list[Reviewer]] = relationship(secondary=claim_reviewers, order_by=Reviewer.handle)
    criteria_versions: Mapped[list[CriteriaVersion]] = relationship(
        back_populates="claim", order_by="CriteriaVersion.version", passive_deletes=True
    )
    resolutions: Mapped[list[Resolution]] = relationship(
        back_populates="claim", order_by="Resolution.id", passive_deletes=True
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]

    @property
    def scored(self) -> bool:
        """Whether the claim can enter probability scores (a hedge like "may" cannot)."""
        return self.kind == ClaimKind.PREDICTION and self.probability is not None

    @property
    def recorded_late(self) -> bool:
        """Whether its criteria were recorded after the outcome was known or after the deadline."""
        return recorded_late(self.recorded_after_outcome, self.criteria_versions, self.deadline)


def recorded_late(flag: bool, versions: Iterable[Any], deadline: dt.date | None) -> bool:
    """The file's mark, or criteria first recorded after the deadline they judge.

    `versions` are the claim's criteria versions (anything with `recorded_at`); the
    first one is when the goalposts were set, so a later version does not count.
    """
    if flag:
        return True
    first = min((v.recorded_at for v in versions), default=None)
    return first is not None and deadline is not None and first.date() > deadline


def current_progress(entries: Iterable[tuple[dt.date, str]]) -> str | None:
    """A promise's progress now: of its (date, status) progress entries, in the order they
    were recorded, the one of the latest date (the later recorded when two share it)."""
    best: tuple[dt.date, str] | None = None
    for day, status in entries:
        if best is None or day >= best[0]:
            best = (day, status)
    return best[1] if best else None


class CriteriaVersion(Base):
    """One recorded version of a claim's resolution criteria and deadline (append-only)."""

    __tablename__ = "criteria_versions"
    __table_args__ = (UniqueConstraint("claim_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    window_start: Mapped[dt.date | None] = mapped_column(Date)
    timezone: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Why a later version replaced the one before, and who recorded it (the web app asks
    # for both); NULL for first versions and for versions from the CLI or a claims file.
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="SET NULL"), index=True
    )

    claim: Mapped[Claim] = relationship(back_populates="criteria_versions")
    recorded_by: Mapped[Reviewer | None] = relationship()


class Resolution(Base):
    """One entry in a claim's verdict history (append-only).

    An entry is a verdict (`verdict` set), an un-resolve (`verdict` and `progress` NULL)
    or, for an open promise, a progress status (`progress` set, `verdict` NULL: the claim
    stays open). Progress lives in the same history so that it reads in order with the
    verdicts, with the same date, evidence, note and reviewer. `role` marks the verdicts of
    a double review (first, second, adjudication; see `tracker.review`).
    """

    __tablename__ = "resolutions"
    __table_args__ = (
        CheckConstraint(f"verdict IS NULL OR {_in('verdict', ALL_VERDICTS)}", name="verdict"),
        CheckConstraint(
            f"progress IS NULL OR (verdict IS NULL AND {_in('progress', PROGRESS_STATUSES)})", name="progress"
        ),
        CheckConstraint(
            f"{_in('role', tuple(ReviewRole))} AND (role = 'verdict' OR verdict IS NOT NULL)", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str | None] = mapped_column(String(20))
    progress: Mapped[str | None] = mapped_column(String(20))
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviewers.id", ondelete="RESTRICT"), index=True
    )
    resolved_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    role: Mapped[str] = mapped_column(
        String(20), default=ReviewRole.VERDICT.value, server_default=ReviewRole.VERDICT.value
    )

    claim: Mapped[Claim] = relationship(back_populates="resolutions")
    reviewer: Mapped[Reviewer | None] = relationship()


class ReportRun(Base):
    """One periodic report: when it ran, the period it covered, and the scores it saw."""

    __tablename__ = "report_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    out_dir: Mapped[str | None] = mapped_column(String(2000))
    # Per-source figures at the time, so the next report can say what changed.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The digest as rendered (its subject is in summary), kept so that the report's emails
    # can wait in the outbox and be sent, or re-sent, long after the run: NULL before 0004.
    digest_text: Mapped[str | None] = mapped_column(Text)
    digest_html: Mapped[str | None] = mapped_column(Text)


def _claim_source_id(session: Session, obj: Any) -> int | None:
    claim = obj if isinstance(obj, Claim) else getattr(obj, "claim", None)
    if claim is None and getattr(obj, "claim_id", None) is not None:
        claim = session.get(Claim, obj.claim_id)
    if claim is None:
        return None
    return claim.source_id if claim.source_id is not None else (claim.source.id if claim.source else None)


@event.listens_for(Session, "before_flush")
def _bump_source_revisions(session: Session, _context: Any, _instances: Any) -> None:
    """Mark the scorecards of the sources whose claims this flush changes as stale."""
    touched: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Claim | Resolution | CriteriaVersion | ClaimTag):
            if isinstance(obj, Claim) and obj in session.dirty and not session.is_modified(obj):
                continue
            source_id = _claim_source_id(session, obj)
            if source_id is not None:
                touched.add(source_id)
            if isinstance(obj, Claim):
                # A claim moved to another source changes both scorecards, whether it was
                # moved by id or by relationship (which syncs to source_id only later).
                state = inspect(obj)
                touched.update(i for i in state.attrs.source_id.history.sum() if i is not None)
                touched.update(s.id for s in state.attrs.source.history.sum() if s is not None and s.id)
    if touched:
        bump_revisions(session.connection(), touched)


def bump_revisions(connection: Any, source_ids: Iterable[int]) -> None:
    """Increase the revision of these sources (the importer calls this for its bulk writes)."""
    ids = sorted(set(source_ids))
    for start in range(0, len(ids), 500):
        connection.execute(
            update(Source).where(Source.id.in_(ids[start : start + 500])).values(revision=Source.revision + 1)
        )


@event.listens_for(Session, "before_flush")
def _histories_are_append_only(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse to rewrite or delete history: the goalposts and verdicts never move silently."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Resolution | CriteriaVersion) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise ValueError(f"{type(obj).__name__} rows are append-only")


# --- reminders -------------------------------------------------------------------------------------


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"  # due, waiting to be put in a digest (possibly held by the daily limit)
    QUEUED = "queued"  # in a delivery that has not gone out yet
    SENT = "sent"
    FAILED = "failed"  # its delivery failed for good (until `tracker reminders resend`)
    CANCELLED = "cancelled"  # resolved, deadline moved or reviewer unassigned before it went out
    SKIPPED = "skipped"  # superseded by a later reminder for the same claim before it went out


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until lease_until
    SENT = "sent"
    RETRY = "retry"  # a temporary failure; tried again from next_attempt_at
    FAILED = "failed"
    CANCELLED = "cancelled"  # every reminder in it was cancelled before it went out


class Reminder(Base):
    """One reminder that fell due: to one reviewer, about one claim, of one kind, for one deadline."""

    __tablename__ = "reminders"
    __table_args__ = (
        # The key that makes recording idempotent: concurrent passes insert, conflicts are ignored.
        UniqueConstraint("claim_id", "reviewer_id", "kind", "deadline"),
        CheckConstraint(_in("status", tuple(ReminderStatus)), name="status"),
        Index("ix_reminders_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"), index=True)
    # before-7d, deadline, overdue-2, escalation-1 ...: see tracker.reminders.policy.
    kind: Mapped[str] = mapped_column(String(40))
    # The claim deadline this reminder was computed for; a moved deadline cancels it.
    deadline: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=ReminderStatus.PENDING.value)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )

    claim: Mapped[Claim] = relationship()
    reviewer: Mapped[Reviewer] = relationship()
    delivery: Mapped[Delivery | None] = relationship(back_populates="reminders")


class Delivery(Base):
    """One message to one reviewer (a reminder digest or a report email), and the state of getting it there."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_in("status", tuple(DeliveryStatus)), name="status"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_deliveries_reviewer_id_created_at", "reviewer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    # Derived from the reviewer and its reminders, so a retry after a crash repeats it exactly.
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set for a report email (its body is the run's stored digest), NULL for a reminder digest.
    report_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_runs.id", ondelete="CASCADE"), index=True
    )

    reviewer: Mapped[Reviewer] = relationship()
    reminders: Mapped[list[Reminder]] = relationship(back_populates="delivery", order_by=Reminder.id)


class JobRun(Base):
    """One run of a scheduled job (a reminder pass, a report): the heartbeat `tracker status` reads."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started_at", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # NULL while running; a row left NULL long after started_at is a pass that died.
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(200))


# The web accounts' tables join the one metadata (migrations, drift checks) from their own module.
import tracker.accounts.models  # noqa: E402

# The audit log's table, and the listener that records writes to the models above.
import tracker.audit  # noqa: E402

# The uploads waiting for their confirm (the web app's import preview).
import tracker.staging  # noqa: E402, F401
