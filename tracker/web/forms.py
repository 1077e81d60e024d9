"""The web app's forms (Flask-WTF: every POST carries its CSRF token), and their problems by field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.orm import InstrumentedAttribute
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from tracker import textrules
from tracker.accounts.passwords import MAX_LENGTH
from tracker.errors import TrackerError, describe
from tracker.models import Appearance, Claim, ReviewerRole, SourceKind

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


class Day(DateField):
    """A date, optional; one that does not parse says how to write it."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("give the date as YYYY-MM-DD, such as 2027-03-01") from None


def _date(label: str) -> Day:
    return Day(label, validators=[Optional()])


class Fits:
    """The claims file's and the CLI's text checks (`tracker.textrules`) as a WTForms validator.

    No control characters, and no longer than the column holds, so that what a form
    accepts both backends store. A browser's CRLF line ends count as newlines.
    """

    def __init__(self, column: InstrumentedAttribute[Any] | None = None, *, multiline: bool = False) -> None:
        self.column = column
        self.multiline = multiline

    def __call__(self, form: FlaskForm, field: Field) -> None:
        text = (field.data or "").replace("\r\n", "\n")
        if problem := textrules.check_text(text, self.column, multiline=self.multiline):
            raise ValidationError(problem)


LONG = Fits(multiline=True)  # unlimited text: statement, quote, criteria, reasons


class ClaimEditForm(FlaskForm):
    """What an editor may change of a recorded claim; `reason` is asked when the criteria change.

    The field names are the service's (`services.edit_claim`), so that its problems land
    beside the right fields; choices (reviewers) are set by the view.
    """

    statement = TextAreaField("Testable statement", validators=[LONG])
    quote = TextAreaField("The source's words, verbatim", validators=[LONG])
    tags = StringField("Tags, separated by commas or spaces", validators=[Fits()])
    reviewers = SelectMultipleField("Reviewers", choices=[], validate_choice=False)
    url = StringField("Article URL", validators=[Fits(Appearance.url)])
    title = StringField(
        "Article title (only for an article new to the tracker)", validators=[Fits(Appearance.title)]
    )
    author = StringField("Article author (likewise)", validators=[Fits(Appearance.author)])
    published = _date("Published on (likewise)")
    criteria = TextAreaField("Resolution criteria", validators=[LONG])
    deadline = _date("Deadline")
    window_start = _date("Window opens (optional)")
    timezone = StringField("Timezone the dates are read in (optional)", validators=[Fits(Claim.timezone)])
    version = HiddenField()
    reason = TextAreaField("Why change the criteria or the deadline?", validators=[LONG])


class ClaimForm(ClaimEditForm):
    """A new claim, field for field the claims file's entry; `action` "check" validates without saving."""

    key = StringField("Id", validators=[Fits()])
    kind = RadioField(
        "Kind",
        choices=[],
        validate_choice=False,
        validators=[DataRequired(message="choose the kind of claim")],
    )
    source = SelectField(
        "Source", choices=[], validate_choice=False, validators=[DataRequired(message="choose the source")]
    )
    made_on = _date("Made on: the day it was said")
    confidence = StringField("The source's words of likelihood", validators=[Fits(Claim.confidence)])
    probability = StringField("Or a number the source gave, 0 to 1", validators=[Fits()])
    probability_basis = TextAreaField("Where the number comes from", validators=[LONG])
    unstated = BooleanField("The source gave no likelihood at all (recorded, never scored)")
    as_of = _date("Judged as of (optional; the day it was said, if empty)")
    action = HiddenField()


def given(form: FlaskForm, name: str) -> str | None:
    """A text field as the services take it: stripped, CRLF as newlines; None when empty or
    when the form found a problem with it (shown already; it must not reach the database)."""
    field = form[name]
    if field.errors:
        return None
    return (field.data or "").replace("\r\n", "\n").strip() or None


def words(text: str | None) -> list[str]:
    """A list typed on one line, separated by commas or spaces, without repeats."""
    return list(dict.fromkeys((text or "").replace(",", " ").split()))
