"""The queue: what the signed-in reviewer (or, for an admin, anyone) has to resolve."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from tracker.models import ClaimKind, Reviewer
from tracker.services.deadlines import local_today
from tracker.web.queue import Filters, choices, queue
from tracker.web.rendering import page
from tracker.web.security import login_required
from tracker.web.state import db, now, viewer

bp = Blueprint("queue", __name__)
EVERYONE = "*"


@bp.route("/")
@login_required
def index() -> Response:
    """The queue's four groups, narrowed by ?source=, ?tag=, ?kind= and (admins) ?reviewer=."""
    who = viewer()
    assert who is not None
    session = db()
    whose = request.args.get("reviewer", "")
    reviewer_id: int | None = who.id
    shown = who.handle
    if whose and whose != who.handle:
        if not who.admin:
            abort(403)
        if whose == EVERYONE:
            reviewer_id, shown = None, EVERYONE
        else:
            found = session.scalar(select(Reviewer.id).where(Reviewer.handle == whose))
            if found is None:
                abort(404)
            reviewer_id, shown = found, whose
    kind = request.args.get("kind", "")
    if kind and kind not in tuple(ClaimKind):
        kind = ""
    filters = Filters(reviewer_id, request.args.get("source", ""), request.args.get("tag", ""), kind)
    today = local_today(who.timezone, now())
    reviewers = list(session.scalars(select(Reviewer.handle).order_by(Reviewer.handle))) if who.admin else []
    return page(
        "web/queue.html",
        groups=queue(session, filters, today, viewer_id=who.id, admin=who.admin),
        filters=filters,
        options=choices(session),
        kinds=[k.value for k in ClaimKind],
        reviewers=reviewers,
        shown=shown,
        everyone=EVERYONE,
        today=today,
        title="Your queue" if shown == who.handle else f"Queue: {shown}",
    )
