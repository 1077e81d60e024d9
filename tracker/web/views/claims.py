"""The claim page, its resolve and un-resolve forms, and the signed links from reminder emails.

A form carries the claim's version token. The POST takes the claim's row lock, compares
the token and either writes through the same services the CLI uses, or refuses and
shows what changed, with everything the reviewer typed still in the form.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, url_for
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from tracker import services
from tracker.accounts.links import link_serializer
from tracker.errors import NotFound, TrackerError
from tracker.models import (
    PROGRESS_STATUSES,
    VERDICT_SCALES,
    Claim,
    ClaimKind,
    ClaimStatus,
    Reviewer,
    ReviewRole,
)
from tracker.review import ROLE_WORDS, double_review, outcome_text, visible_resolutions
from tracker.rules import VERDICTS_WITHOUT_EVIDENCE
from tracker.services.deadlines import local_today
from tracker.web.claims import Changes, changes_since, lock_claim, public_page_state, reminders_of, version_of
from tracker.web.forms import ResolveForm, UnresolveForm, problems_of, sentence
from tracker.web.queue import relative
from tracker.web.rebuild import rebuild_source
from tracker.web.rendering import page
from tracker.web.security import login_required
from tracker.web.state import Viewer, db, now, state, viewer

bp = Blueprint("claims", __name__)

EXPLAIN = {
    "true": "It happened, or the statement holds, as the criteria define it.",
    "false": "It did not happen, or the statement does not hold.",
    "ambiguous": "Whether it happened cannot be told from the record; kept out of the scores.",
    "annulled": "The premise failed, so the prediction cannot be judged; kept out of the scores.",
    "mostly-true": "Accurate, but needs clarification or extra information.",
    "half-true": "Partly accurate; leaves out important details or takes things out of context.",
    "mostly-false": "Contains an element of truth but ignores facts that would give a different impression.",
    "unverifiable": "The record cannot settle it either way.",
    "kept": "The promise was kept, as the criteria define it.",
    "compromise": "Partly kept, or kept in a weaker form than promised.",
    "broken": "The promise was broken, or can no longer be kept.",
    "in-the-works": "Progress, not a verdict: action is under way, and the promise stays open.",
    "stalled": "Progress, not a verdict: nothing moves, or it is blocked; the promise stays open.",
}


# The un-resolve service calls the reason a note, as the CLI's --note does.
UNRESOLVE_FIELDS = {"note": "reason"}


def may_resolve(who: Viewer, claim: Claim) -> bool:
    """Admins resolve anything; a reviewer, the claims assigned to them."""
    return who.admin or any(r.id == who.id for r in claim.reviewers)


def _claim(key: str) -> Claim:
    try:
        return services.get_claim(db(), key)
    except NotFound:
        abort(404)


def _forms(claim: Claim, who: Viewer) -> tuple[ResolveForm, UnresolveForm]:
    resolve, unresolve = ResolveForm(), UnresolveForm()
    scale = VERDICT_SCALES[ClaimKind(claim.kind)]
    if claim.kind == ClaimKind.PROMISE and claim.status == ClaimStatus.OPEN:
        scale += PROGRESS_STATUSES  # an open promise's progress goes into the same history
    resolve.verdict.choices = [(v, v) for v in scale]
    if not resolve.is_submitted():
        resolve.resolved_on.data = local_today(who.timezone, now())
        resolve.version.data = unresolve.version.data = version_of(claim)
    return resolve, unresolve


def _show(claim: Claim, resolve: ResolveForm, unresolve: UnresolveForm, **extra: object) -> Response:
    who = viewer()
    assert who is not None
    status = int(str(extra.pop("status", 200)))
    history = visible_resolutions(claim, who.handle)
    first = double_review(claim.resolutions)
    return page(
        "web/claim.html",
        status=status,
        claim=claim,
        history=history,
        role_words=ROLE_WORDS,
        # Whose first verdict a claim awaits the second to: the viewer's (they wait) or another's.
        gave_first=(
            claim.status == ClaimStatus.AWAITING and first is not None and first[0].reviewer_id == who.id
        ),
        may_adjudicate=who.admin and claim.status == ClaimStatus.DISPUTED,
        resolve=resolve,
        unresolve=unresolve,
        may_resolve=may_resolve(who, claim),
        explain=EXPLAIN,
        without_evidence=VERDICTS_WITHOUT_EVIDENCE,
        reminders=reminders_of(db(), claim),
        today=local_today(who.timezone, now()),
        when=relative(claim.deadline, local_today(who.timezone, now())),
        scorecard=f"/scorecards/sources/{claim.source.slug}.html#claim-{claim.key}",
        public=public_page_state(Path(state().app.settings.report.out_dir), claim),
        handles=list(db().scalars(select(Reviewer.handle).order_by(Reviewer.handle))) if who.admin else [],
        changes=extra.pop("changes", Changes()),
        problems=extra.pop("problems", {}),
        title=claim.statement[:80],
        **extra,
    )


@bp.route("/claims/<key>")
@login_required
def show(key: str) -> Response:
    """Everything about one claim, and (for those who may) its resolve form."""
    who = viewer()
    assert who is not None
    claim = _claim(key)
    resolve, unresolve = _forms(claim, who)
    return _show(claim, resolve, unresolve)


def _submitted(key: str, unresolving: bool) -> tuple[Claim, ResolveForm, UnresolveForm] | Response:
    """Lock the claim and check the submitted form: the claim and both forms, or the refusal.

    Refused: a form with problems (400), or one loaded before someone else changed the
    claim (409, with what changed); either way the reviewer's text stays in the form.
    """
    who = viewer()
    assert who is not None
    claim = lock_claim(db(), key)
    if claim is None:
        abort(404)
    if not may_resolve(who, claim):
        abort(403)
    resolve, unresolve = _forms(claim, who)
    form: ResolveForm | UnresolveForm = unresolve if unresolving else resolve
    if not form.validate_on_submit():
        return _show(claim, resolve, unresolve, status=400, problems=problems_of(form))
    changes = changes_since(claim, form.version.data or "", who.handle)
    if changes.any:
        resolve.version.data = unresolve.version.data = version_of(claim)
        return _show(claim, resolve, unresolve, status=409, changes=changes)
    return claim, resolve, unresolve


def _refused(key: str, form: ResolveForm, unresolve: UnresolveForm, exc: TrackerError) -> Response:
    """A verdict the service refused: nothing written, the form again with each problem beside its field."""
    db().rollback()
    claim = _claim(key)
    form.version.data = version_of(claim)
    return _show(claim, form, unresolve, status=400, problems=problems_of(form, exc))


def _recorded(claim: Claim, done: str) -> BaseResponse:
    """After a change to the claim's history: its scorecard is rebuilt, and the claim page says so."""
    rebuild_source(claim.source.slug)
    flash(f"{done} The public scorecard is being rebuilt.")
    return redirect(url_for("claims.show", key=claim.key))


