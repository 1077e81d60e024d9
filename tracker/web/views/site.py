"""The public side: the scorecard site as `tracker scorecards` wrote it, and personal calendars."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, redirect, send_from_directory
from werkzeug.wrappers import Response as BaseResponse

from tracker.accounts.keys import reviewer_for_calendar
from tracker.ical import build_calendar, open_deadlines
from tracker.resources import resource_dir
from tracker.web.state import db, now, state

bp = Blueprint("site", __name__)


@bp.route("/scorecards")
def root() -> BaseResponse:
    """The site lives under /scorecards/ (its links are relative)."""
    return redirect("/scorecards/")


@bp.route("/scorecards/")
def index() -> Response:
    """The site's front page."""
    return file("index.html")


@bp.route("/scorecards/<path:path>")
def file(path: str) -> Response:
    """A file of the built site (send_from_directory refuses paths outside the folder)."""
    folder = Path(state().app.settings.report.out_dir).resolve()
    if path.endswith("/"):
        path += "index.html"
    if not (folder / "index.html").is_file():
        abort(404, "The scorecard site has not been built yet: run `tracker scorecards`.")
    return send_from_directory(folder, path, max_age=60)


@bp.route("/static/scorecards.css")
def stylesheet() -> Response:
    """The site's stylesheet, from the packaged templates (so the app looks right before any build)."""
    return send_from_directory(resource_dir("templates") / "scorecards", "style.css", max_age=3600)


@bp.route("/calendar/<token>.ics")
def calendar(token: str) -> Response:
    """A reviewer's open deadlines as iCalendar; the token is the only key, and it can be replaced."""
    session = db()
    reviewer = reviewer_for_calendar(session, token)
    if reviewer is None:
        abort(404)
    settings = state().app.settings
    deadlines = open_deadlines(session, reviewer=reviewer.handle, default_timezone=settings.timezone)
    body = build_calendar(deadlines, now=now(), reviewer=reviewer.handle)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})
