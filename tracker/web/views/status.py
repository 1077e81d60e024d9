"""/status for reviewers (what `tracker status` shows) and /healthz for monitors (JSON, 200 or 503)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from tracker.health import status as health_status
from tracker.web.rendering import page
from tracker.web.security import login_required
from tracker.web.state import db, now, state

bp = Blueprint("status", __name__)
log = logging.getLogger(__name__)


@bp.route("/status")
@login_required
def show() -> Response:
    """The scheduler's heartbeat, the delivery queue and the warnings."""
    health = health_status(db(), state().app.settings, now())
    return page("web/status.html", health=health, title="Status")


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """JSON for monitors: 200 when all is well, 503 when the scheduler or the database needs a look."""
    try:
        health = health_status(db(), state().app.settings, now())
    except SQLAlchemyError:
        log.exception("healthz: the database is not answering")
        return jsonify(ok=False, error="the database is not answering"), 503
    return jsonify(health.to_json()), 200 if health.ok else 503
