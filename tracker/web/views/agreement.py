"""/reviewers/agreement: how often double reviewers agree (the figures of `tracker reviewers agreement`)."""

from __future__ import annotations

from flask import Blueprint, Response

from tracker import services
from tracker.web.rendering import page
from tracker.web.security import login_required
from tracker.web.state import db, state

bp = Blueprint("agreement", __name__)


@bp.route("/reviewers/agreement")
@login_required
def index() -> Response:
    """Per reviewer and overall agreement, and Cohen's kappa per verdict scale; any signed-in reviewer."""
    return page(
        "web/agreement.html",
        figures=services.reviewer_agreement(db()),
        required=state().app.settings.review,
        title="Reviewer agreement",
    )
