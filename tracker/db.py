"""Engine and session factory, the declarative base, and column types.

There is no module-level engine or session: the CLI builds them from the
settings and passes them on.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Re-exported: the models' column defaults stamp rows with the one clock.
from tracker.clock import utcnow as utcnow
from tracker.errors import TrackerError, WriterBusy

# Stable constraint names, so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for all of tracker's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timezone type and hands back naive values; this stores UTC and
    re-attaches the zone on the way out, and refuses naive input on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; tracker stores timezone-aware UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# How long a SQLite writer waits for another to commit before it gives up.
BUSY_TIMEOUT_SECONDS = 10
# An execution option: the transaction this connection begins will write (see `unit_of_work`).
WRITE_INTENT = "tracker_write_intent"
# Attempts of a transaction the database asked to retry (deadlock, serialisation failure).
RETRIES = 3
# pg_advisory_xact_lock key held by everything that adds or rewrites claims, sources and reviewers
# by name (imports, `claims add`, `reviewers add`, `sources add`): "trak" in ASCII, arbitrary.
CATALOGUE_LOCK = 0x7472616B

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (scorecards, the web app) run while a writer imports.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Python's sqlite3 driver (before 3.12's autocommit attribute) issues BEGIN only before
    # DML, so DDL and SAVEPOINTs would escape the transaction. Take the driver out of that
    # mode on connect and begin explicitly: migrations, nested transactions and rollbacks
    # then behave on SQLite as they do on PostgreSQL.
    # A transaction that will write takes the write lock at BEGIN. A deferred BEGIN starts
    # as a reader, and a reader that tries to write after another writer committed fails
    # at once with "database is locked": busy_timeout cannot help it, as its snapshot is stale.
    immediate = connection.get_execution_options().get(WRITE_INTENT, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server to answer; `?connect_timeout=N` in the URL overrides it."""


def _name_silent_server(context: ExceptionContext) -> BaseException | None:
    # Imported here: only a PostgreSQL engine gets this hook, and psycopg is its driver.
    from psycopg.errors import ConnectionTimeout

    if not isinstance(context.original_exception, ConnectionTimeout) or context.engine is None:
        return None
    url = context.engine.url
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    timeout = url.query.get("connect_timeout", str(CONNECT_TIMEOUT))
    return TrackerError(
        f"database server {where} did not answer within {timeout} s "
        "(a longer wait: ?connect_timeout=SECONDS in the database URL)"
    )


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url`, with SQLite set up for WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the supported driver; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # libpq waits for ever for a server that accepts the connection and never answers.
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, **kwargs.get("connect_args", {})}
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "handle_error", _name_silent_server)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_no_driver_transactions)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Any]:
    """A session factory; each unit of work opens `with factory.begin() as session:`.

    `info` is copied into each session's `Session.info` (the audit log's switch).
    """
    return sessionmaker(bind=engine, expire_on_commit=False, info=dict(info or {}))


# --- units of work ----------------------------------------------------------------------------------


class Sessions(Protocol):
    """What a unit of work needs of a session factory: `with sessions.begin() as session:`."""

    def begin(self) -> AbstractContextManager[Session]: ...


def retryable(exc: Exception) -> bool:
    """Whether the database asked for the transaction to be tried again (SQLAlchemy's error or the driver's)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    # Deadlock or serialisation failure (PostgreSQL), or a lock that outlived busy_timeout (SQLite).
    return code in ("40P01", "40001") or is_locked(exc)


def is_locked(exc: BaseException) -> bool:
    """Whether SQLite gave up waiting for another writer ("database is locked")."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return "database is locked" in str(orig)


def writer_busy(since: float) -> WriterBusy:
    """The error for a writer that waited out the busy timeout, since time.monotonic() was `since`."""
    waited = time.monotonic() - since
    return WriterBusy(
        f"waited {waited:.1f} s for another writer to finish and gave up; try again when it is done"
    )


def take_write_lock(session: Session) -> None:
    """Declare that the session's transaction will write; call it before the first statement.

    On SQLite the transaction then begins with BEGIN IMMEDIATE, so it waits its turn
    (busy_timeout) instead of failing later. PostgreSQL needs nothing: its row and
    advisory locks wait by themselves.
    """
    session.connection(execution_options={WRITE_INTENT: True})


def lock_catalogue(session: Session) -> None:
    """Serialise writers that look names up and then add or rewrite what they found.

    An import reads the database, works out what changed and writes that; two at once
    would both append the same change, or both insert the same new reviewer. On
    PostgreSQL a transaction-level advisory lock makes them queue (released at commit or
    rollback), so the second decides what changed only after the first committed. On
    SQLite the write lock taken at BEGIN (`take_write_lock`) already does that.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOGUE_LOCK})


@contextmanager
def unit_of_work(sessions: Sessions, *, write: bool = True, dry_run: bool = False) -> Iterator[Session]:
    """One unit of work: commits on success (never on a dry run), rolls back on error.

    A writing unit takes SQLite's write lock up front; a writer that waited out the busy
    timeout raises WriterBusy (a TrackerError) saying so, instead of the driver's error.
    """
    since = time.monotonic()
    try:
        with sessions.begin() as session:
            if write:
                take_write_lock(session)
            yield session
            if dry_run:
                # Ends the transaction here, so that leaving the block has nothing to commit.
                session.rollback()
    except OperationalError as exc:
        if write and is_locked(exc):
            raise writer_busy(since) from exc
        raise


def transaction(sessions: Sessions, work: Callable[[Session], T], *, write: bool = True) -> T:
    """Run `work` in a unit of work of its own, again when the database asks for a retry.

    `work` must be safe to run again: it reads what it needs inside the transaction.
    """
    since = time.monotonic()
    for attempt in range(RETRIES):
        try:
            with unit_of_work(sessions, write=write) as session:
                return work(session)
        except OperationalError as exc:
            if attempt < RETRIES - 1 and retryable(exc):
                continue
            if is_locked(exc):
                raise writer_busy(since) from exc
            raise
    raise AssertionError("unreachable")
