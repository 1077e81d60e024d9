"""The reminder policy, as a pure function: which kind is due, when, for whom."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.config import ReminderSettings
from tracker.reminders.policy import (
    ClaimDeadline,
    Due,
    Recipient,
    days_left,
    deadline_end,
    digest_day,
    due_reminders,
    horizon,
    latest_escalation,
    latest_for_reviewer,
    lookback,
    reviewer_schedule,
)

UTC = dt.UTC
DEFAULT = ReminderSettings()
D = dt.date(2027, 1, 31)


def at(text: str, zone: str = "UTC") -> dt.datetime:
    """An aware datetime from local wall-clock text in `zone`, as UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def latest(
    now: str, reviewer_zone: str = "UTC", claim_zone: str = "UTC", **rules: object
) -> tuple[str, str] | None:
    """The latest kind due at local `now` (in the reviewer's zone), and its due time in that zone."""
    policy = ReminderSettings(**rules) if rules else DEFAULT  # type: ignore[arg-type]
    hit = latest_for_reviewer(D, claim_zone, reviewer_zone, policy, at(now, reviewer_zone))
    if hit is None:
        return None
    return hit[0], hit[1].astimezone(ZoneInfo(reviewer_zone)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2027-01-24 08:59", None),
        ("2027-01-24 09:00", ("before-7d", "2027-01-24 09:00")),
        ("2027-01-29 23:59", ("before-7d", "2027-01-24 09:00")),
        ("2027-01-30 09:00", ("before-1d", "2027-01-30 09:00")),
        ("2027-01-31 08:00", ("before-1d", "2027-01-30 09:00")),
        ("2027-01-31 09:00", ("deadline", "2027-01-31 09:00")),
        ("2027-02-03 08:59", ("deadline", "2027-01-31 09:00")),
        ("2027-02-03 09:00", ("overdue-1", "2027-02-03 09:00")),
        ("2027-02-06 09:00", ("overdue-2", "2027-02-06 09:00")),
        ("2027-02-08 12:00", ("overdue-2", "2027-02-06 09:00")),
        ("2027-12-31 12:00", ("overdue-111", "2027-12-30 09:00")),
    ],
)
def test_the_default_schedule_in_utc(now: str, expected: tuple[str, str] | None) -> None:
    assert latest(now) == expected


@pytest.mark.parametrize(
    "zone", ["Asia/Tokyo", "Pacific/Kiritimati", "America/Los_Angeles", "Pacific/Honolulu"]
)
def test_reminders_fall_at_the_send_hour_of_the_reviewers_own_day(zone: str) -> None:
    assert latest("2027-01-24 09:00", reviewer_zone=zone, claim_zone=zone) == (
        "before-7d",
        "2027-01-24 09:00",
    )
    assert latest("2027-01-24 08:59", reviewer_zone=zone, claim_zone=zone) is None


@pytest.mark.parametrize(
    ("zone", "deadline_day"),
    [
        ("Europe/Berlin", "2027-01-31"),  # the deadline ends at 01:00 on 02-01 in Berlin
        ("Asia/Tokyo", "2027-01-31"),  # ends at 09:00 on 02-01: 09:00 is not before it
        ("Pacific/Kiritimati", "2027-02-01"),  # ends at 14:00 on 02-01: 09:00 is still in time
        ("America/Los_Angeles", "2027-01-31"),  # ends at 16:00 on 01-31
        ("Pacific/Pago_Pago", "2027-01-31"),  # ends at 13:00 on 01-31
    ],
)
def test_a_reviewer_far_from_the_claims_timezone_gets_their_own_deadline_day(
    zone: str, deadline_day: str
) -> None:
    """The deadline 2027-01-31 is read in UTC; a reviewer's deadline day is the last whose 09:00 precedes its end."""
    schedule = dict(reviewer_schedule(D, "UTC", zone, DEFAULT))
    end = deadline_end(D, "UTC")
    assert schedule["deadline"] == at(f"{deadline_day} 09:00", zone)
    assert schedule["deadline"] < end <= schedule["deadline"] + dt.timedelta(days=1)
    assert schedule["before-1d"] == at(f"{deadline_day} 09:00", zone) - dt.timedelta(days=1)


