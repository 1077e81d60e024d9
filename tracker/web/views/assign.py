"""Admins assign reviewers to a claim, or take them off it, from the claim page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker import services
from tracker.errors import NotFound
from tracker.web.forms import AssignForm
from tracker.web.rebuild import rebuild_source
from tracker.web.security import admin_required
from tracker.web.state import db

bp = Blueprint("assign", __name__)


@bp.route("/claims/<key>/assign", methods=["POST"])
@admin_required
def assign(key: str) -> BaseResponse:
    """Assign (or, with action=unassign, take off) the reviewer named in the form."""
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400, "Choose a reviewer.")
    handle, session = form.handle.data or "", db()
    try:
        if form.action.data == "unassign":
            changed = services.unassign(session, key, handle)
            flash(f"{handle} is no longer assigned." if changed else f"{handle} was not assigned.")
        else:
            changed = services.assign(session, key, handle)
            flash(f"{handle} is assigned." if changed else f"{handle} was already assigned.")
        if changed:
            rebuild_source(services.get_claim(session, key).source.slug)
    except NotFound as exc:
        abort(404, str(exc))
    return redirect(url_for("claims.show", key=key))
