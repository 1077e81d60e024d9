"""The shape of claims.yaml, and the checks that turn its mistakes into located problems.

Pydantic checks each entry's shape and types; the cross-field rules (a deadline
before made_on, a verdict off its kind's scale) are checked here too, so every
problem carries a field path such as `claims[3].resolution.deadline` and a line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional, TypeVar, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    ValidationError,
    create_model,
)
from sqlalchemy.orm import InstrumentedAttribute

from tracker import rules, textrules
from tracker.claimsfile.reader import LMap, LSeq
from tracker.errors import Problem
from tracker.estimative import EstimativeScale
from tracker.models import Appearance, Claim, ClaimTag, Reviewer, Source


def _text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
    return value


def _fits(column: InstrumentedAttribute[Any] | None, *, multiline: bool = False) -> AfterValidator:
    """Refuse control characters, and text longer than `column` holds (on every backend)."""

    def validate(value: str) -> str:
        problem = textrules.check_text(value, column, multiline=multiline)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date like 2017-11-16, not a timestamp ({value.isoformat()})")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date; expected YYYY-MM-DD") from None
    raise ValueError(f"expected a date like 2017-11-16, got {value!r}")


def _rule(check: Callable[[str], str | None]) -> Callable[[str], str]:
    """Turn a tracker.rules check into a pydantic validator, so that every way in agrees."""

    def validate(value: str) -> str:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value

    return validate


def _identifier(column: InstrumentedAttribute[Any]) -> Callable[[str], str | None]:
    limit = textrules.max_length(column)

    def check(value: str) -> str | None:
        return rules.check_identifier(value, max_length=limit or 200)

    return check


def _verdict_text(value: Any) -> Any:
    # `verdict: false` is a YAML boolean; it means the verdict "false".
    if isinstance(value, bool):
        return "true" if value else "false"
    # Any case, and '_' or a space for '-', as on the command line.
    return textrules.normalise_verdict(value) if isinstance(value, str) else value


def _tag(value: str) -> str | None:
    return rules.check_tag(value, max_length=textrules.max_length(ClaimTag.tag) or 100)


# Free text of several lines: statements, quotes, criteria, notes (unlimited columns).
Text = Annotated[str, BeforeValidator(_text), _fits(None, multiline=True)]
Date = Annotated[dt.date, BeforeValidator(_date)]
Url = Annotated[str, BeforeValidator(_text), _fits(Appearance.url), AfterValidator(_rule(rules.check_url))]
Tag = Annotated[str, BeforeValidator(_text), _fits(None), AfterValidator(_rule(_tag))]
Email = Annotated[
    str, BeforeValidator(_text), _fits(Reviewer.email), AfterValidator(_rule(rules.check_email))
]
Timezone = Annotated[
    str, BeforeValidator(_text), _fits(Claim.timezone), AfterValidator(_rule(rules.check_timezone))
]
# Keys, slugs and handles, each as long as its column allows.
Handle = Annotated[
    str, BeforeValidator(_text), _fits(None), AfterValidator(_rule(_identifier(Reviewer.handle)))
]
Slug = Annotated[str, BeforeValidator(_text), _fits(None), AfterValidator(_rule(_identifier(Source.slug)))]
Key = Annotated[str, BeforeValidator(_text), _fits(None), AfterValidator(_rule(_identifier(Claim.key)))]
# One-line text, each as long as its column allows.
ReviewerName = Annotated[str, BeforeValidator(_text), _fits(Reviewer.name)]
SourceName = Annotated[str, BeforeValidator(_text), _fits(Source.name)]
Title = Annotated[str, BeforeValidator(_text), _fits(Appearance.title)]
Author = Annotated[str, BeforeValidator(_text), _fits(Appearance.author)]
Confidence = Annotated[str, BeforeValidator(_text), _fits(Claim.confidence)]


def _probability(value: Any) -> float | str | None:
    # One message for every wrong spelling, rather than one per member of a union.
    if value is None:
        return None
    if value == rules.UNSTATED:
        return rules.UNSTATED
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"expected a number from 0 to 1, or unstated, got {value!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ReviewerIn(_Strict):
    handle: Handle
    name: ReviewerName
    email: Email
    timezone: Timezone = "UTC"
    role: Literal["reviewer", "editor", "admin"] = "reviewer"


class SourceIn(_Strict):
    slug: Slug
    name: SourceName
    kind: Literal["outlet", "person", "organisation"]
    url: Url | None = None
    notes: Text | None = None
    member_of: Slug | None = None


class AppearanceIn(_Strict):
    url: Url
    title: Title | None = None
    author: Author | None = None
    published: Date | None = None


class CriteriaIn(_Strict):
    criteria: Text
    deadline: Date
    window_start: Date | None = None
    timezone: Timezone | None = None


class OutcomeIn(_Strict):
    verdict: Annotated[str, BeforeValidator(_verdict_text)]
    resolved_on: Date
    by: Handle | None = None
    evidence: list[Url] = []
    note: Text | None = None


class ProgressIn(_Strict):
    """One progress status of an open promise (in-the-works, stalled), kept in its history."""

    status: Annotated[str, BeforeValidator(_verdict_text)]
    rated_on: Date
    by: Handle | None = None
    evidence: list[Url] = []
    note: Text | None = None


class ClaimIn(_Strict):
    id: Key
    source: Slug
    kind: Literal["prediction", "fact", "promise"]
    statement: Text
    quote: Text
    appeared_in: AppearanceIn | None = None
    made_on: Date
    # A number, or "unstated": a prediction the source made with no words of likelihood,
    # recorded and resolved but never scored.
    probability: Annotated[float | str | None, PlainValidator(_probability)] = None
    probability_basis: Text | None = None
    confidence: Confidence | None = None
    resolution: CriteriaIn | None = None
    as_of: Date | None = None
    reviewers: list[Handle] = []
    tags: list[Tag] = []
    # A promise's progress while it was open, oldest first (append-only, like outcomes).
    progress: list[ProgressIn] = []
    outcome: OutcomeIn | None = None
    recorded_after_outcome: bool = False


UNSTATED = rules.UNSTATED
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A valid claim entry, with the probability its words imply already worked out."""

    entry: ClaimIn
    probability: float | None
    line: int


