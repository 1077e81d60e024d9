"""The web app's forms (Flask-WTF: every POST carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from tracker.accounts.passwords import MAX_LENGTH, MIN_LENGTH


class LoginForm(FlaskForm):
    """Sign in with handle or email and password."""

    login = StringField("Handle or email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    """Set a new password (twice)."""

    password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)]
    )
    repeat = PasswordField("The same password again", validators=[DataRequired()])


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
