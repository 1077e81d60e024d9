"""Schema management: tracker's schema is made only by its Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from tracker.errors import DatabaseNotReady
from tracker.resources import resource_dir


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped with tracker."""
    config = Config()
    config.set_main_option("script_location", str(resource_dir("alembic")))
    return config


def head_revision() -> str:
    """The newest migration this version of tracker knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "tracker ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for a migration run.

    On SQLite, batch mode rebuilds a table by copying it and dropping the original; with
    foreign keys on, that drop would trip RESTRICT and fire ON DELETE actions. Foreign keys
    are switched off around the run (they cannot be switched inside a transaction) and the
    result is checked before they come back on.
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to `revision`."""
    config = alembic_config()
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    """Migrate the database down to `revision` ("base" empties it)."""
    config = alembic_config()
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _known(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


def require_known(engine: Engine, current: str | None) -> None:
    """Raise DatabaseNotReady when the database is at a migration this tracker does not have."""
    if current is not None and current != head_revision() and not _known(current):
        raise DatabaseNotReady(
            f"database {engine.url.render_as_string()} is at migration {current}, newer than this "
            f"tracker knows (its newest is {head_revision()}): upgrade tracker"
        )


def require_head(engine: Engine) -> None:
    """Raise DatabaseNotReady unless the database is at this tracker's newest migration."""
    current = current_revision(engine)
    if current is None:
        raise DatabaseNotReady(f"database {engine.url.render_as_string()} has no schema: run `tracker init`")
    require_known(engine, current)
    if current != head_revision():
        raise DatabaseNotReady(
            f"database is at migration {current}, tracker needs {head_revision()}: run `tracker db upgrade`"
        )
