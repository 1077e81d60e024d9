"""The App: settings, engine, session factory, estimative scale and templates, built in one place.

The CLI builds one and hands it to every command via ctx.obj; the scheduler and the web
app are given the same object.

Settings, engine and session factory are built on first use, so `--help` works even
when the configuration is broken; there is never a module-level engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tracker.audit import ENABLED
from tracker.config import Settings, load_settings
from tracker.db import (
    make_engine,
    make_session_factory,
    transaction,
    unit_of_work,
)
from tracker.errors import DatabaseNotReady
from tracker.estimative import EstimativeScale
from tracker.migrations import require_head
from tracker.services.deadlines import local_today
from tracker.templating import make_environment

T = TypeVar("T")


@dataclass
class App:
    """Everything a command needs: settings, the database, the estimative scale."""

    config_file: Path | None = None
    database_url: str | None = None
    _checked: bool = field(default=False, repr=False)

    @cached_property
    def settings(self) -> Settings:
        """The settings: config file, then TRACKER_* variables, then --database-url."""
        return load_settings(self.config_file, database_url=self.database_url)

    @cached_property
    def engine(self) -> Engine:
        """The engine for the configured database."""
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        """Sessions bound to the engine; one per command (their writes audited unless `audit.enabled` is off)."""
        return make_session_factory(self.engine, {ENABLED: self.settings.audit.enabled})

    @cached_property
    def scale(self) -> EstimativeScale:
        """The estimative scale with this deployment's extra phrases."""
        return EstimativeScale.with_overrides(self.settings.estimative_phrases)

    @cached_property
    def templates(self) -> Environment:
        """The one template environment: the site, the digests and the web app draw with it."""
        return make_environment(self.settings)

    def display_url(self) -> str:
        """The database URL with any password hidden."""
        return make_url(self.settings.database_url).render_as_string(hide_password=True)

    def url_and_password(self) -> tuple[str | None, str | None]:
        """The URL with its password hidden, and the password to scrub; Nones when unknown."""
        try:
            url = make_url(self.database_url or self.settings.database_url)
        except Exception:  # a broken URL or configuration: nothing to show, nothing to hide
            return None, None
        return url.render_as_string(hide_password=True), url.password

    def today(self, now: dt.datetime) -> dt.date:
        """The date at `now` in the configured timezone."""
        return local_today(self.settings.timezone, now)

    @contextmanager
    def begin(self, *, dry_run: bool = False, write: bool = True) -> Iterator[Session]:
        """One unit of work on a database at head: commits on success (never on a dry run).

        A writing unit (the default) takes the write lock up front (tracker.db.unit_of_work);
        a command that only reads says `write=False`, so that it never waits for a writer.
        A dry run writes before it rolls back, so it takes the lock too.
        """
        self._ready()
        with unit_of_work(self.session_factory, write=write, dry_run=dry_run) as session:
            yield session

    def transaction(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Run `work` in a unit of work of its own, again if the database asks for a retry."""
        self._ready()
        return transaction(self.session_factory, work, write=write)

    def _ready(self) -> None:
        if not self._checked:
            self._require_file()
            require_head(self.engine)
            self._checked = True

    def sqlite_path(self) -> Path | None:
        """The file of a file-backed SQLite database, else None."""
        url = self.engine.url
        database = url.database or ""
        if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
            return None
        return Path(database).expanduser()

    def _require_file(self) -> None:
        # Connecting would create an empty file (or fail on a missing folder): say what to do instead.
        path = self.sqlite_path()
        if path is not None and not path.exists():
            raise DatabaseNotReady(f"database {self.display_url()} does not exist: run `tracker init`")

    def close(self) -> None:
        """Release the engine's connections, if one was built."""
        if "engine" in self.__dict__:
            self.engine.dispose()
