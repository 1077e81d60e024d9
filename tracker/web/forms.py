"""The web app's forms (Flask-WTF: every POST carries its CSRF token), and their problems by field."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from tracker.accounts.passwords import MAX_LENGTH
from tracker.errors import TrackerError, describe
from tracker.models import ReviewerRole, SourceKind

Problems = dict[str, list[str]]
"""A form's problems: the messages to show beside each field, by field name; "" for the whole form."""


class LoginForm(FlaskForm):
    """Sign in with handle or email and password."""

    login = StringField(
        "Handle or email", validators=[DataRequired(message="Enter your handle or email."), Length(max=320)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired(message="Enter your password."), Length(max=MAX_LENGTH)]
    )
    next = HiddenField()


class PasswordForm(FlaskForm):
    """Set a new password (twice)."""

    password = PasswordField("New password", validators=[DataRequired(message="Enter a new password.")])
    repeat = PasswordField(
        "The same password again", validators=[DataRequired(message="Enter the new password again.")]
    )


class ResolveForm(FlaskForm):
    """A verdict with its evidence, a note and the outcome date; `version` is the claim's as loaded."""

    verdict = RadioField("Verdict", validators=[DataRequired(message="Choose a verdict.")])
    evidence = TextAreaField("Evidence URLs, one per line", validators=[Length(max=20000)])
    note = TextAreaField("Note", validators=[Length(max=20000)])
    resolved_on = DateField("Outcome date", validators=[Optional()])
    version = HiddenField()


class UnresolveForm(FlaskForm):
    """Re-open a resolved claim, saying why."""

    reason = TextAreaField(
        "Why re-open it?", validators=[DataRequired(message="Say why."), Length(max=20000)]
    )
    version = HiddenField()


class ButtonForm(FlaskForm):
    """A form that is only a button (log out, new calendar link): just the CSRF token."""


class AssignForm(FlaskForm):
    """An admin assigns a reviewer to a claim, or takes them off it."""

    handle = StringField("Reviewer", validators=[DataRequired(), Length(max=100)])
    action = HiddenField(default="assign")


# The source and reviewer forms check nothing themselves but lengths: the services apply the
# rules (tracker.rules) and name the field of each problem, as they do for the CLI. Their
# kind, role and parent are <select>s on the page (choices from KINDS, ROLES and the view),
# posted as text: a value not on the list is the service's problem to name.
KINDS = [(k.value, k.value) for k in SourceKind]
ROLES = [(r.value, r.value) for r in ReviewerRole]


class SourceForm(FlaskForm):
    """A source: `slug` only when it is new (files and addresses use it, so it never changes)."""

    slug = StringField("Slug", validators=[Length(max=100)])
    name = StringField("Name", validators=[Length(max=300)])
    kind = StringField("Kind", default=SourceKind.OUTLET.value, validators=[Length(max=20)])
    url = StringField("Address (http or https, optional)", validators=[Length(max=2000)])
    notes = TextAreaField("Notes (optional)", validators=[Length(max=20000)])
    member_of = StringField("Member of (optional)", validators=[Length(max=100)])


class ReviewerForm(FlaskForm):
    """A reviewer: `handle` only when they are new (it is how they sign in and are named in files)."""

    handle = StringField("Handle", validators=[Length(max=100)])
    name = StringField("Name", validators=[Length(max=300)])
    email = StringField("Email", validators=[Length(max=320)])
    timezone = StringField(
        "Timezone (an IANA name such as Europe/Paris)", default="UTC", validators=[Length(max=100)]
    )
    role = StringField("Role", default=ReviewerRole.REVIEWER.value, validators=[Length(max=20)])
    subscribed = BooleanField("Email them the periodic report")


class ImportForm(FlaskForm):
    """A claims.yaml to preview."""

    file = FileField("claims.yaml", validators=[FileRequired(message="Choose a claims.yaml file.")])


class ConfirmImportForm(FlaskForm):
    """Confirm the import of a previewed upload: `seen` is the fingerprint of the database it saw."""

    seen = HiddenField(validators=[DataRequired()])


def sentence(message: str) -> str:
    """A problem's message as it reads beside a field: with a capital and a full stop.

    A message that starts with a name (a field's, such as resolved_on) keeps it as written.
    """
    message = message.strip()
    if not message:
        return message
    if "_" not in message.split(" ", 1)[0]:
        message = message[0].upper() + message[1:]
    return message + ("" if message.endswith((".", "?", "!")) else ".")


def problems_of(
    form: FlaskForm, error: TrackerError | None = None, renamed: Mapping[str, str] | None = None
) -> Problems:
    """The problems WTForms found in `form` and, when given, those of the service's `error`.

    A service names a field as the CLI does; `renamed` maps such a name to the form's
    field (the un-resolve "note" is the form's "reason"). A problem that is not about
    one of the form's fields, or an error that is not about input, is the form's ("").
    """
    found: Problems = {}

    def add(name: str | None, message: str) -> None:
        name = (renamed or {}).get(name or "", name or "")
        found.setdefault(name if name in form else "", []).append(sentence(message))

    for name, messages in form.errors.items():
        for message in messages:
            add(name, message)
    if error is not None:
        description = describe(error)
        for name, messages in description.fields.items():
            for message in messages:
                add(name, message)
        if not description.fields:
            add("", description.message)
    # In the order of the form's fields, as the summary lists them (a service sorts its own).
    order = ["", *form._fields]
    return {name: found[name] for name in sorted(found, key=order.index)}
