"""`tracker up` (everything a new user needs, in one command), `tracker serve` and `reviewers set-password`."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import info
from tracker.errors import TrackerError

CLAIMS_FILE = "claims.yaml"


def read_password(handle: str) -> str:
    """Prompt twice on a terminal (never echoed); read one line from stdin otherwise."""
    if sys.stdin.isatty():
        return str(click.prompt(f"New password for {handle}", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@click.command("set-password")
@click.argument("handle")
@pass_app
def set_password_cmd(app: App, handle: str) -> None:
    """Set HANDLE's web password (at least 10 characters); their other sessions end."""
    from tracker.accounts.passwords import password_problem, set_password

    password = read_password(handle)
    if problem := password_problem(password):
        raise TrackerError(f"reviewer {handle!r}: {problem}")
    with app.begin() as session:
        set_password(session, handle, password, dt.datetime.now(dt.UTC))
    click.echo(f"password set for {handle}; their other sessions have ended")


def _serve_forever(app: App, host: str, port: int, *, scheduler: bool) -> None:
    """Serve the web app with waitress (and run the scheduler) until SIGTERM or Ctrl-C."""
    from waitress import create_server

    from tracker.web import create_app

    flask_app = create_app(app, rebuild=True)
    # Our own socket map: stopping closes everything in it, and the server's loop then ends.
    sockets: dict[int, Any] = {}
    server: Any = create_server(
        flask_app, map=sockets, host=host, port=port, threads=app.settings.web.threads
    )
    thread = threading.Thread(target=server.run, name="tracker-web", daemon=True)
    thread.start()
    click.echo(f"tracker is serving http://{host}:{server.effective_port}", err=False)
    try:
        if scheduler:
            _run_scheduler(app)
        else:
            _wait_for_signal()
    finally:
        _stop_server(server, sockets, thread)
        rebuilder = flask_app.extensions["tracker"].rebuilder
        if rebuilder is not None:
            rebuilder.stop()
        info("tracker stopped")


def _stop_server(server: Any, sockets: dict[int, Any], thread: threading.Thread) -> None:
    """Let the requests under way finish, then close every socket from the server's own thread."""

    def close_all() -> None:
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)
        for channel in list(sockets.values()):
            channel.close()

    server.trigger.pull_trigger(close_all)
    thread.join(timeout=15)


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived: stop what is under way and exit 0."""


@contextmanager
def _stops_cleanly() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a clean stop (exit 0), wherever they arrive."""

    def handle(signum: int, _frame: Any) -> None:
        info(f"{signal.Signals(signum).name}: stopping")
        raise _Interrupted

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Interrupted:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _wait_for_signal() -> None:
    while True:
        time.sleep(3600)  # the signal handler raises _Interrupted out of this


def _run_scheduler(app: App) -> None:
    from tracker.channels import make_channel
    from tracker.cli.scheduler import ConsoleListener
    from tracker.clock import utcnow
    from tracker.reminders import LEASE, default_worker
    from tracker.scheduler import Jobs, Runner

    jobs = Jobs(
        app.session_factory,
        app.settings,
        make_channel(app.settings),
        utcnow,
        default_worker(),
        lease=LEASE,
    )
    Runner(jobs, ConsoleListener(app, utcnow)).forever()


def _host_port(app: App, host: str | None, port: int | None) -> tuple[str, int]:
    return host or app.settings.web.host, port if port is not None else app.settings.web.port


host_option = click.option(
    "--host", default=None, help="Address to listen on (default: web.host, 127.0.0.1)."
)
port_option = click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port to listen on (default: web.port, 8000)."
)


@click.command("serve")
@host_option
@port_option
@pass_app
def serve(app: App, host: str | None, port: int | None) -> None:
    """Serve the reviewers' web app alone (run `tracker scheduler` separately), until SIGTERM or Ctrl-C."""
    with app.begin():
        pass  # a missing or outdated database fails here, in one line
    with _stops_cleanly():
        _serve_forever(app, *_host_port(app, host, port), scheduler=False)


@click.command("up")
@host_option
@port_option
@click.option("--no-scheduler", is_flag=True, help="Do not send reminders or make the periodic report.")
@click.option("--no-import", is_flag=True, help=f"Do not import ./{CLAIMS_FILE} into an empty database.")
@pass_app
def up(app: App, host: str | None, port: int | None, no_scheduler: bool, no_import: bool) -> None:
    """Everything in one command: the database, the claims, the scorecards, the web app and the scheduler."""
    with _stops_cleanly():
        _up(app, host, port, no_scheduler=no_scheduler, no_import=no_import)


def _up(app: App, host: str | None, port: int | None, *, no_scheduler: bool, no_import: bool) -> None:
    from tracker import migrations
    from tracker.claimsfile import import_claims
    from tracker.models import Claim
    from tracker.scorecards.build import build_site

    now = dt.datetime.now(dt.UTC)
    path = app.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(app.engine, "head")
    click.echo(f"database {app.display_url()} is ready")
    with app.begin() as session:
        claims = session.scalar(select(func.count()).select_from(Claim)) or 0
    source = Path(CLAIMS_FILE)
    if claims == 0 and not no_import and source.is_file():
        with app.begin() as session:
            report = import_claims(session, source, settings=app.settings, now=now)
        click.echo(f"imported {report.created} claims from ./{CLAIMS_FILE} (the database had none)")
    elif claims == 0 and not no_import:
        click.echo(
            f"no ./{CLAIMS_FILE} here and no claims in the database: add some with `tracker claims add`"
        )
    out = Path(app.settings.report.out_dir)
    with app.begin() as session:
        built = build_site(session, out, settings=app.settings, now=now)
    click.echo(f"scorecards: {len(built.written)} pages written to {out} ({built.unchanged} unchanged)")
    host, port = _host_port(app, host, port)
    _first_run_link(app, host, port, now)
    _serve_forever(app, host, port, scheduler=not no_scheduler)


def _first_run_link(app: App, host: str, port: int, now: dt.datetime) -> None:
    """Print a one-time link that sets the first admin's password (making an admin if there is none)."""
    from tracker.accounts.links import setup_token
    from tracker.accounts.models import Credential
    from tracker.models import Reviewer, ReviewerRole
    from tracker.web import secret_key

    with app.begin() as session:
        has_password = session.scalar(select(func.count()).where(Credential.password_hash.is_not(None))) or 0
        if has_password:
            return
        admin = session.scalars(
            select(Reviewer).where(Reviewer.role == ReviewerRole.ADMIN.value).order_by(Reviewer.id)
        ).first()
        if admin is None:
            from tracker.services import add_reviewer

            admin = add_reviewer(session, "admin", "Administrator", "admin@localhost", role="admin", now=now)
            click.echo("made an admin reviewer, 'admin', to sign in with")
        cred = session.get(Credential, admin.id)
        admin_id, epoch = admin.id, cred.session_epoch if cred is not None else 0
    token = setup_token(secret_key(app, now), admin_id, epoch)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(
        f"first run: set {admin.handle}'s password here (the link works once): http://{shown}:{port}/setup/{token}"
    )
