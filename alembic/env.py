"""Alembic environment: runs tracker's migrations on the connection it is handed.

`tracker.migrations` passes a live connection in `config.attributes["connection"]`;
a developer running the `alembic` command directly gets the URL from the settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tracker.config import load_settings
from tracker.db import UTCDateTime, make_engine
from tracker.models import Base

target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import tracker's column types, which may change later.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # Batch mode rebuilds tables on SQLite, whose ALTER TABLE cannot do most changes.
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(load_settings().database_url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("tracker's migrations run online only: use `tracker db upgrade`")
run_migrations_online()
