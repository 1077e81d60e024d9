"""Engine and session factory, the declarative base, and column types.

There is no module-level engine or session: the CLI builds them from the
settings and passes them on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

from tracker.errors import TrackerError

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


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (callers that need to be testable take `now`)."""
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (scorecards, the web app) run while a writer imports.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Python's sqlite3 driver (before 3.12's autocommit attribute) issues BEGIN only before
    # DML, so DDL and SAVEPOINTs would escape the transaction. Take the driver out of that
    # mode on connect and begin explicitly: migrations, nested transactions and rollbacks
    # then behave on SQLite as they do on PostgreSQL.
    connection.exec_driver_sql("BEGIN")


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


def make_session_factory(engine: Engine) -> sessionmaker[Any]:
    """A session factory; each unit of work opens `with factory.begin() as session:`."""
    return sessionmaker(bind=engine, expire_on_commit=False)