def test_far_east_and_far_west_reviewers_get_the_same_day_at_different_instants() -> None:
    tokyo = latest_for_reviewer(D, "UTC", "Asia/Tokyo", DEFAULT, at("2027-01-31 00:00"))
    honolulu = latest_for_reviewer(D, "UTC", "Pacific/Honolulu", DEFAULT, at("2027-01-31 19:00"))
    assert tokyo == ("deadline", at("2027-01-31 00:00"))  # 09:00 JST is midnight UTC
    assert honolulu == ("deadline", at("2027-01-31 19:00"))  # 09:00 HST is 19:00 UTC


def test_send_hour_is_configurable() -> None:
    assert latest("2027-01-24 17:59", send_hour=18) is None
    assert latest("2027-01-24 18:00", send_hour=18) == ("before-7d", "2027-01-24 18:00")


def test_dst_boundary_keeps_the_local_hour() -> None:
    # New York springs forward on 2027-03-14: 09:00 is 14:00 UTC before, 13:00 UTC after.
    deadline = dt.date(2027, 3, 20)
    schedule = dict(reviewer_schedule(deadline, "America/New_York", "America/New_York", DEFAULT))
    assert schedule["before-7d"] == at("2027-03-13 14:00")
    assert schedule["before-1d"] == at("2027-03-19 13:00")
    assert schedule["deadline"] == at("2027-03-20 13:00")


def test_a_send_hour_skipped_by_dst_lands_an_hour_later() -> None:
    # 02:00 does not exist in New York on 2027-03-14; the reminder comes at 03:00 EDT.
    policy = ReminderSettings(send_hour=2, days_before=(6,))
    schedule = dict(reviewer_schedule(dt.date(2027, 3, 20), "America/New_York", "America/New_York", policy))
    assert schedule["before-6d"].astimezone(ZoneInfo("America/New_York")).hour == 3


def test_deadline_nudge_for_a_far_west_reviewer_comes_before_the_deadline_ends() -> None:
    # A claim read in Kiritimati (UTC+14) ends on 2027-01-31 at 10:00 UTC: 23:00 on 01-30 in
    # Pago Pago (UTC-11). The reviewer there is nudged on their 01-30, not after the end.
    end = deadline_end(D, "Pacific/Kiritimati")
    assert end == at("2027-01-31 10:00")
    schedule = dict(reviewer_schedule(D, "Pacific/Kiritimati", "Pacific/Pago_Pago", DEFAULT))
    assert schedule["deadline"] == at("2027-01-30 09:00", "Pacific/Pago_Pago")
    assert schedule["deadline"] < end


def test_overdue_nudge_for_a_far_east_reviewer_waits_until_the_deadline_has_ended() -> None:
    # Read in Honolulu, the deadline ends 2027-02-01 10:00 UTC: midnight starting 02-02 in
    # Kiritimati. That reviewer's deadline day is 02-01, and the first overdue nudge 02-02.
    policy = ReminderSettings(overdue_every_days=1)
    hit = latest_for_reviewer(
        D, "Pacific/Honolulu", "Pacific/Kiritimati", policy, at("2027-02-02 09:00", "Pacific/Kiritimati")
    )
    assert hit == ("overdue-1", at("2027-02-02 09:00", "Pacific/Kiritimati"))
    assert hit[1] >= deadline_end(D, "Pacific/Honolulu")
    before = latest_for_reviewer(
        D, "Pacific/Honolulu", "Pacific/Kiritimati", policy, at("2027-02-01 09:00", "Pacific/Kiritimati")
    )
    assert before is not None and before[0] == "deadline"


def test_catch_up_after_a_week_asleep_is_only_the_latest_kind() -> None:
    claim = ClaimDeadline(1, "prediction", "open", D, "UTC")
    due = due_reminders(claim, [Recipient(10, "UTC")], [], DEFAULT, at("2027-02-07 10:00"))
    assert due == [Due(1, 10, "overdue-2", D, at("2027-02-06 09:00"))]


