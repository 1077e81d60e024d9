"""Sources and reviewers: lists, add and edit forms, and emailed invitations.

Editors and admins keep the sources; only admins keep the reviewers and invite them,
since a reviewer's role and invitation decide who may sign in and what they may do.
The forms write through the services the CLI uses, which apply the rules of
tracker.rules and name the field of each problem; the form shows it beside that field.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from tracker import audit, services
from tracker.accounts.invitations import invitation_channel, invitation_message, new_invitation
from tracker.accounts.links import SETUP_MAX_AGE, setup_token
from tracker.accounts.models import Credential
from tracker.errors import InvalidInput, NotFound, TrackerError
from tracker.models import Reviewer, Source, SourceKind
from tracker.web.forms import KINDS, ROLES, ButtonForm, Problems, ReviewerForm, SourceForm, problems_of
from tracker.web.rebuild import rebuild_source
from tracker.web.rendering import page
from tracker.web.security import admin_required, editor_required
from tracker.web.state import db, now, state, viewer

bp = Blueprint("people", __name__)


def _optional(value: str | None) -> str | None:
    """A form's optional text: None when left empty."""
    value = (value or "").strip()
    return value or None


# -- sources ----------------------------------------------------------------------------


@bp.route("/sources")
@editor_required
def sources() -> Response:
    """Every source, with its parent and number of claims."""
    session = db()
    return page(
        "web/sources.html",
        sources=services.list_sources(session),
        counts=services.claim_counts(session),
        title="Sources",
    )


def _source_or_404(slug: str) -> Source:
    try:
        return services.get_source(db(), slug)
    except NotFound:
        abort(404)


@bp.route("/sources/new", methods=["GET", "POST"])
@editor_required
def new_source() -> Response | BaseResponse:
    """Add a source."""
    return _source_form(None)


@bp.route("/sources/<slug>/edit", methods=["GET", "POST"])
@editor_required
def edit_source(slug: str) -> Response | BaseResponse:
    """Change a source (not its slug)."""
    return _source_form(_source_or_404(slug))


def _source_form(source: Source | None) -> Response | BaseResponse:
    session = db()
    form = SourceForm()
    # A person cannot have members, nor can a source be a member of itself.
    parents = [("", "none")] + [
        (s.slug, f"{s.name} ({s.slug})")
        for s in services.list_sources(session)
        if s.kind != SourceKind.PERSON and (source is None or s.id != source.id)
    ]
    if source is not None and not form.is_submitted():
        form.name.data, form.kind.data, form.url.data = source.name, source.kind, source.url or ""
        form.notes.data = source.notes or ""
        form.member_of.data = source.parent.slug if source.parent else ""
    problems: Problems = {}
    if form.is_submitted():
        form.validate()
        problems = problems_of(form)
        slug = source.slug if source is not None else (form.slug.data or "").strip()
        name, kind = form.name.data or "", form.kind.data or ""
        url, notes, member_of = (
            _optional(form.url.data),
            _optional(form.notes.data),
            _optional(form.member_of.data),
        )
        if not problems:
            try:
                if source is None:
                    services.add_source(session, slug, name, kind, url, notes, member_of, now=now())
                else:
                    services.edit_source(session, slug, name, kind, url, notes, member_of)
                    rebuild_source(slug)  # its name and links show on its scorecard
            except InvalidInput as exc:
                problems = problems_of(form, exc)
            else:
                flash(f"Source {slug} is {'saved' if source else 'added'}.")
                return redirect(url_for("people.sources"))
    return page(
        "web/source_form.html",
        status=400 if problems else 200,
        form=form,
        kinds=KINDS,
        parents=parents,
        source=source,
        problems=problems,
        title=f"Edit {source.slug}" if source else "Add a source",
    )


# -- reviewers --------------------------------------------------------------------------


