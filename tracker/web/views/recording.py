"""Recording claims in the browser: the add form, the edit form, and the estimative scale as JSON.

Both forms write through the services the CLI and the claims file use (`add_claim`,
`edit_claim`), so a claim is checked by one set of rules wherever it comes from. Every
problem is shown beside its field with what was typed still in the form; nothing is
written while there is one. The add form's "Check" runs the same checks and writes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from tracker import services
from tracker.errors import NotFound, TrackerError
from tracker.estimative import Reading, read_words
from tracker.models import Claim, ClaimKind, Reviewer, Source
from tracker.services.deadlines import local_today
from tracker.web.claims import Changes, changes_since, lock_claim, version_of
from tracker.web.forms import ClaimEditForm, ClaimForm, Problems, given, problems_of, words
from tracker.web.rebuild import rebuild_source
from tracker.web.rendering import page
from tracker.web.security import editor_required, login_required
from tracker.web.state import db, now, state, viewer

bp = Blueprint("recording", __name__)

# Which groups of the add form's fields each kind of claim has, from ClaimKind: a prediction is
# asked how likely, a fact when it is judged; a promise (kept or broken, never scored on a
# probability), and any kind added later until it is named here, has criteria and a deadline.
SCORED_KINDS = frozenset({ClaimKind.PREDICTION.value})
AS_OF_KINDS = frozenset({ClaimKind.FACT.value})
# A service's name for a field, where the form's differs.
RENAMED = {"id": "key"}
MAX_WORDS = 200


def groups_of(kind: str) -> frozenset[str]:
    """The groups of fields a claim of `kind` has: "likelihood", "criteria", "as_of"."""
    if kind in AS_OF_KINDS:
        return frozenset({"as_of"})
    return frozenset({"criteria", "likelihood"} if kind in SCORED_KINDS else {"criteria"})


def _kinds_with(group: str) -> str:
    """The kinds that have `group`, space-separated, for the script that hides the others."""
    return " ".join(k.value for k in ClaimKind if group in groups_of(k.value))


def _appearance(form: ClaimEditForm) -> dict[str, Any] | None:
    url = given(form, "url")
    if not url:
        return None
    return {
        "url": url,
        "title": given(form, "title"),
        "author": given(form, "author"),
        "published": form.published.data,
    }


def _number(text: str | None) -> tuple[float | None, str | None]:
    """A probability typed as 0.7 (or 70%): the number, or the problem."""
    if not text:
        return None, None
    try:
        return (float(text[:-1]) / 100 if text.endswith("%") else float(text)), None
    except ValueError:
        return None, f"{text!r} is not a number: give one from 0 to 1, such as 0.7"


# The fields in the order the pages show them, so that the summary of problems reads down the form.
ARTICLE = ("url", "title", "author", "published")
ADD_ORDER = (
    *("", "kind", "key", "source", "statement", "quote", "made_on"),
    *("confidence", "probability", "probability_basis", "unstated"),
    *("criteria", "deadline", "window_start", "timezone", "as_of", *ARTICLE, "tags", "reviewers"),
)
EDIT_ORDER = (
    *("", "statement", "quote", "criteria", "deadline", "window_start", "timezone", "reason"),
    *(*ARTICLE, "tags", "reviewers"),
)
# A field the form refused reaches the service as missing; the service's complaint about a
# field that stands in for it (no words, so no probability) says nothing new.
FOLLOW_ON = {"confidence": ("probability",)}


def _merge(form: ClaimEditForm, error: TrackerError | None, extra: Problems) -> Problems:
    """The service's problems and WTForms', by field; where WTForms could not read a field (a
    date that is not one), its problem replaces the service's ("required", as it got none)."""
    problems = problems_of(form, error, RENAMED)
    refused = problems_of(form)
    for name in refused:
        for follower in FOLLOW_ON.get(name, ()):
            problems.pop(follower, None)
    problems.update(refused)
    problems.update(extra)
    order = ADD_ORDER if isinstance(form, ClaimForm) else EDIT_ORDER
    place = {name: i for i, name in enumerate(order)}
    return dict(sorted(problems.items(), key=lambda item: place.get(item[0], len(order))))


def _reading(form: ClaimForm) -> Reading | None:
    typed = given(form, "confidence")
    return read_words(state().app.scale, typed) if typed else None


def _choices(form: ClaimEditForm) -> None:
    session = db()
    form.reviewers.choices = [
        (r.handle, r.name) for r in session.scalars(select(Reviewer).order_by(Reviewer.handle))
    ]
    if isinstance(form, ClaimForm):
        form.kind.choices = [(k.value, k.value) for k in ClaimKind]
        form.source.choices = [
            (s.slug, f"{s.name} ({s.slug})") for s in session.scalars(select(Source).order_by(Source.name))
        ]


def _show_new(form: ClaimForm, problems: Problems, *, status: int = 200, checked: bool = False) -> Response:
    return page(
        "web/claim_new.html",
        status=status,
        form=form,
        problems=problems,
        reading=_reading(form),
        checked=checked,
        kinds_with={group: _kinds_with(group) for group in ("likelihood", "criteria", "as_of")},
        title="Record a claim",
    )


