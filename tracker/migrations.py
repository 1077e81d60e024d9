"""Schema management: tracker's schema is made only by its Alembic migrations."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to `revision`."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    """Migrate the database down to `revision` ("base" empties it)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _known(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


def require_head(engine: Engine) -> None:
    """Raise DatabaseNotReady unless the database is at this tracker's newest migration."""
    current = current_revision(engine)
    if current is None:
        raise DatabaseNotReady(f"database {engine.url.render_as_string()} has no schema: run `tracker init`")
    if current != head_revision() and not _known(current):
        raise DatabaseNotReady(
            f"database is at migration {current}, newer than this tracker knows: upgrade tracker"
        )
    if current != head_revision():
        raise DatabaseNotReady(
            f"database is at migration {current}, tracker needs {head_revision()}: run `tracker db upgrade`"
        )
