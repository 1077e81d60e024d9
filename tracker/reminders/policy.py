"""When reminders fall due: a pure function of a deadline, the recipients, the policy and `now`.

Kinds, for each reviewer assigned to an open prediction:
- `before-<N>d`: N days before the deadline, for each N in `days_before`;
- `deadline`: on the deadline day (when `on_deadline`);
- `overdue-<k>`: every `overdue_every_days` days after the deadline (k = 1, 2, ...).

For each admin (not assigned to the claim) once it is `escalate_after_days` overdue:
- `escalation-<k>`: on day `escalate_after_days` after the deadline, then repeating on the
  overdue cadence (every `overdue_every_days` days) while the claim stays open.

A claim under double review (`review.verdicts_required` = 2, see `tracker.review`):
- `awaiting` a second verdict: as an open claim (the same kinds, cadence and escalations),
  but only to the assigned reviewers who have not given a verdict in the current round;
  the one who gave the first is not nagged.
- `disputed`: `disputed-<k>` to every admin (it is theirs to adjudicate), on the overdue
  cadence from their deadline day: the k-th on deadline day + (k-1) * `overdue_every_days`,
  until adjudicated. The reviewers, who have both given their verdict, get nothing.

Each kind is due at `send_hour` in the recipient's timezone, on a day counted from the
recipient's own deadline day. The deadline is a date read in the claim's timezone; the
recipient's deadline day is the last day whose `send_hour` comes before that date ends.
So, wherever the reviewer is, the `deadline` nudge comes while there is still time, and
every overdue nudge after the deadline has passed.

Only the latest kind already due is returned: a tracker that was off for a week sends one
catch-up reminder per claim and recipient, never the backlog.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from tracker.config import ReminderSettings
from tracker.models import DEADLINE_KINDS, ClaimStatus

DEADLINE = "deadline"
DISPUTED_PREFIX = "disputed-"
ESCALATION_PREFIX = "escalation-"
OVERDUE_PREFIX = "overdue-"
DAY = dt.timedelta(days=1)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for `name` (cached: a pass looks up the same few zones many times)."""
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone a reminder can go to: a reviewer id and the timezone their day is read in."""

    reviewer_id: int
    timezone: str


@dataclass(frozen=True, slots=True)
class ClaimDeadline:
    """What the policy needs of a claim; `timezone` is the claim's own or the configured default."""

    claim_id: int
    kind: str
    status: str
    deadline: dt.date | None
    timezone: str
    # Who gave a verdict in the current round (a claim awaiting its second): they are not reminded.
    answered: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True, order=True)
class Due:
    """A reminder that is due: the row `tracker.reminders.store` records."""

    claim_id: int
    reviewer_id: int
    kind: str
    deadline: dt.date
    due_at: dt.datetime


def before_kind(days: int) -> str:
    """The kind of the reminder `days` before the deadline."""
    return f"before-{days}d"


def is_escalation(kind: str) -> bool:
    """Whether `kind` goes to an admin because the assigned reviewers have not resolved the claim."""
    return kind.startswith(ESCALATION_PREFIX)


def is_dispute(kind: str) -> bool:
    """Whether `kind` asks an admin to adjudicate a disputed claim."""
    return kind.startswith(DISPUTED_PREFIX)


REMINDED = (ClaimStatus.OPEN.value, ClaimStatus.AWAITING.value)
"""The statuses whose assigned reviewers (those who owe a verdict) are reminded, and escalated."""


def applies_to(kind: str, status: str) -> bool:
    """Whether a reminder of `kind` still applies to a claim of `status` (the deadline aside)."""
    return status == ClaimStatus.DISPUTED if is_dispute(kind) else status in REMINDED


def deadline_end(deadline: dt.date, claim_timezone: str) -> dt.datetime:
    """The instant (UTC) the deadline day ends where the claim is read."""
    end = dt.datetime.combine(deadline + DAY, dt.time(0), tzinfo=zone(claim_timezone))
    return end.astimezone(dt.UTC)


def send_time(day: dt.date, timezone: str, send_hour: int) -> dt.datetime:
    """`send_hour` on `day` in `timezone`, as UTC (a time skipped by DST lands an hour later)."""
    return dt.datetime.combine(day, dt.time(send_hour), tzinfo=zone(timezone)).astimezone(dt.UTC)


def local_deadline_day(
    deadline: dt.date, claim_timezone: str, recipient_timezone: str, send_hour: int
) -> dt.date:
    """The recipient's own deadline day: the last day whose `send_hour` comes before the deadline ends."""
    end = deadline_end(deadline, claim_timezone)
    day = end.astimezone(zone(recipient_timezone)).date()
    while send_time(day, recipient_timezone, send_hour) >= end:
        day -= DAY
    return day


def _latest_repeating(
    first_day: dt.date,
    prefix: str,
    recipient_timezone: str,
    policy: ReminderSettings,
    now: dt.datetime,
) -> tuple[str, dt.datetime] | None:
    """The latest `<prefix><k>` due by `now`, the k-th falling on first_day + (k-1) * every."""
    every = policy.overdue_every_days
    today = now.astimezone(zone(recipient_timezone)).date()
    k = (today - first_day).days // every + 1
    if k >= 1 and send_time(first_day + (k - 1) * every * DAY, recipient_timezone, policy.send_hour) > now:
        k -= 1  # today's falls due later today
    if k < 1:
        return None
    return f"{prefix}{k}", send_time(first_day + (k - 1) * every * DAY, recipient_timezone, policy.send_hour)


