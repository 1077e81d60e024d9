"""The audit log for admins: /audit (filtered, paginated) and /audit.csv; and who acts in a request.

Every request records its writes as the signed-in reviewer's (or "anonymous"), through
the web, stamped by the app's clock: `_act` sets that at the start of each request,
after the viewer is known, and `_done` ends it when the request does.
"""

from __future__ import annotations

from contextlib import ExitStack

from flask import Blueprint, Response, g, request

from tracker import audit
from tracker.audit.query import Filters, csv_lines, entries_page, parse_filters, people
from tracker.web.rendering import page
from tracker.web.security import admin_required
from tracker.web.state import db, state, viewer

bp = Blueprint("audit", __name__)


def web_actor(handle: str | None, reviewer_id: int | None) -> audit.Actor:
    """A reviewer (or, without a handle, an anonymous visitor) acting through the web app."""
    return audit.Actor(audit.Interface.WEB, handle or audit.ANONYMOUS, reviewer_id, clock=state().clock)


@bp.before_app_request
def _act() -> None:
    who = viewer()
    stack = ExitStack()
    stack.enter_context(audit.acting(web_actor(who.handle if who else None, who.id if who else None)))
    g.audit_actor = stack


@bp.teardown_app_request
def _done(_exc: BaseException | None) -> None:
    stack: ExitStack | None = g.pop("audit_actor", None)
    if stack is not None:
        stack.close()


def _filters() -> tuple[Filters, dict[str, str]]:
    return parse_filters(request.args)


@bp.route("/audit")
@admin_required
def index() -> Response:
    """Entries newest first, filtered by claim, person and period (UTC days), 50 a page."""
    filters, problems = _filters()
    try:
        number = int(request.args.get("page", "1"))
    except ValueError:
        number = 1
    shown = entries_page(db(), filters, number)
    return page(
        "web/audit.html",
        status=400 if problems else 200,
        filters=filters,
        problems=problems,
        raw=request.args,
        entries=shown,
        people=people(db()),
        title="Audit log",
    )


@bp.route("/audit.csv")
@admin_required
def download() -> Response:
    """The entries the same filters keep, oldest first, as CSV."""
    filters, problems = _filters()
    if problems:
        return Response(
            "; ".join(f"{k}: {v}" for k, v in problems.items()) + "\n", 400, mimetype="text/plain"
        )
    # Read here, while the request's session is open (it is closed before a streamed body would run).
    body = "".join(csv_lines(db(), filters))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