# -- locating problems ---------------------------------------------------------------------


def field_path(prefix: str, loc: Iterable[str | int]) -> str:
    """Render a pydantic location as `claims[3].resolution.deadline`."""
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def line_of(value: Any, loc: Iterable[str | int], default: int) -> int:
    """The line of the deepest part of `loc` that exists in the located value."""
    line: int = getattr(value, "line", default)
    for part in loc:
        if isinstance(value, LMap) and isinstance(part, str) and part in value:
            line, value = value.lines[part], value[part]
        elif isinstance(value, LSeq) and isinstance(part, int) and part < len(value):
            line, value = value.lines[part], value[part]
        else:
            break
    return line


def _message(error: Any, model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        fields = list(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(fields)}"
        return f"unknown key{hint}"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        return f"{error['input']!r} is not one of: {error['ctx']['expected']}"
    if kind in ("string_type", "str_type"):
        return f"expected text, got {error['input']!r}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {error['input']!r}"
    if kind in ("list_type",):
        return f"expected a list, got {error['input']!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping, got {error['input']!r}"
    message: str = error["msg"]
    return message.removeprefix("Value error, ")


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = (
            current.model_fields.get(part)
            if isinstance(current, type) and issubclass(current, BaseModel)
            else None
        )
        if field is None:
            return None
        annotation = field.annotation
        candidates = getattr(annotation, "__args__", (annotation,))
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


class EntryChecker:
    """Validates entries of one file, collecting problems instead of raising."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.problems: list[Problem] = []

    def add(self, line: int, field: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(self.file_name, line, field, message))

    def at(self, value: Any, prefix: str, loc: tuple[str | int, ...], message: str, default: int) -> None:
        """Record a problem located by a path inside an entry."""
        self.add(line_of(value, loc, default), field_path(prefix, loc), message)

    def parse(self, model: type[M], value: Any, prefix: str, line: int) -> M | None:
        """Validate `value` against `model`; record each error and return None on failure."""
        if not isinstance(value, dict):
            self.add(line, prefix, f"expected a mapping, got {_short(value)}")
            return None
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                self.at(value, prefix, loc, _message(error, model, loc), line)
            return None

    def partial(self, model: type[M], value: Any) -> Any:
        """The fields of an invalid entry that are valid on their own (others None), or None."""
        if not isinstance(value, dict):
            return None
        try:
            model.model_validate(value)
        except ValidationError as exc:
            bad = {error["loc"][0] for error in exc.errors() if error["loc"]}
        else:  # pragma: no cover - only called after a failure
            bad = set()
        good = {k: v for k, v in value.items() if k not in bad and k in model.model_fields}
        try:
            return _lenient(model).model_validate(good)
        except ValidationError:  # pragma: no cover - every remaining field passed on its own
            return None

    def check_claim(
        self, claim: ClaimIn, raw: Any, prefix: str, line: int, scale: EstimativeScale, now: dt.datetime
    ) -> float | None:
        """Cross-field rules for one claim (fields may be None if invalid); returns its probability."""

        def bad(loc: tuple[str | int, ...], message: str) -> None:
            self.at(raw, prefix, loc, message, line)

        criteria = claim.resolution
        invalid_number = (
            isinstance(raw, dict) and raw.get("probability") is not None and claim.probability is None
        )
        check = rules.check_claim(
            kind=claim.kind,
            made_on=claim.made_on,
            probability=claim.probability if isinstance(claim.probability, float) else None,
            confidence=claim.confidence,
            unstated=claim.probability == UNSTATED,
            quote=claim.quote,
            # An invalid number is reported on its own; its basis is then no second problem.
            probability_basis=None if invalid_number else claim.probability_basis,
            file_rules=True,
            resolution=(criteria.deadline, criteria.window_start) if criteria is not None else None,
            as_of=claim.as_of,
            scale=scale,
        )
        for found in check.problems:
            if found.loc == ("probability_basis",) and claim.probability_basis is None:
                # Missing, so it has no line: point at the number that needs it.
                self.add(line_of(raw, ("probability",), line), field_path(prefix, found.loc), found.message)
            else:
                bad(found.loc, found.message)
        if claim.kind is None:
            return check.probability
        outcome = claim.outcome
        if outcome is not None:
            if problem := rules.check_verdict(claim.kind, outcome.verdict):
                bad(("outcome", "verdict"), problem)
            elif problem := rules.check_evidence(outcome.verdict, list(outcome.evidence)):
                bad(("outcome", "evidence"), problem)
            if too_early := rules.resolved_on_problem(claim.made_on, outcome.resolved_on):
                bad(("outcome", too_early.field), too_early.message)
            if problem := rules.check_not_future(outcome.resolved_on, "resolved_on", now):
                bad(("outcome", "resolved_on"), problem)
        for index, entry in enumerate(claim.progress or ()):
            self._check_progress(claim, entry, ("progress", index), bad, now)
        return check.probability

    def _check_progress(
        self,
        claim: ClaimIn,
        entry: ProgressIn,
        loc: tuple[str | int, ...],
        bad: Callable[[tuple[str | int, ...], str], None],
        now: dt.datetime,
    ) -> None:
        """One progress entry: a promise's, on its scale, with evidence, dated while it was open."""
        if problem := rules.check_progress(claim.kind, entry.status):
            bad((*loc, "status"), problem)
            return
        if problem := rules.check_evidence(entry.status, list(entry.evidence), "progress"):
            bad((*loc, "evidence"), problem)
        if too_early := rules.resolved_on_problem(claim.made_on, entry.rated_on):
            bad((*loc, "rated_on"), too_early.message)
        if problem := rules.check_not_future(entry.rated_on, "rated_on", now):
            bad((*loc, "rated_on"), problem)
        outcome = claim.outcome
        if outcome is not None and entry.rated_on > outcome.resolved_on:
            message = (
                f"{entry.rated_on} is after the outcome ({outcome.resolved_on}): "
                "progress is for an open promise"
            )
            bad((*loc, "rated_on"), message)


@functools.cache
def _lenient(model: type[M]) -> type[M]:
    """A copy of `model` whose every field is optional, for checking what remains valid."""
    fields: dict[str, Any] = {
        name: (Optional[field.annotation], None if field.is_required() else field.default)  # noqa: UP045
        for name, field in model.model_fields.items()
    }
    lenient = create_model(f"Partial{model.__name__}", __config__=ConfigDict(extra="ignore"), **fields)
    return cast(type[M], lenient)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