def reviewer_schedule(
    deadline: dt.date, claim_timezone: str, recipient_timezone: str, policy: ReminderSettings
) -> list[tuple[str, dt.datetime]]:
    """The kinds before and on the deadline, with when each is due, earliest first."""
    day = local_deadline_day(deadline, claim_timezone, recipient_timezone, policy.send_hour)
    days = sorted({n for n in policy.days_before if n > 0}, reverse=True)
    schedule = [(before_kind(n), day - n * DAY) for n in days]
    if policy.on_deadline:
        schedule.append((DEADLINE, day))
    return [(kind, send_time(when, recipient_timezone, policy.send_hour)) for kind, when in schedule]


def latest_for_reviewer(
    deadline: dt.date,
    claim_timezone: str,
    recipient_timezone: str,
    policy: ReminderSettings,
    now: dt.datetime,
) -> tuple[str, dt.datetime] | None:
    """The latest reminder kind due by `now` for an assigned reviewer, or None."""
    day = local_deadline_day(deadline, claim_timezone, recipient_timezone, policy.send_hour)
    overdue = _latest_repeating(
        day + policy.overdue_every_days * DAY, OVERDUE_PREFIX, recipient_timezone, policy, now
    )
    if overdue is not None:
        return overdue
    due = [
        item
        for item in reviewer_schedule(deadline, claim_timezone, recipient_timezone, policy)
        if item[1] <= now
    ]
    return due[-1] if due else None


def latest_escalation(
    deadline: dt.date,
    claim_timezone: str,
    recipient_timezone: str,
    policy: ReminderSettings,
    now: dt.datetime,
) -> tuple[str, dt.datetime] | None:
    """The latest escalation kind due by `now` for an admin, or None."""
    day = local_deadline_day(deadline, claim_timezone, recipient_timezone, policy.send_hour)
    return _latest_repeating(
        day + policy.escalate_after_days * DAY, ESCALATION_PREFIX, recipient_timezone, policy, now
    )


def latest_dispute(
    deadline: dt.date,
    claim_timezone: str,
    recipient_timezone: str,
    policy: ReminderSettings,
    now: dt.datetime,
) -> tuple[str, dt.datetime] | None:
    """The latest dispute kind due by `now` for an admin, or None."""
    day = local_deadline_day(deadline, claim_timezone, recipient_timezone, policy.send_hour)
    return _latest_repeating(day, DISPUTED_PREFIX, recipient_timezone, policy, now)


def due_reminders(
    claim: ClaimDeadline,
    assigned: Sequence[Recipient],
    admins: Sequence[Recipient],
    policy: ReminderSettings,
    now: dt.datetime,
) -> list[Due]:
    """The one latest due reminder per recipient of `claim`; none for facts or resolved claims."""
    if claim.kind not in DEADLINE_KINDS or claim.deadline is None:
        return []
    deadline = claim.deadline
    found: list[Due] = []
    if claim.status == ClaimStatus.DISPUTED:
        for admin in admins:
            latest = latest_dispute(deadline, claim.timezone, admin.timezone, policy, now)
            if latest is not None:
                found.append(Due(claim.claim_id, admin.reviewer_id, latest[0], deadline, latest[1]))
        return found
    if claim.status not in REMINDED:
        return []
    for reviewer in assigned:
        if reviewer.reviewer_id in claim.answered:
            continue
        latest = latest_for_reviewer(deadline, claim.timezone, reviewer.timezone, policy, now)
        if latest is not None:
            found.append(Due(claim.claim_id, reviewer.reviewer_id, latest[0], deadline, latest[1]))
    # An admin assigned to the claim already gets the overdue nudges themselves.
    assigned_ids = {r.reviewer_id for r in assigned}
    for admin in admins:
        if admin.reviewer_id in assigned_ids:
            continue
        latest = latest_escalation(deadline, claim.timezone, admin.timezone, policy, now)
        if latest is not None:
            found.append(Due(claim.claim_id, admin.reviewer_id, latest[0], deadline, latest[1]))
    return found


def all_due(
    claims: Iterable[tuple[ClaimDeadline, Sequence[Recipient]]],
    admins: Sequence[Recipient],
    policy: ReminderSettings,
    now: dt.datetime,
) -> Iterator[Due]:
    """`due_reminders` for many claims, each given with its assigned reviewers."""
    for claim, assigned in claims:
        yield from due_reminders(claim, assigned, admins, policy, now)


def horizon(policy: ReminderSettings, now: dt.datetime) -> dt.date:
    """The latest deadline that can have anything due at `now` (to narrow the scan in SQL)."""
    # The latest date anywhere on Earth (UTC+14), the longest lead, and a day for the shifts.
    latest_date = (now.astimezone(dt.UTC) + dt.timedelta(hours=14)).date()
    return latest_date + max([0, *policy.days_before]) * DAY + DAY


def lookback(policy: ReminderSettings) -> dt.timedelta:
    """How long ago a recipient's latest due reminder can have fallen due (the widest gap, plus shifts)."""
    every = policy.overdue_every_days
    offsets = sorted({-n for n in policy.days_before if n > 0} | ({0} if policy.on_deadline else set()))
    offsets.append(every)
    gaps = [later - earlier for earlier, later in itertools.pairwise(offsets)]
    return (max([every, *gaps]) + 3) * DAY


def digest_day(at: dt.datetime, timezone: str, send_hour: int) -> dt.date:
    """The reviewer's "digest day" `at` falls in: local days that start at `send_hour`, not midnight.

    At most one digest goes out per digest day, so reminders held back by that limit go
    out at the next `send_hour`, a sensible local hour, rather than just after midnight.
    """
    local = at.astimezone(zone(timezone)).replace(tzinfo=None)
    return (local - dt.timedelta(hours=send_hour)).date()


def days_left(deadline: dt.date, claim_timezone: str, now: dt.datetime) -> int:
    """Days until the deadline where the claim is read: 0 on the day, negative when overdue."""
    return (deadline - now.astimezone(zone(claim_timezone)).date()).days