@bp.route("/claims/<key>/resolve", methods=["POST"])
@login_required
def resolve(key: str) -> Response | BaseResponse:
    """Record a verdict, unless the claim changed since the form was loaded."""
    who = viewer()
    assert who is not None
    checked = _submitted(key, unresolving=False)
    if isinstance(checked, Response):
        return checked
    claim, form, unresolve = checked
    session = db()
    evidence = [line.strip() for line in (form.evidence.data or "").splitlines() if line.strip()]
    progress = form.verdict.data in PROGRESS_STATUSES
    verdict = form.verdict.data or ""
    try:
        if progress:
            services.record_progress(
                session, key, verdict, evidence, form.note.data, who.handle, form.resolved_on.data, now()
            )
            done = f"Recorded progress: {verdict}."
        else:
            entry = services.resolve(
                session,
                key,
                verdict,
                evidence,
                form.note.data,
                who.handle,
                form.resolved_on.data,
                now(),
                review=state().app.settings.review,
            )
            single = entry.role == ReviewRole.VERDICT
            done = f"Resolved as {verdict}." if single else sentence(outcome_text(entry))
    except TrackerError as exc:
        return _refused(key, form, unresolve, exc)
    return _recorded(claim, done)


@bp.route("/claims/<key>/adjudicate", methods=["POST"])
@login_required
def adjudicate(key: str) -> Response | BaseResponse:
    """An admin settles a disputed claim with a verdict and a note, unless it changed meanwhile."""
    who = viewer()
    assert who is not None
    if not who.admin:
        abort(403)
    checked = _submitted(key, unresolving=False)
    if isinstance(checked, Response):
        return checked
    claim, form, unresolve = checked
    session = db()
    evidence = [line.strip() for line in (form.evidence.data or "").splitlines() if line.strip()]
    try:
        entry = services.adjudicate(
            session,
            key,
            form.verdict.data or "",
            evidence,
            form.note.data,
            who.handle,
            form.resolved_on.data,
            now(),
        )
    except TrackerError as exc:
        return _refused(key, form, unresolve, exc)
    return _recorded(claim, sentence(outcome_text(entry)))


@bp.route("/claims/<key>/unresolve", methods=["POST"])
@login_required
def unresolve(key: str) -> Response | BaseResponse:
    """Re-open a resolved claim, with the reason, unless it changed since the form was loaded."""
    who = viewer()
    assert who is not None
    checked = _submitted(key, unresolving=True)
    if isinstance(checked, Response):
        return checked
    claim, resolve, form = checked
    session = db()
    try:
        services.unresolve(session, key, who.handle, form.reason.data or "", now())
    except TrackerError as exc:
        session.rollback()
        claim = _claim(key)
        return _show(claim, resolve, form, status=400, problems=problems_of(form, exc, UNRESOLVE_FIELDS))
    return _recorded(claim, "Re-opened.")


@bp.route("/r/<token>")
def signed_link(token: str) -> BaseResponse:
    """A signed link from a reminder email: it leads to the resolve form and records nothing."""
    try:
        key = link_serializer(str(current_app.secret_key or "")).loads(
            token, max_age=state().app.settings.web.link_days * 86400
        )
    except SignatureExpired:
        abort(410)
    except BadSignature:
        abort(404)
    if not isinstance(key, str):
        abort(404)
    target = url_for("claims.show", key=key) + "#resolve"
    if viewer() is None:
        return redirect(url_for("auth.login", next=target))
    return redirect(target)


@bp.route("/claims/<key>/resolve", methods=["GET"])
def resolve_form(key: str) -> BaseResponse:
    """The unsigned address older reminder emails link to: the claim page's form."""
    return redirect(url_for("claims.show", key=key) + "#resolve")
