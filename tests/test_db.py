"""Engines, sessions and the UTC datetime type, on every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, inspect, select, text
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from tracker.db import RETRIES, make_engine, make_session_factory, transaction, unit_of_work, utcnow
from tracker.errors import WriterBusy
from tracker.models import Source


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://tracker@db.example.org/tracker", "psycopg"),
        ("postgresql+psycopg://tracker@db.example.org/tracker", "psycopg"),
        ("sqlite:///tracker.db", "pysqlite"),
    ],
)
def test_make_engine_uses_psycopg_for_postgresql(url: str, driver: str) -> None:
    engine = make_engine(url)  # engines connect lazily, so no server is needed
    try:
        assert engine.dialect.driver == driver
    finally:
        engine.dispose()


def test_session_factory_keeps_objects_usable_after_commit(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        source = Source(slug="kept", name="Kept", kind="outlet")
        session.add(source)
    # Views and the CLI read results after the unit of work has committed.
    assert source.name == "Kept"


def test_utcnow_is_aware_utc() -> None:
    assert utcnow().tzinfo is dt.UTC


def test_utc_datetime_round_trips_aware_values_as_utc(
    session: Session, make_source: Callable[..., Source]
) -> None:
    kolkata = dt.timezone(dt.timedelta(hours=5, minutes=30))
    stamp = dt.datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=kolkata)
    source_id = make_source(created_at=stamp).id
    session.expire_all()

    loaded = session.get_one(Source, source_id).created_at
    assert loaded == stamp
    assert loaded.tzinfo is dt.UTC
    assert loaded.hour == 6 and loaded.minute == 30 and loaded.microsecond == 123456


def test_utc_datetime_orders_by_instant_not_by_wall_clock(
    session: Session, make_source: Callable[..., Source]
) -> None:
    # 10:00 at +05:00 is 05:00 UTC, before 06:00 UTC; stored with offsets, SQLite text would sort wrongly.
    earlier = make_source(
        created_at=dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    )
    later = make_source(created_at=dt.datetime(2026, 1, 1, 6, 0, tzinfo=dt.UTC))
    ordered = session.scalars(select(Source.slug).order_by(Source.created_at)).all()
    assert ordered == [earlier.slug, later.slug]


def test_utc_datetime_refuses_naive_values(make_source: Callable[..., Source]) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        make_source(created_at=dt.datetime(2026, 11, 23, 12, 0))


def test_session_fixture_commits_stay_inside_the_test_transaction(
    session: Session, engine: Engine, make_source: Callable[..., Source]
) -> None:
    make_source()
    session.commit()
    # Another connection must not see it: the test's outer transaction is still open.
    with engine.connect() as other:
        assert other.scalar(select(func.count()).select_from(Source)) == 0
    assert session.scalar(select(func.count()).select_from(Source)) == 1


def test_session_fixture_rollback_undoes_only_the_test_work(
    session: Session, make_source: Callable[..., Source]
) -> None:
    kept = make_source()
    session.commit()
    make_source()
    session.rollback()
    assert session.scalars(select(Source.slug)).all() == [kept.slug]


def test_session_factory_units_of_work_commit(session_factory: sessionmaker[Any], engine: Engine) -> None:
    with session_factory.begin() as session:
        session.add(Source(slug="committed", name="Committed", kind="person"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT slug FROM sources")).scalars().all() == ["committed"]


def test_transactions_cover_ddl_and_savepoints(engine: Engine) -> None:
    """A rolled-back transaction undoes DDL and released savepoints, on SQLite as on PostgreSQL."""
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
        nested = connection.begin_nested()
        connection.exec_driver_sql("INSERT INTO scratch VALUES (1)")
        nested.commit()
        transaction.rollback()
    with engine.connect() as connection:
        assert "scratch" not in inspect(connection).get_table_names()


# --- units of work ----------------------------------------------------------------------------------


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    # Runs after make_engine's own pragmas: a writer that finds the lock taken gives up at once.
    dbapi_connection.execute("PRAGMA busy_timeout=200")


def test_sqlite_write_units_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    other = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    event.listen(other, "connect", _short_busy_timeout)
    try:
        with unit_of_work(make_session_factory(engine), write=True) as session:
            session.execute(text("SELECT 1"))  # a read alone: the lock is held since BEGIN all the same
            busy = pytest.raises(
                WriterBusy, match=r"^waited 0\.\d s for another writer to finish and gave up"
            )
            with busy, unit_of_work(make_session_factory(other), write=True) as second:
                second.execute(text("SELECT 1"))
            # A reader is never held up by a writer (WAL).
            with unit_of_work(make_session_factory(other), write=False) as reader:
                assert reader.execute(text("SELECT 1")).scalar() == 1
        # Once the first writer is done, the second gets its turn.
        with unit_of_work(make_session_factory(other), write=True) as second:
            assert second.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
        other.dispose()


class _Deadlock(Exception):
    """What psycopg raises for a deadlock: an error with its SQLSTATE."""

    sqlstate = "40P01"


def test_transaction_runs_work_again_when_the_database_asks(session_factory: sessionmaker[Any]) -> None:
    attempts: list[int] = []

    def work(session: Session) -> int:
        attempts.append(1)
        session.add(Source(slug=f"s{len(attempts)}", name="S", kind="outlet"))
        session.flush()
        if len(attempts) < RETRIES:
            raise OperationalError("UPDATE ...", {}, _Deadlock("deadlock detected"))
        return len(attempts)

    assert transaction(session_factory, work) == RETRIES
    with session_factory() as session:
        # The failed attempts were rolled back: only the last one's source is there.
        assert session.scalars(select(Source.slug)).all() == [f"s{RETRIES}"]


def test_transaction_gives_up_after_its_retries(session_factory: sessionmaker[Any]) -> None:
    attempts: list[int] = []

    def work(session: Session) -> None:
        attempts.append(1)
        raise OperationalError("UPDATE ...", {}, _Deadlock("deadlock detected"))

    with pytest.raises(OperationalError, match="deadlock detected"):
        transaction(session_factory, work)
    assert len(attempts) == RETRIES


def test_a_reader_that_gave_up_on_a_lock_says_it_waited(session_factory: sessionmaker[Any]) -> None:
    def work(session: Session) -> None:
        raise OperationalError("UPDATE ...", {}, Exception("database is locked"))

    with pytest.raises(WriterBusy, match=r"^waited \d+\.\d s for another writer to finish and gave up"):
        transaction(session_factory, work, write=False)
