"""`tracker init` and `tracker db ...`: the schema, made only by the migrations."""

from __future__ import annotations

import sys

import click
from alembic.util import CommandError

from tracker import migrations
from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json
from tracker.cli.params import json_option
from tracker.errors import TrackerError


def _require_sqlite_folder(app: App) -> None:
    # SQLite creates the file but not its folder. Making the folders would turn a typo in
    # the path into a tree of new folders; refuse, and name the one that is missing.
    path = app.sqlite_path()
    if path is None:
        return
    folder = path.absolute().parent
    if not folder.is_dir():
        missing = folder
        while not missing.parent.is_dir() and missing.parent != missing:
            missing = missing.parent
        raise TrackerError(
            f"database {app.display_url()}: folder {missing} does not exist; create it, or fix the path"
        )


def _current(app: App) -> str | None:
    """The database's revision; a DatabaseNotReady when it is newer than this tracker."""
    path = app.sqlite_path()
    # Asking a missing SQLite file for its revision would create it, empty.
    if path is not None and not path.exists():
        return None
    current = migrations.current_revision(app.engine)
    migrations.require_known(app.engine, current)
    return current


def _revision(revision: str) -> str:
    # Options are not looked for in REVISION (`-1` is a relative revision, as in Alembic),
    # so an option misspelt there would otherwise be taken for a revision.
    if revision.startswith("-") and not revision[1:].isdigit():
        raise click.UsageError(f"No such option: {revision}")
    return revision


def _status(app: App) -> dict[str, object]:
    current = _current(app)
    head = migrations.head_revision()
    return {"database": app.display_url(), "revision": current, "head": head, "is_head": current == head}


@click.command()
@json_option
@pass_app
def init(app: App, as_json: bool) -> None:
    """Create the database at the newest schema (safe to run again)."""
    _require_sqlite_folder(app)
    before = _current(app)
    migrations.upgrade(app.engine, "head")
    status = _status(app)
    status["previous"] = before
    if as_json:
        emit_json(status)
    elif before == status["revision"]:
        click.echo(f"database {status['database']} is already at {status['revision']} (head)")
    else:
        click.echo(f"initialised database {status['database']} at {status['revision']}")


@click.group()
def db() -> None:
    """Migrate the database schema."""


# Not looking for options among the arguments lets REVISION be relative, as `-1` is.
RELATIVE = {"ignore_unknown_options": True}


@db.command(context_settings=RELATIVE)
@click.argument("revision", default="head", callback=lambda _ctx, _param, value: _revision(value))
@json_option
@pass_app
def upgrade(app: App, revision: str, as_json: bool) -> None:
    """Migrate up to REVISION (default: head; +N: N steps up)."""
    before = _current(app)
    try:
        migrations.upgrade(app.engine, revision)
    except CommandError as exc:  # an unknown or misspelt revision
        raise TrackerError(f"cannot upgrade to {revision!r}: {exc}") from exc
    _report(app, before, as_json)


@db.command(context_settings=RELATIVE)
@click.argument("revision", default="-1", callback=lambda _ctx, _param, value: _revision(value))
@click.option("--yes", is_flag=True, help="Do not ask: downgrading drops tables and their rows.")
@json_option
@pass_app
def downgrade(app: App, revision: str, yes: bool, as_json: bool) -> None:
    """Migrate down to REVISION (default: -1, one step; -N: N steps; "base" empties the database)."""
    if not yes:
        if not sys.stdin.isatty():
            raise TrackerError("downgrading can drop data: pass --yes to confirm")
        click.confirm(f"Downgrade {app.display_url()} to {revision}? This can drop data", abort=True)
    before = _current(app)
    if before is None:
        raise TrackerError(f"database {app.display_url()} has no schema to downgrade")
    try:
        migrations.downgrade(app.engine, revision)
    except CommandError as exc:
        raise TrackerError(f"cannot downgrade to {revision!r}: {exc}") from exc
    _report(app, before, as_json)


def _report(app: App, before: str | None, as_json: bool) -> None:
    status = _status(app)
    status["previous"] = before
    if as_json:
        emit_json(status)
    elif before == status["revision"]:
        click.echo(f"database {status['database']} stays at {status['revision'] or 'base'}")
    else:
        click.echo(f"database {status['database']}: {before or 'base'} -> {status['revision'] or 'base'}")


@db.command()
@json_option
@pass_app
def current(app: App, as_json: bool) -> None:
    """Show the database's migration revision and whether it is the newest."""
    status = _status(app)
    if as_json:
        emit_json(status)
        return
    if status["revision"] is None:
        click.echo(
            f"database {status['database']} has no schema (head is {status['head']}): run `tracker init`"
        )
    elif status["is_head"]:
        click.echo(f"{status['revision']} (head)")
    else:
        click.echo(f"{status['revision']} (behind head {status['head']}): run `tracker db upgrade`")
