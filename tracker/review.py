"""Double review: which history entries form a claim's current round, and who may see them.

A claim's verdict history is append-only (`Resolution`). Its *current round* is the
entries since the last un-resolve (an entry with neither verdict nor progress); progress
statuses never count. With `review.verdicts_required = 2` a round holds a first verdict
(the claim awaits a second), a second by another reviewer (agreeing: resolved; differing:
disputed) and, when disputed, an admin's adjudication (resolved). Each entry's `role` says
which it is, so the round never has to be guessed from reviewers or dates.

The first verdict is blind: while the claim awaits the second, nobody but its author sees it
(`visible_history`). Everything that shows a history (web, CLI, JSON, scorecards) reads it
through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, or_

from tracker.models import Claim, ClaimStatus, Resolution, ReviewRole


class _Entry(Protocol):
    @property
    def verdict(self) -> str | None: ...

    @property
    def progress(self) -> str | None: ...

    @property
    def role(self) -> str: ...


E = TypeVar("E", bound=_Entry)


def is_unresolve(entry: _Entry) -> bool:
    return entry.verdict is None and entry.progress is None


def current_round(history: Iterable[E]) -> list[E]:
    """The verdict entries (no progress) since the last un-resolve, in the order recorded."""
    out: list[E] = []
    for entry in history:
        if is_unresolve(entry):
            out = []
        elif entry.verdict is not None:
            out.append(entry)
    return out


def double_review(history: Iterable[E]) -> tuple[E, E | None, E | None] | None:
    """(first, second, adjudication) of the current round, or None when it is no double review."""
    by_role = {e.role: e for e in current_round(history)}
    first = by_role.get(ReviewRole.FIRST.value)
    if first is None:
        return None
    return first, by_role.get(ReviewRole.SECOND.value), by_role.get(ReviewRole.ADJUDICATION.value)


def visible_history(
    status: str,
    history: Sequence[E],
    viewer: str | None,
    handle_of: Callable[[E], str | None],
    *,
    public: bool = False,
) -> list[E]:
    """The history as the reviewer `viewer` (a handle; None: one who gave no verdict) sees it.

    While a claim awaits its second verdict, the first is seen by its author alone (blind
    review). The `public` (scorecards, the feed) sees a double review's verdicts only once
    they resolve the claim: a disputed claim is an internal matter until an admin adjudicates.
    """
    if status not in (ClaimStatus.AWAITING, ClaimStatus.DISPUTED):
        return list(history)
    pending = {id(e) for e in current_round(history)}

    def hidden(entry: E) -> bool:
        if id(entry) not in pending:
            return False
        if public:
            return True
        return status == ClaimStatus.AWAITING and (viewer is None or handle_of(entry) != viewer)

    return [e for e in history if not hidden(e)]


def _handle_of(entry: Resolution) -> str | None:
    return entry.reviewer.handle if entry.reviewer else None


def visible_resolutions(claim: Claim, viewer: str | None, *, public: bool = False) -> list[Resolution]:
    """`visible_history` of a claim loaded from the database."""
    return visible_history(claim.status, claim.resolutions, viewer, _handle_of, public=public)


def settled_entries() -> ColumnElement[bool]:
    """SQL: the history entries anyone may read (a query joining Claim): all but those of a
    double review under way. (A claim under review again keeps its earlier rounds' double-
    review entries out too, until it resolves: erring towards the blind.) The feed and the
    report digest, which list entries across claims, read through this."""
    return or_(
        Resolution.role == ReviewRole.VERDICT.value,
        Claim.status.not_in([ClaimStatus.AWAITING.value, ClaimStatus.DISPUTED.value]),
    )


ROLE_WORDS: dict[str, str] = {
    ReviewRole.FIRST: "first of two verdicts",
    ReviewRole.SECOND: "second of two verdicts",
    ReviewRole.ADJUDICATION: "adjudication",
}
"""How a history entry's role reads beside its verdict (an ordinary verdict needs no word)."""


def outcome_text(entry: Resolution) -> str:
    """What a verdict just did, in a sentence for the CLI and the web's flash message."""
    claim = entry.claim
    if entry.role == ReviewRole.FIRST:
        return f"first of two verdicts recorded on {claim.key}; awaiting a second from another reviewer"
    if claim.status == ClaimStatus.DISPUTED:
        first, second = current_round(claim.resolutions)[:2]
        said = ", ".join(f"{_handle_of(e) or 'someone'} said {e.verdict}" for e in (first, second))
        return f"disputed: {said}; {claim.key} waits for an admin to adjudicate"
    if entry.role == ReviewRole.SECOND:
        first = current_round(claim.resolutions)[0]
        return f"resolved {claim.key}: {entry.verdict} (agreeing with {_handle_of(first) or 'the first verdict'})"
    if entry.role == ReviewRole.ADJUDICATION:
        return f"adjudicated {claim.key}: {entry.verdict}"
    return f"resolved {claim.key}: {entry.verdict}"
