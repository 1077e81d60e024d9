"""Deadline reminders: a pure policy, durable state in tracker's tables, one digest per reviewer.

`run_pass` is the one entry point the CLI (`tracker remind`) and the scheduler call.
"""

from __future__ import annotations

from tracker.reminders.engine import LEASE, FailureNote, PassResult, deliver, run_pass
from tracker.reminders.runs import REMINDERS_JOB, default_worker

__all__ = ["LEASE", "REMINDERS_JOB", "FailureNote", "PassResult", "default_worker", "deliver", "run_pass"]
