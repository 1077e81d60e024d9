"""Pure validation rules shared by the services (CLI, later the web app) and the claims file.

Each returns None when the value is acceptable, or the problem as a short phrase
(no location, no trailing period) that the caller prefixes with its own context.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker import textrules
from tracker.estimative import EstimativeScale, UnknownPhrase
from tracker.models import PROGRESS_STATUSES, VERDICT_SCALES, ClaimKind, ReviewerRole, SourceKind

# Keys, slugs and handles appear in URLs, file names and shell commands; the same
# patterns as the claims file, so that whatever the CLI adds exports and re-imports.
_IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9._-]*")
_TAG = re.compile(r"[a-z0-9][a-z0-9-]*")

# Verdicts a reviewer can reach without evidence: nothing to point at, by definition.
VERDICTS_WITHOUT_EVIDENCE = frozenset({"ambiguous", "annulled", "unverifiable"})


def check_identifier(value: str, what: str = "id", max_length: int = 100) -> str | None:
    """A claim id, source slug or reviewer handle: lowercase letters, digits, '.', '_' and '-'."""
    if not value:
        return f"{what} is empty"
    if len(value) > max_length:
        return f"{what} is longer than {max_length} characters"
    if not _IDENTIFIER.fullmatch(value):
        return f"{what} {value!r} may hold only lowercase letters, digits, '.', '_' and '-'"
    return None


def check_tag(tag: str, max_length: int = 100) -> str | None:
    """A tag: lowercase letters, digits and '-'."""
    if not _TAG.fullmatch(tag) or len(tag) > max_length:
        return f"tag {tag!r} may hold only lowercase letters, digits and '-' (at most {max_length})"
    return None


def check_text(value: str | None, what: str) -> str | None:
    """Required free text: present and not blank."""
    if value is None or not value.strip():
        return f"{what} is required"
    return None


def check_kind(kind: str) -> str | None:
    """A claim kind: prediction, fact or promise."""
    if kind not in tuple(ClaimKind):
        return f"kind {kind!r} is not one of {', '.join(ClaimKind)}"
    return None


def check_source_kind(kind: str) -> str | None:
    """A source kind: outlet, person or organisation."""
    if kind not in tuple(SourceKind):
        return f"source kind {kind!r} is not one of {', '.join(SourceKind)}"
    return None


def check_role(role: str) -> str | None:
    """A reviewer role."""
    if role not in tuple(ReviewerRole):
        return f"role {role!r} is not one of {', '.join(ReviewerRole)}"
    return None


def check_timezone(name: str) -> str | None:
    """An IANA timezone name such as Asia/Seoul."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown timezone {name!r} (use an IANA name such as Asia/Seoul)"
    return None


def check_email(email: str) -> str | None:
    """A well-formed e-mail address (deliverability is the mail server's business)."""
    return textrules.check_email(email)


def check_url(url: str) -> str | None:
    """An absolute http(s) URL with a host."""
    if any(ch.isspace() for ch in url):
        return f"{url!r} is not a URL: it contains whitespace"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} is not an absolute http(s) URL"
    return None


def check_probability(probability: float) -> str | None:
    """A probability in [0, 1]."""
    if not 0.0 <= probability <= 1.0:  # also rejects NaN
        return f"probability {probability} is outside [0, 1]"
    return None


def check_verdict(kind: str, verdict: str) -> str | None:
    """A verdict on the scale of the claim's kind."""
    scale = VERDICT_SCALES.get(ClaimKind(kind)) if kind in tuple(ClaimKind) else None
    if scale is None:
        return check_kind(kind)
    if verdict not in scale:
        return f"verdict {verdict!r} is not on the {kind} scale: {', '.join(scale)}"
    return None


def check_progress(kind: str, status: str) -> str | None:
    """A progress status (in-the-works, stalled), which only a promise has."""
    if kind != ClaimKind.PROMISE:
        return f"progress is for promises; a {kind} has none"
    if status not in PROGRESS_STATUSES:
        return f"progress {status!r} is not one of {', '.join(PROGRESS_STATUSES)}"
    return None


