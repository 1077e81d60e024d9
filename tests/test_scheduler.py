"""The scheduler's jobs and wiring, in-process with an injected clock: catch-up, no storms, no overlap."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from support.reminders import RecordingChannel, RecordingSender, World, keys_in
from support.scheduler import Clock, Events, at, race_reports, scheduler_settings

from tracker.channels import Message
from tracker.errors import TrackerError
from tracker.models import JobRun, ReportRun
from tracker.reports import make_report
from tracker.scheduler import (
    CATCH_UP_JOB,
    REPORT_JOB,
    Jobs,
    Runner,
    missed_slot,
    next_slot,
    previous_slot,
    report_trigger,
)

MONDAY = at("2027-01-18 08:30")  # just after the default report slot, Mondays 08:00 UTC
A_WEEK_LATER = at("2027-01-25 12:30")  # the next Monday; the 7-day reminders fell due on the 24th


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], db_url: str, tmp_path: Path) -> World:
    w = World(engine, session_factory, db_url, tmp_path)
    w.settings = scheduler_settings(db_url, tmp_path)
    return w


def make_jobs(
    world: World, clock: Clock, channel: RecordingChannel | None = None, worker: str = "w1"
) -> Jobs:
    return Jobs(world.factory, world.settings, channel or world.channel, clock, worker)


def job_runs(world: World, job: str) -> list[JobRun]:
    return [run for run in world.runs() if run.job == job]


def reports_made(world: World) -> int:
    return world.count(ReportRun)


# --- the cron arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "now", "previous", "following"),
    [
        ("0 8 * * mon", "2027-01-20 12:00", "2027-01-18 08:00", "2027-01-25 08:00"),
        ("0 8 * * mon", "2027-01-18 08:00", "2027-01-18 08:00", "2027-01-25 08:00"),
        ("*/15 * * * *", "2027-01-20 12:07", "2027-01-20 12:00", "2027-01-20 12:15"),
        ("0 8 1 * *", "2027-01-20 12:00", "2027-01-01 08:00", "2027-02-01 08:00"),
        ("0 0 29 2 *", "2027-01-20 12:00", "2024-02-29 00:00", "2028-02-29 00:00"),
    ],
)
def test_previous_and_next_slots(expression: str, now: str, previous: str, following: str) -> None:
    trigger = report_trigger(expression)
    assert previous_slot(trigger, at(now)) == at(previous)
    assert next_slot(trigger, at(now)) == at(following)


def test_a_bad_cron_expression_names_the_setting() -> None:
    with pytest.raises(TrackerError, match=r"TRACKER_REPORT_CRON: '0 8 \* mon' is not a crontab expression"):
        report_trigger("0 8 * mon")


def test_a_report_is_owed_only_for_a_slot_missed_since_the_reference() -> None:
    weekly = report_trigger("0 8 * * mon")
    now = at("2027-01-25 12:30")
    # Nothing ever ran: nothing was missed.
    assert missed_slot(weekly, None, None, now) is None
    # The last report came before this Monday's slot: that slot is owed.
    assert missed_slot(weekly, at("2027-01-18 08:01"), None, now) == at("2027-01-25 08:00")
    # ... and not once it is made.
    assert missed_slot(weekly, at("2027-01-25 08:00"), None, now) is None
    # Before the first report, the first pass is the reference; a report counts over it.
    assert missed_slot(weekly, None, at("2027-01-24 10:00"), now) == at("2027-01-25 08:00")
    assert missed_slot(weekly, None, at("2027-01-25 09:00"), now) is None
    assert missed_slot(weekly, at("2027-01-25 09:00"), at("2027-01-01 00:00"), now) is None


# --- catching up -----------------------------------------------------------------------------------


def test_a_first_start_makes_one_pass_and_owes_no_report(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    events = Events()
    runner = Runner(make_jobs(world, Clock(A_WEEK_LATER)), events)

    runner.once()

    assert events.catch_ups == [None]
    assert [p.sent for p in events.passes] == [1]
    assert events.reports == []
    assert len(job_runs(world, "reminders")) == 1
    assert job_runs(world, REPORT_JOB) == []


def test_a_laptop_waking_after_a_week_makes_one_catch_up_pass_and_one_report(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    world.claim("oil-up", "ann")
    clock = Clock(MONDAY)
    runner = Runner(make_jobs(world, clock), Events())
    runner.once()  # Monday: nothing due yet, and no report owed
    with world.begin() as session:  # someone made Monday's report by hand
        make_report(session, settings=world.settings, now=MONDAY, out_dir=Path(world.settings.report.out_dir))

    clock.now = A_WEEK_LATER  # asleep since: a week of passes and this Monday's report were missed
    events = Events()
    runner = Runner(make_jobs(world, clock), events)
    assert runner.jobs.report_overdue() == at("2027-01-25 08:00")
    scheduler = runner.build(dt.datetime.now(dt.UTC), at("2027-01-25 08:00"))
    assert [job.id for job in scheduler.get_jobs()].count(CATCH_UP_JOB) == 1
    runner.once()

    assert events.catch_ups == [at("2027-01-25 08:00")]
    assert len(events.passes) == 1 and len(events.reports) == 1
    [digest] = world.channel.messages  # one digest listing both claims, not a week of them
    assert sorted(keys_in(digest)) == ["oil-up", "rates-fall"]
    assert events.reports[0].report is not None
    assert reports_made(world) == 2

    # Running again at once (a second start, or APScheduler firing late) adds nothing.
    clock.advance(minutes=1)
    again = Events()
    Runner(make_jobs(world, clock), again).once()
    assert again.catch_ups == [None] and again.reports == []
    assert [p.sent for p in again.passes] == [0]
    assert len(world.channel.messages) == 1
    assert reports_made(world) == 2
    assert len(job_runs(world, "reminders")) == 3
    assert len(job_runs(world, REPORT_JOB)) == 1


def test_a_report_job_with_nothing_owed_records_its_run_and_makes_nothing(world: World) -> None:
    jobs = make_jobs(world, Clock(MONDAY))
    outcome = jobs.report()
    assert outcome is not None and outcome.report is None
    [run] = job_runs(world, REPORT_JOB)
    assert run.ok is True and run.counts["made"] == 0
    assert reports_made(world) == 0


def test_the_cron_slot_after_the_first_pass_makes_the_first_report(world: World) -> None:
    clock = Clock(at("2027-01-17 10:00"))  # a Sunday: the scheduler's first start
    Runner(make_jobs(world, clock), Events()).once()
    clock.now = at("2027-01-18 08:00")  # APScheduler fires the Monday slot
    outcome = make_jobs(world, clock).report()
    assert outcome is not None and outcome.report is not None
    [run] = job_runs(world, REPORT_JOB)
    assert run.counts == {  # nobody is subscribed: nothing queued, nothing sent
        "made": 1,
        "report_id": outcome.report.run_id,
        "queued": 0,
        "emailed": 0,
        "email_retry": 0,
        "email_failed": 0,
        "email_failures": [],
    }
    assert Path(world.settings.report.out_dir, "reports", "latest.txt").is_file()


def test_a_failing_report_is_recorded_and_raised(world: World, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    world.settings = scheduler_settings(world.db_url, tmp_path, report={"out_dir": str(blocker)})
    clock = Clock(at("2027-01-17 10:00"))
    Runner(make_jobs(world, clock), Events()).once()
    clock.now = at("2027-01-18 08:00")
    events = Events()
    Runner(make_jobs(world, clock), events).run_report()  # as APScheduler calls it: shown, not raised
    [(job, exc)] = events.failures
    assert job == REPORT_JOB and isinstance(exc, TrackerError)
    [run] = job_runs(world, REPORT_JOB)
    assert run.ok is False and run.error is not None and "not-a-folder" in run.error
    assert reports_made(world) == 0


# --- the wiring ------------------------------------------------------------------------------------


def test_the_scheduler_is_built_calm(world: World) -> None:
    runner = Runner(make_jobs(world, Clock(MONDAY)), Events())
    start = dt.datetime.now(dt.UTC)
    scheduler = runner.build(start, None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"reminders", REPORT_JOB}
    for job in jobs.values():
        # Once per wake however many runs were missed, however late, one at a time.
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    every = jobs["reminders"].trigger
    assert isinstance(every, IntervalTrigger) and every.interval == dt.timedelta(minutes=5)
    assert jobs["reminders"].next_run_time == start  # the catch-up pass runs at once
    cron = jobs[REPORT_JOB].trigger
    assert isinstance(cron, CronTrigger)
    assert str(cron) == "cron[month='*', day='*', day_of_week='mon', hour='8', minute='0']"
    executor = scheduler._lookup_executor("default")  # APScheduler has no public getter
    assert isinstance(executor, ThreadPoolExecutor)
    assert executor._pool._max_workers == 1

    owed = runner.build(start, at("2027-01-18 08:00"))
    catch_up = owed.get_job(CATCH_UP_JOB)
    assert isinstance(catch_up.trigger, DateTrigger) and catch_up.trigger.run_date == start


class GatedChannel(RecordingChannel):
    """Blocks each send until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = threading.Event()
        self.gate = threading.Event()

    @contextmanager
    def open(self) -> Iterator[RecordingSender]:
        with super().open():
            yield self

    def send(self, message: Message) -> None:
        self.sending.set()
        assert self.gate.wait(10)
        self.deliver(message)


