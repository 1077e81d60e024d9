"""A WSGI entry point for servers such as gunicorn: `gunicorn 'tracker.web.wsgi:application'`.

Settings come from the environment and the config file, as for the CLI.
"""

from __future__ import annotations

from flask import Flask

from tracker.app import App
from tracker.web import create_app


def make_application() -> Flask:
    """The web app for the configured database, rebuilding scorecards after verdicts."""
    return create_app(App(), rebuild=True)


application = make_application()
