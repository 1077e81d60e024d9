"""Pages are drawn by the one shared template environment, never by a second one of Flask's.

Views call `page(name, **context)`; it adds what every page needs (the viewer, the CSRF
token, `url_for`, the layout's variables) and renders through the App's environment.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, url_for
from flask_wtf.csrf import generate_csrf
from jinja2 import Environment

from tracker.app import App
from tracker.rules import check_url
from tracker.web.state import state, viewer

# The scorecards' base.html wants these; the web layout points them at the served site.
SITE_ROOT = "/scorecards/"


def environment(app: App) -> Environment:
    """The App's one shared environment (the scorecards and the emails draw with it too)."""
    return app.templates


def safe_href(url: str | None) -> bool:
    """Whether `url` may be a link: http or https only (never javascript: or data:)."""
    return bool(url) and check_url(url or "") is None


def render(name: str, **context: Any) -> str:
    """The template `name` rendered with the page-wide context."""
    env = environment(state().app)
    base = {
        "root": SITE_ROOT,
        "selection_note": "The reviewers' workspace of this tracker.",
        "viewer": viewer(),
        "csrf_token": generate_csrf,
        "url_for": url_for,
        "messages": g.get("messages", []),
        "safe_href": safe_href,
    }
    return env.get_template(name).render({**base, **context})


def page(name: str, status: int = 200, **context: Any) -> Response:
    """An HTML response with the template `name`."""
    return Response(render(name, **context), status=status, mimetype="text/html")


def say(message: str) -> None:
    """A message to show at the top of the page this request renders."""
    g.setdefault("messages", []).append(message)
