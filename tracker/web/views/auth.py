"""Signing in and out, the one-time setup link, and the reviewer's own settings page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from itsdangerous import BadSignature, SignatureExpired
from werkzeug.wrappers import Response as BaseResponse

from tracker import audit
from tracker.accounts import throttle
from tracker.accounts.keys import new_calendar_token
from tracker.accounts.links import SETUP_MAX_AGE, setup_serializer
from tracker.accounts.models import Credential
from tracker.accounts.passwords import (
    accept,
    check_password,
    credential,
    find_reviewer,
    password_problem,
    set_password,
)
from tracker.models import Reviewer
from tracker.web.forms import ButtonForm, LoginForm, PasswordForm, Problems, problems_of, sentence
from tracker.web.rendering import page
from tracker.web.security import login_required, safe_next, sign_in, sign_out
from tracker.web.state import db, now, state, viewer
from tracker.web.views.audit import web_actor

bp = Blueprint("auth", __name__)


def _address() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | BaseResponse:
    """The sign-in form; five failures per handle or address in 15 minutes lock sign-ins for a while."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    problems: Problems = {}
    if form.validate_on_submit():
        moment, typed, address = now(), form.login.data or "", _address()
        # The throttle and the slow hash in a read of their own: no write lock is held while
        # the password is checked, so a burst of sign-ins does not stall every other write.
        with state().app.session_factory() as reading:
            refusal = throttle.refused(reading, typed, address, moment)
            reviewer = find_reviewer(reading, typed)
            checked = None if refusal else check_password(reading, reviewer, form.password.data or "")
        session = db()  # the write, under the write lock
        # Asked again: failures recorded meanwhile count, so a burst gets no extra guesses.
        refusal = refusal or throttle.refused(session, typed, address, moment)
        cred = accept(session, checked) if checked is not None and refusal is None else None
        if refusal is not None:
            _failed(typed, refused=True)
            problems[""] = [refusal.message(moment)]
        elif cred is not None and (reviewer := session.get(Reviewer, cred.reviewer_id)) is not None:
            throttle.record_success(session, typed, reviewer.handle)
            actor = web_actor(reviewer.handle, reviewer.id)
            audit.record(session, "login.success", "reviewer", reviewer.handle, _where(), actor=actor)
            sign_in(reviewer, cred.session_epoch)
            return redirect(safe_next(form.next.data))
        else:
            throttle.record_failure(session, typed, address, moment)
            _failed(typed, refused=False)
            # Beside the first field: which of the two is wrong is not said, on purpose.
            problems["login"] = ["That handle or email and password do not match."]
    elif request.method == "POST":
        problems = problems_of(form)
    status = 400 if problems else 200
    return page("web/login.html", status=status, form=form, problems=problems, title="Sign in")


def _where() -> dict[str, str]:
    return {"address": _address()}


def _failed(typed: str, *, refused: bool) -> None:
    """Record a failed sign-in under the handle as typed (never the password); committed all the same."""
    after = {**_where(), "refused": "too many failures" if refused else None}
    audit.record(
        db(), "login.failure", "reviewer", typed.strip()[:320], {k: v for k, v in after.items() if v}
    )


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    """End this browser's session (a POST: a link or an image cannot sign anyone out)."""
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    sign_out()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> Response | BaseResponse:
    """Set a first password through the link `tracker up` printed or an invitation; it dies once used."""
    try:
        data = setup_serializer(str(current_app.secret_key or "")).loads(token, max_age=SETUP_MAX_AGE)
    except (BadSignature, SignatureExpired):
        abort(404)
    session = db()
    reviewer = session.get(Reviewer, int(data.get("rid", 0))) if isinstance(data, dict) else None
    cred = session.get(Credential, reviewer.id) if reviewer is not None else None
    if reviewer is None or (
        cred is not None and (cred.password_hash or cred.session_epoch != data.get("epoch"))
    ):
        abort(404)
    form = PasswordForm()
    problems = _password_problems(form)
    if form.is_submitted() and not problems:
        # Whoever holds the link acts as its reviewer (they are not signed in yet).
        with audit.acting(web_actor(reviewer.handle, reviewer.id)):
            cred = set_password(session, reviewer.handle, form.password.data or "", now())
        sign_in(reviewer, cred.session_epoch)
        flash("Your password is set, and you are signed in.")
        return redirect(url_for("queue.index"))
    return page(
        "web/setup.html",
        status=400 if problems else 200,
        form=form,
        problems=problems,
        who=reviewer,
        title="Set a password",
    )


def _password_problems(form: PasswordForm) -> Problems:
    """The submitted password form's problems by field (none when it was not submitted)."""
    if not form.is_submitted():
        return {}
    form.validate()
    problems = problems_of(form)
    typed = form.password.data or ""
    if "password" not in problems and (problem := password_problem(typed)):
        problems["password"] = [sentence(problem)]
    if not problems and typed != (form.repeat.data or ""):
        problems["repeat"] = ["The two passwords differ."]
    return problems


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response | BaseResponse:
    """The reviewer's calendar URL (with a button that replaces it) and a new password."""
    who = viewer()
    assert who is not None
    session = db()
    reviewer = session.get(Reviewer, who.id)
    assert reviewer is not None
    form = PasswordForm()
    problems = _password_problems(form)
    if form.is_submitted() and not problems:
        cred = set_password(session, who.handle, form.password.data or "", now())
        # This browser stays signed in; every other session of theirs ends.
        sign_in(reviewer, cred.session_epoch)
        flash("Your password is changed. Your other sessions have ended.")
        return redirect(url_for("auth.settings"))
    cred = credential(session, reviewer)
    calendar = (
        url_for("site.calendar", token=cred.calendar_token, _external=True) if cred.calendar_token else None
    )
    return page(
        "web/settings.html",
        status=400 if problems else 200,
        form=form,
        button=ButtonForm(),
        problems=problems,
        calendar=calendar,
        title="Your settings",
    )


@bp.route("/settings/calendar", methods=["POST"])
@login_required
def new_calendar() -> BaseResponse:
    """Make a new calendar URL; the old one stops working."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    who = viewer()
    assert who is not None
    reviewer = db().get(Reviewer, who.id)
    assert reviewer is not None
    new_calendar_token(db(), reviewer)
    flash("Your calendar has a new address; the old one no longer works.")
    return redirect(url_for("auth.settings"))
