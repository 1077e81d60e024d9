"""The web benchmark's server process: tracker's web app, plus the floor route, under waitress.

This is the bench's own WSGI entry: `tracker.web.create_app` as `tracker serve` builds it
(rebuild=True, the configured `web.threads`), with one more blueprint registered on the
same Flask app, so the floor passes through the same before/after-request hooks (Origin
check, session cookie and viewer lookup, commit, security headers) as every page.

The floor, GET /bench/floor/<id>: one indexed SELECT of one claim (by primary key) and a
one-line template from the app's own Jinja environment.

Run by bench/web.py as `python bench/_webserver.py --config C --database-url U FD`: FD is
a listening socket the parent made for this process. Settings come from the config file
and the URL (the parent clears TRACKER_* from the environment).
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from flask import Blueprint, Flask, Response
from jinja2 import Template
from sqlalchemy import select

from tracker.app import App
from tracker.models import Claim
from tracker.web import create_app
from tracker.web.state import db

FLOOR_TEMPLATE = "<p>{{ claim.key }}: {{ claim.statement }}</p>"


def floor_blueprint(template: Template) -> Blueprint:
    """The floor route, drawing with `template` (compiled once per process)."""
    floor = Blueprint("bench_floor", __name__)

    @floor.route("/bench/floor/<int:claim_id>")
    def floor_page(claim_id: int) -> Response:
        """One claim by id, one line of HTML."""
        claim = db().scalars(select(Claim).where(Claim.id == claim_id)).one()
        return Response(template.render(claim=claim), mimetype="text/html")

    return floor


def make_application(app: App) -> Flask:
    """The production app (as `tracker serve` makes it) with the floor route added."""
    flask_app = create_app(app, rebuild=True)
    # The app's one environment, so the floor escapes and caches as every page does.
    flask_app.register_blueprint(floor_blueprint(app.templates.from_string(FLOOR_TEMPLATE)))
    return flask_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("fd", type=int, help="inherited listening socket")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    from waitress import create_server

    app = App(config_file=args.config, database_url=args.database_url)
    flask_app = make_application(app)
    sock = socket.socket(fileno=args.fd)
    server = create_server(flask_app, sockets=[sock], threads=app.settings.web.threads)
    print("ready", flush=True)
    sys.stdout.close()
    server.run()  # until the parent's SIGTERM


if __name__ == "__main__":
    main()