def test_jobs_of_one_process_never_overlap(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    clock = Clock(at("2027-01-17 10:00"))
    Runner(make_jobs(world, clock), Events()).once()  # the first pass: the report's reference
    clock.now = at("2027-01-25 08:00")  # the 7-day reminder is due, and so is Monday's report
    channel = GatedChannel()
    jobs = make_jobs(world, clock, channel)
    passing = threading.Thread(target=jobs.reminders)
    reporting = threading.Thread(target=jobs.report)
    passing.start()
    assert channel.sending.wait(10)  # the pass is mid-delivery
    reporting.start()
    reporting.join(0.3)
    assert reporting.is_alive()  # waiting for the pass to finish
    assert job_runs(world, REPORT_JOB) == []
    channel.gate.set()
    passing.join(10)
    reporting.join(10)
    runs = world.runs()
    assert [r.job for r in runs] == ["reminders", "reminders", REPORT_JOB]
    assert len(channel.messages) == 1 and reports_made(world) == 1


def test_a_stopping_runner_starts_no_more_jobs(world: World) -> None:
    world.reviewer("ann")
    world.claim("rates-fall", "ann")
    events = Events()
    runner = Runner(make_jobs(world, Clock(A_WEEK_LATER)), events)
    runner.stopping.set()  # what SIGTERM does
    runner.run_reminders()
    runner.run_report()
    assert events.passes == [] and events.reports == [] and world.runs() == []


def test_concurrent_schedulers_make_one_report_per_slot(world: World) -> None:
    clock = Clock(at("2027-01-17 10:00"))
    Runner(make_jobs(world, clock), Events()).once()
    clock.now = at("2027-01-18 08:00")
    outcomes = race_reports(
        world.db_url,
        lambda sessions, worker: Jobs(sessions, world.settings, RecordingChannel(), clock, worker),
    )
    made = [o for o in outcomes if o is not None and o.report is not None]
    assert len(made) == 1
    assert reports_made(world) == 1
    with world.begin() as session:
        assert session.scalar(select(func.count()).where(JobRun.job == REPORT_JOB)) == 2
