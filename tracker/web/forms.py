"""The web app's forms (Flask-WTF: every POST carries its CSRF token), and their problems by field."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from tracker.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from tracker.errors import TrackerError, describe

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

    password = PasswordField(
        "New password", validators=[DataRequired(message="Enter a new password.")]
    )
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


def sentence(message: str) -> str:
    """A problem's message as it reads beside a field: with a capital and a full stop."""
    message = message.strip()
    if not message:
        return message
    return message[0].upper() + message[1:] + ("" if message.endswith((".", "?", "!")) else ".")


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
    return found
