"""Who is acting, and through which interface: set once where a request, command or job begins.

The actor is a context variable rather than an argument of each unit of work because
writes happen in sessions opened in many places (App.begin, App.transaction, the web's
per-request session, the scheduler's jobs, tests), while who acts is a fact about the
command, the request or the job that opened them. Setting it where those begin reaches
every session below without threading it through each service. Each thread (a web
request thread, the scheduler's worker in `tracker up`) and each asyncio task has its
own value, so concurrent requests never see each other's actor.
"""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from tracker.audit.models import Interface
from tracker.clock import Clock, utcnow

SYSTEM = "system"
ANONYMOUS = "anonymous"
SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Actor:
    """Who writes: a reviewer (`reviewer_id` set, or `lookup` to find it by handle) or a named process."""

    interface: Interface
    label: str
    reviewer_id: int | None = None
    # The label is a reviewer's handle whose id is looked up when the entry is written
    # (`tracker resolve --by HANDLE`: the command names the reviewer, not their id).
    lookup: bool = False
    # The time entries are stamped with: the web's and the scheduler's injected clocks.
    clock: Clock = utcnow

    def on_behalf_of(self, handle: str) -> Actor:
        """The same interface and clock, acting as the reviewer `handle`."""
        return dataclasses.replace(self, label=handle, reviewer_id=None, lookup=True)

    def through(self, interface: Interface) -> Actor:
        """The same actor, through another interface (an import run from the command line)."""
        return dataclasses.replace(self, interface=interface)


# Code that declares nothing (a script calling the services, most tests) is the command line's "system".
# (B039 does not see that Actor is frozen.)
_current: ContextVar[Actor] = ContextVar(
    "tracker_audit_actor",
    default=Actor(Interface.CLI, SYSTEM),  # noqa: B039
)


def current() -> Actor:
    """The actor of the code running now."""
    return _current.get()


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Record the writes made inside the block as `actor`'s."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def os_user() -> str:
    """The command line's actor: the operating-system user running it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return SYSTEM