@bp.route("/reviewers")
@admin_required
def reviewers() -> Response:
    """Every reviewer, with whether they can sign in, and an invitation button for those who cannot."""
    session = db()
    passwords = dict(session.execute(select(Credential.reviewer_id, Credential.password_hash)).all())
    return page(
        "web/reviewers.html",
        reviewers=services.list_reviewers(session),
        has_password={rid: bool(value) for rid, value in passwords.items()},
        button=ButtonForm(),
        title="Reviewers",
    )


def _reviewer_or_404(handle: str) -> Reviewer:
    try:
        return services.get_reviewer(db(), handle)
    except NotFound:
        abort(404)


@bp.route("/reviewers/new", methods=["GET", "POST"])
@admin_required
def new_reviewer() -> Response | BaseResponse:
    """Add a reviewer (then invite them from the list)."""
    return _reviewer_form(None)


@bp.route("/reviewers/<handle>/edit", methods=["GET", "POST"])
@admin_required
def edit_reviewer(handle: str) -> Response | BaseResponse:
    """Change a reviewer (not their handle)."""
    return _reviewer_form(_reviewer_or_404(handle))


def _reviewer_form(reviewer: Reviewer | None) -> Response | BaseResponse:
    session = db()
    form = ReviewerForm()
    if reviewer is not None and not form.is_submitted():
        form.name.data, form.email.data = reviewer.name, reviewer.email
        form.timezone.data, form.role.data = reviewer.timezone, reviewer.role
        form.subscribed.data = reviewer.subscribed
    problems: Problems = {}
    if form.is_submitted():
        form.validate()
        problems = problems_of(form)
        handle = reviewer.handle if reviewer is not None else (form.handle.data or "").strip()
        values = {
            "name": form.name.data or "",
            "email": (form.email.data or "").strip(),
            "timezone": (form.timezone.data or "").strip(),
            "role": form.role.data or "",
        }
        if not problems:
            try:
                if reviewer is None:
                    services.add_reviewer(
                        session, handle, subscribed=bool(form.subscribed.data), now=now(), **values
                    )
                else:
                    services.edit_reviewer(session, handle, subscribed=bool(form.subscribed.data), **values)
            except InvalidInput as exc:
                problems = problems_of(form, exc)
            else:
                flash(f"Reviewer {handle} is {'saved' if reviewer else 'added'}.")
                return redirect(url_for("people.reviewers"))
    return page(
        "web/reviewer_form.html",
        status=400 if problems else 200,
        form=form,
        roles=ROLES,
        reviewer=reviewer,
        problems=problems,
        title=f"Edit {reviewer.handle}" if reviewer else "Add a reviewer",
    )


def _public_url(path: str) -> str:
    """`path` on the web app's public address: reminders.resolve_url when set (as in reminder
    emails), else the address this request came to."""
    base = state().app.settings.reminders.resolve_url or request.host_url
    return base.rstrip("/") + path


@bp.route("/reviewers/<handle>/invite", methods=["POST"])
@admin_required
def invite(handle: str) -> BaseResponse:
    """Email the reviewer a one-time link that sets their password (only the newest link works)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    reviewer = _reviewer_or_404(handle)
    who = viewer()
    assert who is not None
    try:
        channel = invitation_channel(state().app.settings)
        epoch = new_invitation(db(), reviewer)
        token = setup_token(str(current_app.secret_key or ""), reviewer.id, epoch)
        link = _public_url(url_for("auth.setup", token=token))
        message = invitation_message(state().app.templates, reviewer, epoch, link, who.name, now())
        with channel.open() as sender:
            sender.send(message)
    except TrackerError as exc:
        # Not sent (no mail server, a refused address): the newer epoch only ends older links.
        flash(f"No invitation was sent to {handle}: {exc}")
    else:
        audit.record(db(), "reviewer.invite", "reviewer", reviewer.handle, {"email": reviewer.email})
        days = SETUP_MAX_AGE // (24 * 3600)
        flash(f"An invitation is on its way to {reviewer.email}. The link works once, for {days} days.")
    return redirect(url_for("people.reviewers"))