@bp.route("/new-claim", methods=["GET", "POST"])
@editor_required
def new() -> Response | BaseResponse:
    """The add form; on POST, the claim is checked and, if all is well and asked for, saved."""
    who = viewer()
    assert who is not None
    form = ClaimForm()
    _choices(form)
    if not form.is_submitted():
        form.kind.data = ClaimKind.PREDICTION.value
        form.made_on.data = local_today(who.timezone, now())
        return _show_new(form, {})
    form.validate()
    kind = form.kind.data or ""
    groups = groups_of(kind)
    scored = "likelihood" in groups
    probability, bad_number = _number(given(form, "probability")) if scored else (None, None)
    session = db()
    savepoint = session.begin_nested()
    error: TrackerError | None = None
    claim: Claim | None = None
    try:
        claim = services.add_claim(
            session,
            key=given(form, "key") or "",
            kind=kind,
            source_slug=form.source.data or "",
            statement=given(form, "statement") or "",
            quote=given(form, "quote") or "",
            made_on=form.made_on.data,
            probability=probability,
            confidence=given(form, "confidence") if scored else None,
            unstated=bool(form.unstated.data) and scored,
            probability_basis=given(form, "probability_basis") if scored else None,
            criteria=given(form, "criteria") if "criteria" in groups else None,
            deadline=form.deadline.data if "criteria" in groups else None,
            window_start=form.window_start.data if "criteria" in groups else None,
            timezone=given(form, "timezone") if "criteria" in groups else None,
            as_of=form.as_of.data if "as_of" in groups else None,
            appearance=_appearance(form),
            tags=words(given(form, "tags")),
            reviewer_handles=list(form.reviewers.data or []),
            scale=state().app.scale,
            now=now(),
            file_rules=True,
        )
    except TrackerError as exc:
        error = exc
    problems = _merge(form, error, {"probability": [bad_number]} if bad_number else {})
    checking = form.action.data == "check"
    if problems or checking or claim is None:
        savepoint.rollback()
        return _show_new(form, problems, status=400 if problems else 200, checked=checking and not problems)
    savepoint.commit()
    rebuild_source(claim.source.slug)
    flash(f"Recorded {claim.key}. The public scorecard is being rebuilt.")
    return redirect(url_for("claims.show", key=claim.key))


def _fill(form: ClaimEditForm, claim: Claim) -> None:
    form.statement.data, form.quote.data = claim.statement, claim.quote
    form.tags.data = " ".join(claim.tag_names)
    form.reviewers.data = [r.handle for r in claim.reviewers]
    if claim.appearance is not None:
        form.url.data = claim.appearance.url
    form.criteria.data = claim.criteria
    form.deadline.data, form.window_start.data = claim.deadline, claim.window_start
    form.timezone.data = claim.timezone
    form.version.data = version_of(claim)


def _show_edit(claim: Claim, form: ClaimEditForm, problems: Problems, **extra: Any) -> Response:
    return page(
        "web/claim_edit.html",
        status=int(extra.pop("status", 200)),
        claim=claim,
        form=form,
        problems=problems,
        has_criteria=claim.criteria is not None,
        changes=extra.pop("changes", Changes()),
        title=f"Edit {claim.key}",
    )


def _claim(key: str) -> Claim:
    try:
        return services.get_claim(db(), key)
    except NotFound:
        abort(404)


@bp.route("/claims/<key>/edit", methods=["GET"])
@editor_required
def edit(key: str) -> Response:
    """The edit form, filled with the claim as it is, and its version token."""
    claim = _claim(key)
    form = ClaimEditForm()
    _choices(form)
    _fill(form, claim)
    return _show_edit(claim, form, {})


def _criteria(form: ClaimEditForm, claim: Claim) -> services.Criteria | None:
    if claim.criteria is None:
        return None
    return services.Criteria(
        given(form, "criteria") or "", form.deadline.data, form.window_start.data, given(form, "timezone")
    )


@bp.route("/claims/<key>/edit", methods=["POST"])
@editor_required
def save(key: str) -> Response | BaseResponse:
    """Save an edit, unless the claim changed since the form was loaded (409, with what changed)."""
    who = viewer()
    assert who is not None
    session = db()
    claim = lock_claim(session, key)
    if claim is None:
        abort(404)
    form = ClaimEditForm()
    _choices(form)
    form.validate()
    changes = changes_since(claim, form.version.data or "")
    if changes.any:
        form.version.data = version_of(claim)
        return _show_edit(claim, form, {}, status=409, changes=changes)
    savepoint = session.begin_nested()
    error: TrackerError | None = None
    edited: services.Edited | None = None
    try:
        edited = services.edit_claim(
            session,
            key,
            statement=given(form, "statement") or "",
            quote=given(form, "quote") or "",
            tags=words(given(form, "tags")),
            reviewer_handles=list(form.reviewers.data or []),
            appearance=_appearance(form),
            criteria=_criteria(form, claim),
            reason=given(form, "reason"),
            by=who.handle,
            scale=state().app.scale,
            now=now(),
        )
    except TrackerError as exc:
        error = exc
    problems = _merge(form, error, {})
    if problems or edited is None:
        savepoint.rollback()
        return _show_edit(claim, form, problems, status=400)
    savepoint.commit()
    if edited.any:
        rebuild_source(claim.source.slug)
        flash("Saved. The public scorecard is being rebuilt.")
    else:
        flash("Nothing changed.")
    return redirect(url_for("claims.show", key=key))


@bp.route("/scale.json")
@login_required
def scale() -> Response:
    """How the estimative scale reads `?words=` (the add form's live preview); it records nothing."""
    typed = request.args.get("words", "")[:MAX_WORDS]
    if not typed.strip():
        return jsonify(words="", scored=False, known=True, probability=None, text="")
    reading = read_words(state().app.scale, typed)
    return jsonify(
        words=reading.words,
        scored=reading.scored,
        known=reading.known,
        probability=reading.probability,
        text=reading.text,
    )