def test_options_change_the_kinds() -> None:
    assert latest("2027-01-31 09:00", on_deadline=False) == ("before-1d", "2027-01-30 09:00")
    assert latest("2027-01-28 09:00", days_before=(3, 3, 0)) == ("before-3d", "2027-01-28 09:00")
    assert latest("2027-02-01 09:00", overdue_every_days=1) == ("overdue-1", "2027-02-01 09:00")


def test_resolved_claims_and_facts_get_nothing() -> None:
    reviewer = [Recipient(10, "UTC")]
    admin = [Recipient(11, "UTC")]
    late = at("2027-06-01 12:00")
    assert (
        due_reminders(ClaimDeadline(1, "prediction", "resolved", D, "UTC"), reviewer, admin, DEFAULT, late)
        == []
    )
    assert due_reminders(ClaimDeadline(1, "fact", "open", None, "UTC"), reviewer, admin, DEFAULT, late) == []
    assert (
        due_reminders(ClaimDeadline(1, "prediction", "open", None, "UTC"), reviewer, admin, DEFAULT, late)
        == []
    )


def test_escalation_reaches_admins_after_14_overdue_days_and_repeats() -> None:
    admin = "Europe/Berlin"
    assert latest_escalation(D, "UTC", admin, DEFAULT, at("2027-02-14 08:59", admin)) is None
    assert latest_escalation(D, "UTC", admin, DEFAULT, at("2027-02-14 09:00", admin)) == (
        "escalation-1",
        at("2027-02-14 09:00", admin),
    )
    assert latest_escalation(D, "UTC", admin, DEFAULT, at("2027-02-17 09:00", admin)) == (
        "escalation-2",
        at("2027-02-17 09:00", admin),
    )


def test_escalation_goes_to_admins_not_on_the_claim_and_not_to_reviewers() -> None:
    claim = ClaimDeadline(1, "prediction", "open", D, "UTC")
    reviewer, admin, assigned_admin = Recipient(10, "UTC"), Recipient(11, "UTC"), Recipient(12, "UTC")
    due = due_reminders(
        claim, [reviewer, assigned_admin], [admin, assigned_admin], DEFAULT, at("2027-02-15 12:00")
    )
    assert [(d.reviewer_id, d.kind) for d in due] == [
        (10, "overdue-5"),
        (12, "overdue-5"),
        (11, "escalation-1"),
    ]


def test_an_unassigned_overdue_claim_still_escalates() -> None:
    claim = ClaimDeadline(1, "prediction", "open", D, "UTC")
    due = due_reminders(claim, [], [Recipient(11, "UTC")], DEFAULT, at("2027-02-15 12:00"))
    assert [(d.reviewer_id, d.kind) for d in due] == [(11, "escalation-1")]


def test_digest_days_start_at_the_send_hour() -> None:
    zone = "Asia/Tokyo"
    assert digest_day(at("2027-01-24 08:59", zone), zone, 9) == dt.date(2027, 1, 23)
    assert digest_day(at("2027-01-24 09:00", zone), zone, 9) == dt.date(2027, 1, 24)
    assert digest_day(at("2027-01-25 08:59", zone), zone, 9) == dt.date(2027, 1, 24)


def test_days_left_is_read_in_the_claims_timezone() -> None:
    assert days_left(D, "UTC", at("2027-01-30 23:00")) == 1
    assert days_left(D, "Asia/Tokyo", at("2027-01-30 23:00")) == 0  # already the 31st in Tokyo
    assert days_left(D, "UTC", at("2027-02-03 00:00")) == -3


def test_lookback_is_the_widest_gap_plus_slack() -> None:
    assert lookback(DEFAULT) == dt.timedelta(days=9)  # 7d -> 1d is the widest gap: 6 days
    assert lookback(
        ReminderSettings(days_before=(), on_deadline=False, overdue_every_days=5)
    ) == dt.timedelta(days=8)


