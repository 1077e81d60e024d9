"""Error pages in the app's layout; a database failure is one line on the page, the traceback in the log."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from tracker.errors import TrackerError
from tracker.web.rendering import page

log = logging.getLogger("tracker.web")

TITLES = {
    400: "That request was not understood",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Changed meanwhile",
    410: "This link has expired",
    413: "That is too large",
    500: "Something went wrong",
    503: "The database is not available",
}


def _page(status: int, message: str) -> Response:
    title = TITLES.get(status, "Error")
    try:
        return page("web/error.html", status=status, code=status, heading=title, message=message, title=title)
    except (
        Exception
    ):  # the layout itself failed (e.g. a broken template override): plain text, never a traceback
        log.exception("rendering the error page failed")
        return Response(f"{status} {title}\n", status=status, mimetype="text/plain")


def register(flask_app: Flask) -> None:
    """Install the handlers."""

    @flask_app.errorhandler(CSRFError)
    def csrf(exc: CSRFError) -> Response:
        return _page(
            400, "The form had expired or did not come from this site. Load the page again and resend it."
        )

    @flask_app.errorhandler(HTTPException)
    def http(exc: HTTPException) -> Response:
        status = exc.code or 500
        default = {
            403: "You may not see or do this.",
            404: "There is nothing at this address.",
            413: "The upload is larger than this site accepts.",
        }
        message = (
            exc.description if exc.description and not exc.description.startswith(("The ", "You don")) else ""
        )
        return _page(status, message or default.get(status, ""))

    @flask_app.errorhandler(SQLAlchemyError)
    def database(exc: SQLAlchemyError) -> Response:
        log.exception("database error on %s %s", request.method, request.path)
        return _page(503, "The database did not answer. Try again in a moment.")

    @flask_app.errorhandler(TrackerError)
    def tracker_error(exc: TrackerError) -> Response:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        return _page(400, lines[-1] if lines else "That could not be done.")

    @flask_app.errorhandler(Exception)
    def anything(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _page(500, "The error has been logged.")
