"""Digest messages: what one reviewer is told in one message, and how it is rendered.

The core is plain data (`Digest`, `DigestClaim`); the templates in templates/emails/ only
present it, drawn with the one template environment (`tracker.templating`). The Message-ID is a function of the reviewer and the reminders the digest
carries, so a retry after a crash repeats it exactly and a duplicate is detectable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from jinja2 import Environment

from tracker.channels import Message
from tracker.models import ClaimStatus
from tracker.reminders.policy import is_dispute, is_escalation, zone


def message_id(handle: str, reminder_ids: Sequence[int]) -> str:
    """The digest's Message-ID: the same reviewer and reminders always give the same one."""
    ids = ",".join(str(i) for i in sorted(reminder_ids))
    digest = hashlib.sha1(f"{handle}:{ids}".encode()).hexdigest()[:16]
    return f"<digest-{digest}.{handle}@tracker>"


def subject_line(total: int, overdue: int) -> str:
    """E.g. "tracker: 3 claims to resolve (1 overdue)"."""
    noun = "claim" if total == 1 else "claims"
    return f"tracker: {total} {noun} to resolve" + (f" ({overdue} overdue)" if overdue else "")


def resolve_command(key: str, handle: str) -> str:
    """The command that resolves claim `key`: paste it, then put the verdict and a URL in.

    Placeholders, not `true|false|...`, which a shell would read as pipes; the digest
    lists the verdicts below the claims.
    """
    return f"tracker resolve {key} --verdict VERDICT --evidence URL --by {handle}"


def adjudicate_command(key: str, handle: str) -> str:
    """The command that settles disputed claim `key` (an admin's verdict, with a note saying why)."""
    return f'tracker adjudicate {key} VERDICT --note "WHY" --evidence URL --by {handle}'


def resolve_link(
    base_url: str | None, key: str, handle: str, sign: Callable[[str], str] | None = None
) -> str | None:
    """The review web app's page resolving claim `key`, when its base URL is configured.

    With `sign`, the signed, expiring link (`/r/<token>`) that opens the form after a sign-in.
    """
    if not base_url:
        return None
    if sign is not None:
        return f"{base_url.rstrip('/')}/r/{sign(key)}"
    return f"{base_url.rstrip('/')}/claims/{quote(key)}/resolve?{urlencode({'by': handle})}"


@dataclass(frozen=True)
class DigestClaim:
    """One claim in a digest, with everything the reviewer needs to resolve it."""

    key: str
    statement: str
    criteria: str
    deadline: dt.date
    claim_timezone: str
    ends_at: dt.datetime  # the end of the deadline day, in the reviewer's timezone
    source: str
    article_url: str | None
    article_title: str | None
    days_left: int  # where the claim is read: 0 on the deadline, negative when overdue
    kind: str
    assigned: tuple[str, ...]  # handles of the claim's reviewers (shown on escalations)
    command: str
    link: str | None
    claim_kind: str = "prediction"  # a promise's VERDICT is on the promise meter
    # Under double review: "awaiting" (a second verdict is needed) or "disputed". Never the
    # first verdict itself: a reviewer asked for the second gives it blind.
    claim_status: str = ClaimStatus.OPEN.value

    @property
    def escalated(self) -> bool:
        """Whether this reaches an admin because the assigned reviewers have not resolved it."""
        return is_escalation(self.kind)

    @property
    def disputed(self) -> bool:
        """Whether this asks an admin to adjudicate: two reviewers' verdicts differ."""
        return is_dispute(self.kind)

    @property
    def awaiting(self) -> bool:
        """Whether one verdict is in and a second, from another assigned reviewer, is needed."""
        return self.claim_status == ClaimStatus.AWAITING

    @property
    def overdue(self) -> bool:
        """Whether the deadline has passed."""
        return self.days_left < 0

    @property
    def when(self) -> str:
        """How far the deadline is: "3 days left", "due today", "overdue by 4 days"."""
        days = abs(self.days_left)
        unit = "day" if days == 1 else "days"
        if self.days_left > 0:
            return f"{days} {unit} left"
        return "due today" if days == 0 else f"overdue by {days} {unit}"

    @property
    def label(self) -> str:
        """`when`, and whether the claim was escalated, needs a second verdict or is disputed."""
        notes = [
            note
            for note, applies in (
                ("escalated", self.escalated),
                ("needs a second verdict", self.awaiting),
                ("disputed", self.disputed),
            )
            if applies
        ]
        return ", ".join([self.when, *notes])


@dataclass(frozen=True)
class Digest:
    """Everything one reviewer is told in one message."""

    handle: str
    name: str
    email: str
    timezone: str
    claims: tuple[DigestClaim, ...]

    @property
    def has_promises(self) -> bool:
        """Whether a claim is a promise, whose verdicts the digest then explains too."""
        return any(c.claim_kind == "promise" for c in self.claims)

    @property
    def has_predictions(self) -> bool:
        """Whether a claim is a prediction (or a fact), whose verdicts the digest explains."""
        return any(c.claim_kind != "promise" for c in self.claims)

    @property
    def overdue(self) -> int:
        """How many of the claims are past their deadline."""
        return sum(1 for c in self.claims if c.overdue)

    @property
    def subject(self) -> str:
        """The message subject."""
        return subject_line(len(self.claims), self.overdue)


def digest_claim(
    *,
    key: str,
    statement: str,
    criteria: str | None,
    deadline: dt.date,
    claim_timezone: str,
    reviewer_handle: str,
    reviewer_timezone: str,
    source: str,
    article_url: str | None,
    article_title: str | None,
    kind: str,
    assigned: Sequence[str],
    resolve_url: str | None,
    now: dt.datetime,
    sign: Callable[[str], str] | None = None,
    claim_kind: str = "prediction",
    claim_status: str = ClaimStatus.OPEN.value,
) -> DigestClaim:
    """A DigestClaim, with the deadline's end and the days left worked out."""
    end = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(0), tzinfo=zone(claim_timezone))
    today = now.astimezone(zone(claim_timezone)).date()
    return DigestClaim(
        key=key,
        statement=statement,
        criteria=criteria or "",
        deadline=deadline,
        claim_timezone=claim_timezone,
        ends_at=end.astimezone(zone(reviewer_timezone)),
        source=source,
        article_url=article_url,
        article_title=article_title,
        days_left=(deadline - today).days,
        kind=kind,
        assigned=tuple(assigned),
        command=(adjudicate_command if is_dispute(kind) else resolve_command)(key, reviewer_handle),
        link=resolve_link(resolve_url, key, reviewer_handle, sign),
        claim_kind=claim_kind,
        claim_status=claim_status,
    )


def render(
    env: Environment, digest: Digest, message_id: str, headers: tuple[tuple[str, str], ...] = ()
) -> Message:
    """The digest as a Message with a plain-text and an HTML part, drawn with `env`'s templates."""
    text = env.get_template("emails/digest.txt")
    html = env.get_template("emails/digest.html")
    context = {"digest": digest}
    return Message(
        message_id=message_id,
        to_address=digest.email,
        to_name=digest.name,
        subject=digest.subject,
        text=text.render(context),
        html=html.render(context),
        headers=headers,
    )