zones = st.sampled_from(
    [
        "UTC",
        "Asia/Tokyo",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    deadline=st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)),
    claim_zone=zones,
    reviewer_zone=zones,
    offset_hours=st.integers(-24 * 20, 24 * 60),
    every=st.integers(1, 5),
    hour=st.integers(0, 23),
)
def test_the_latest_due_kind_is_due_on_the_right_side_of_the_deadline(
    deadline: dt.date, claim_zone: str, reviewer_zone: str, offset_hours: int, every: int, hour: int
) -> None:
    policy = ReminderSettings(overdue_every_days=every, send_hour=hour)
    end = deadline_end(deadline, claim_zone)
    now = end + dt.timedelta(hours=offset_hours)
    hit = latest_for_reviewer(deadline, claim_zone, reviewer_zone, policy, now)
    if hit is None:
        assert now < end
        return
    kind, due_at = hit
    assert due_at <= now
    if kind.startswith("overdue-"):
        assert due_at >= end
        # Never more than one cadence (and a day of shifting) behind: no nudge is missed.
        assert now - due_at < dt.timedelta(days=every + 2)
    else:
        assert due_at < end
    assert now - due_at < lookback(policy)
    # Nothing later is due: a moment before the found one's successor, it is still the one.
    later = latest_for_reviewer(deadline, claim_zone, reviewer_zone, policy, now + dt.timedelta(minutes=1))
    assert later is not None and later[1] >= due_at


def test_horizon_covers_every_claim_with_anything_due() -> None:
    now = at("2027-01-24 00:00")
    # Kiritimati is already at 14:00 on the 24th: a deadline seven days later is in reach.
    assert horizon(DEFAULT, now) >= dt.date(2027, 1, 31)
    assert latest_for_reviewer(D, "Pacific/Kiritimati", "Pacific/Kiritimati", DEFAULT, now) is not None
    beyond = horizon(DEFAULT, now) + dt.timedelta(days=1)
    for claim_zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        assert latest_for_reviewer(beyond, claim_zone, "Pacific/Kiritimati", DEFAULT, now) is None


def test_a_claim_awaiting_its_second_verdict_reminds_those_who_owe_one_and_escalates() -> None:
    first, second, admin = Recipient(10, "UTC"), Recipient(12, "UTC"), Recipient(11, "UTC")
    claim = ClaimDeadline(1, "prediction", "awaiting", D, "UTC", answered=frozenset({10}))
    due = due_reminders(claim, [first, second], [admin], DEFAULT, at("2027-02-15 12:00"))
    # The same kinds as an open claim's, to all but the reviewer who gave the first verdict.
    assert [(d.reviewer_id, d.kind) for d in due] == [(12, "overdue-5"), (11, "escalation-1")]
    open_claim = ClaimDeadline(1, "prediction", "open", D, "UTC")
    same = due_reminders(open_claim, [second], [], DEFAULT, at("2027-02-15 12:00"))
    assert [d for d in due if d.reviewer_id == 12] == same


def test_a_disputed_claim_reminds_every_admin_on_the_overdue_cadence_from_the_deadline_day() -> None:
    reviewer, admin, assigned_admin = Recipient(10, "UTC"), Recipient(11, "Asia/Tokyo"), Recipient(12, "UTC")
    claim = ClaimDeadline(1, "prediction", "disputed", D, "UTC")
    assert (
        due_reminders(
            claim, [reviewer, assigned_admin], [admin, assigned_admin], DEFAULT, at("2027-01-30 12:00")
        )
        == []
    )
    due = due_reminders(
        claim, [reviewer, assigned_admin], [admin, assigned_admin], DEFAULT, at("2027-01-31 12:00")
    )
    assert [(d.reviewer_id, d.kind) for d in due] == [(11, "disputed-1"), (12, "disputed-1")]
    assert due[0].due_at == at("2027-01-31 09:00", "Asia/Tokyo")
    later = due_reminders(claim, [reviewer], [admin], DEFAULT, at("2027-02-06 12:00"))
    assert [(d.reviewer_id, d.kind, d.due_at) for d in later] == [
        (11, "disputed-3", at("2027-02-06 09:00", "Asia/Tokyo"))
    ]
    # A resolved (adjudicated) claim gets nothing.
    done = ClaimDeadline(1, "prediction", "resolved", D, "UTC")
    assert due_reminders(done, [reviewer], [admin], DEFAULT, at("2027-02-06 12:00")) == []