def check_evidence(verdict: str, evidence: list[str], what: str = "verdict") -> str | None:
    """Evidence URLs are well formed, and present unless the verdict admits none.

    A promise's progress status (`what` "progress") needs evidence as a verdict does.
    """
    for url in evidence:
        problem = check_url(url)
        if problem:
            return f"evidence {problem}"
    if not evidence and verdict not in VERDICTS_WITHOUT_EVIDENCE:
        return f"{what} {verdict!r} needs evidence: at least one URL"
    return None


class FieldProblem(NamedTuple):
    """A problem with one of several related fields: which one, and what is wrong with its value.

    The claims file puts `message` on the field's own path and line; the services and
    the CLI print `str(problem)`, which names the field first.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} {self.message}"


def deadline_problems(
    made_on: dt.date | None, deadline: dt.date, window_start: dt.date | None = None
) -> list[FieldProblem]:
    """The deadline is not before made_on, and a window starts within [made_on, deadline].

    `made_on` None (missing, and reported elsewhere) skips the checks that need it.
    """
    found: list[FieldProblem] = []
    if made_on is not None and deadline < made_on:
        found.append(FieldProblem("deadline", f"{deadline} is before made_on {made_on}"))
    if window_start is not None:
        if window_start > deadline:
            found.append(FieldProblem("window_start", f"{window_start} is after the deadline {deadline}"))
        elif made_on is not None and window_start < made_on:
            found.append(FieldProblem("window_start", f"{window_start} is before made_on {made_on}"))
    return found


def check_deadline(made_on: dt.date, deadline: dt.date, window_start: dt.date | None = None) -> str | None:
    """`deadline_problems` as one phrase, each problem naming its field."""
    return "; ".join(str(p) for p in deadline_problems(made_on, deadline, window_start)) or None


def resolved_on_problem(made_on: dt.date | None, resolved_on: dt.date) -> FieldProblem | None:
    """A verdict cannot be given before the claim was made."""
    if made_on is not None and resolved_on < made_on:
        return FieldProblem("resolved_on", f"{resolved_on} is before made_on {made_on}")
    return None


class ClaimProblem(NamedTuple):
    """A problem with a claim, at its path in a claims-file entry, e.g. ("resolution", "deadline").

    `message` is a whole phrase. A form or a command line shows it by `field`, the
    path's last part (the name of the option or form field).
    """

    loc: tuple[str, ...]
    message: str

    @property
    def field(self) -> str:
        """The field this problem belongs beside."""
        return self.loc[-1]


class ClaimCheck(NamedTuple):
    """What `check_claim` found: the claim's probability (its words' estimate), and its problems."""

    probability: float | None
    problems: list[ClaimProblem]


def check_claim(
    *,
    kind: str | None,
    made_on: dt.date | None,
    probability: float | None,
    confidence: str | None,
    resolution: tuple[dt.date | None, dt.date | None] | None,
    as_of: dt.date | None,
    scale: EstimativeScale,
    unstated: bool = False,
    quote: str | None = None,
    probability_basis: str | None = None,
    file_rules: bool = False,
) -> ClaimCheck:
    """The rules between a claim's fields, one wording for the claims file, `claims add` and forms.

    `resolution` is (deadline, window_start) when the claim has resolution criteria,
    else None. Fields that are missing or invalid on their own come in as None (and are
    reported by whoever read them), so one pass reports every other problem.

    `unstated` is a prediction the source made with no words of likelihood: recorded,
    never scored. With `quote`, the `confidence` words must occur in it (the words must
    be the source's). With `file_rules` (the claims file, whose entries have the fields
    for them), a bare number needs `probability_basis`, only a bare number may have one,
    and a prediction may say `probability: unstated`.
    """
    problems: list[ClaimProblem] = []
    if kind == ClaimKind.PROMISE.value:
        # A commitment about the speaker's own conduct is kept or broken, not forecast: none
        # of the likelihood fields apply, so each one given is a problem and no more is checked.
        given = {
            "probability": probability is not None or unstated,
            "confidence": confidence is not None,
            "probability_basis": probability_basis is not None,
        }
        for field in (f for f, present in given.items() if present):
            message = f"a promise has no {field}: it is kept, compromise or broken, never scored"
            problems.append(ClaimProblem((field,), message))
        probability = confidence = probability_basis = None
        unstated = False
    if probability is not None and (problem := check_probability(probability)):
        problems.append(ClaimProblem(("probability",), problem))
    if probability is not None and confidence is not None:
        problems.append(ClaimProblem(("confidence",), "give probability or confidence, not both"))
    elif confidence is not None:
        if quote is not None and not phrase_in_quote(confidence, quote):
            message = f"{confidence!r} does not occur in the quote; the words must be the source's"
            problems.append(ClaimProblem(("confidence",), message))
        try:
            probability = scale.estimate(confidence).probability
        except UnknownPhrase as exc:
            problems.append(ClaimProblem(("confidence",), str(exc)))
    if unstated and confidence is not None:
        problems.append(ClaimProblem(("confidence",), "give probability or confidence, not both"))
    if file_rules:
        bare = probability is not None and confidence is None
        if bare and probability_basis is None:
            message = "a bare probability needs probability_basis: where the number comes from"
            problems.append(ClaimProblem(("probability_basis",), message))
        elif not bare and probability_basis is not None:
            message = "probability_basis is for a bare probability (a number)"
            problems.append(ClaimProblem(("probability_basis",), message))
    if kind in (ClaimKind.PREDICTION.value, ClaimKind.PROMISE.value):
        if resolution is None:
            problems.append(
                ClaimProblem(("resolution",), f"a {kind} needs resolution: {{criteria, deadline}}")
            )
        if as_of is not None:
            problems.append(ClaimProblem(("as_of",), f"as_of is for facts; a {kind} has resolution.deadline"))
    if kind == ClaimKind.PREDICTION.value:
        if probability is None and confidence is None and not unstated:
            message = "a prediction needs probability (0..1) or confidence (the source's words)"
            if file_rules:
                message = (
                    "a prediction needs probability (0..1), confidence (the source's words) "
                    "or probability: unstated (no words of likelihood: recorded, never scored)"
                )
            problems.append(ClaimProblem(("probability",), message))
    elif kind == ClaimKind.FACT.value:
        if resolution is not None:
            problems.append(
                ClaimProblem(("resolution",), "resolution criteria are for predictions; a fact has as_of")
            )
        if unstated:
            message = "probability: unstated is for predictions; a fact is never scored"
            problems.append(ClaimProblem(("probability",), message))
    if kind is not None and resolution is not None and resolution[0] is not None:
        for wrong in deadline_problems(made_on, resolution[0], resolution[1]):
            problems.append(ClaimProblem(("resolution", wrong.field), wrong.message))
    return ClaimCheck(probability, problems)


UNSTATED = "unstated"
"""The claims file's `probability` for a prediction stated with no words of likelihood."""

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _folded(text: str) -> str:
    return " ".join(text.translate(_QUOTES).casefold().split())


def phrase_in_quote(phrase: str, quote: str) -> bool:
    """Whether the confidence words occur in the quote, ignoring case, spacing and curly quotes."""
    return _folded(phrase) in _folded(quote)


def latest_date(now: dt.datetime) -> dt.date:
    """The latest calendar date anywhere on Earth at `now` (UTC+14)."""
    return (now.astimezone(dt.UTC) + dt.timedelta(hours=14)).date()


def check_not_future(day: dt.date, what: str, now: dt.datetime) -> str | None:
    """`day` has begun somewhere on Earth; catches typos such as 2071 for 2017."""
    if day > latest_date(now):
        return f"{what} {day} is in the future"
    return None
