"""The web benchmark's load generator: logged-in keep-alive connections, one thread each.

`run_load` runs in a process of its own (bench/web.py starts it), so that the load does
not share a GIL with the servers. Each virtual user signs in for real (GET /login for the
CSRF token, POST /login), keeps one HTTP/1.1 connection and its session cookie, and runs
the phases in turn on that same connection, so that every phase meets the same spread of
connections over the server processes. A phase is a step function run in a loop until its
deadline; every request has a timeout and is timed on its own.

Phases: "floor" (the floor route), "pages" (the queue and a claim page, alternately),
"resolve" (a claim page for its form, then the resolve POST). A later comparison (e.g. the
audit log on and off) runs `run_load` again against servers started with other settings.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

PHASES = ("floor", "pages", "resolve")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="([^"]*)"')
RESOLVED_ON = re.compile(r'name="resolved_on"[^>]*value="([^"]+)"')


@dataclass
class User:
    """A reviewer the load signs in as, the claims its requests name, and its session cookie."""

    handle: str
    password: str
    floor_ids: list[int]  # claim ids for the floor route
    keys: list[str]  # claim keys for the claim pages (theirs, any status)
    open_keys: list[str]  # their open predictions, each resolved at most once
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Seat:
    """One connection and the reviewers it acts as, in turn: the next when one has nothing left to resolve."""

    client: Client
    users: list[User]
    current: int = 0

    @property
    def user(self) -> User:
        return self.users[self.current]


@dataclass
class Tally:
    """The requests of one kind in one phase: every latency (failures included) and what failed."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"latencies": self.latencies, "failures": dict(self.failures)}


class Failed(Exception):
    """A response that is not the one the step expects."""


class Exhausted(Exception):
    """The user has no open claim left to resolve: it stops for the rest of the phase."""


class Client:
    """One keep-alive connection with its cookies, as one browser tab."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.origin = f"http://{host}:{port}"
        self.cookies: dict[str, str] = {}  # the signed-in reviewer's (Seat points it at theirs)
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Status, Location and body; a broken connection is dropped (the next request reconnects)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin  # as a browser sends it with a form
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if response.will_close:
            self.conn.close()
            self.conn = None
        return response.status, response.getheader("Location", ""), text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


Record = Callable[[str, Callable[[], None]], None]


def _expect(status: int, wanted: int) -> None:
    if status != wanted:
        raise Failed(f"HTTP {status}")


def _form_field(pattern: re.Pattern[str], page: str, name: str) -> str:
    found = pattern.search(page)
    if found is None:
        raise Failed(f"no {name} on the page")
    return html.unescape(found.group(1))


def sign_in(client: Client, user: User) -> None:
    """GET /login for the CSRF token, POST the handle and password; the user keeps the session cookie."""
    client.cookies = user.cookies
    status, _, page = client.request("GET", "/login")
    _expect(status, 200)
    form = {"csrf_token": _form_field(CSRF, page, "CSRF token"), "login": user.handle}
    status, location, _ = client.request("POST", "/login", {**form, "password": user.password, "next": ""})
    if status != 302 or location.rstrip("/").endswith("/login"):
        raise Failed(f"sign-in of {user.handle} failed: HTTP {status} to {location!r}")


def floor_step(seat: Seat, i: int, record: Record) -> None:
    claim_id = seat.user.floor_ids[i % len(seat.user.floor_ids)]
    record("floor", lambda: _expect(seat.client.request("GET", f"/bench/floor/{claim_id}")[0], 200))


def pages_step(seat: Seat, i: int, record: Record) -> None:
    if i % 2 == 0:
        record("queue page", lambda: _expect(seat.client.request("GET", "/")[0], 200))
    else:
        key = seat.user.keys[(i // 2) % len(seat.user.keys)]
        record("claim page", lambda: _expect(seat.client.request("GET", f"/claims/{key}")[0], 200))


def resolve_step(seat: Seat, i: int, record: Record) -> None:
    while not seat.user.open_keys:  # the next reviewer of this connection (signed in beforehand)
        if seat.current + 1 == len(seat.users):
            raise Exhausted
        seat.current += 1
        seat.client.cookies = seat.user.cookies
    key = seat.user.open_keys.pop(0)
    client = seat.client
    page: list[str] = []

    def load_form() -> None:
        status, _, text = client.request("GET", f"/claims/{key}")
        _expect(status, 200)
        page.append(text)

    def post() -> None:
        if not page:
            raise Failed("no form (its page failed)")
        form = {
            "csrf_token": _form_field(CSRF, page[0], "CSRF token"),
            "version": _form_field(VERSION, page[0], "version"),
            "resolved_on": _form_field(RESOLVED_ON, page[0], "outcome date"),
            "verdict": "true",
            "evidence": f"https://example.org/evidence/{key}",
            "note": "Resolved by the web benchmark.",
        }
        status, location, _ = client.request("POST", f"/claims/{key}/resolve", form)
        if status != 302 or not location.endswith(f"/claims/{key}"):
            raise Failed(f"HTTP {status}")  # 409 (conflict) and 400 (refused) are failures here

    record("claim page (its form)", load_form)
    record("resolve POST", post)


STEPS = {"floor": floor_step, "pages": pages_step, "resolve": resolve_step}


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, Failed) else type(exc).__name__


class Memory:
    """The servers' peak resident memory over a stretch of time: VmHWM, reset through clear_refs."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    def reset(self) -> None:
        for pid in self.pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak to the current RSS

    def peaks_mb(self) -> list[float]:
        peaks = []
        for pid in self.pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks


def run_phase(seats: list[Seat], phase: str, seconds: float, memory: Memory) -> dict[str, Any]:
    """Every seat's step in a loop for `seconds` (after one untimed warm-up step): tallies by request kind."""
    step = STEPS[phase]
    tallies: dict[str, Tally] = {}
    lock = threading.Lock()
    began = deadline = 0.0

    def start() -> None:  # run once, before any thread passes the gate
        nonlocal began, deadline
        began = time.perf_counter()
        deadline = began + seconds

    start_gate = threading.Barrier(len(seats) + 1, action=start)
    memory.reset()

    def worker(seat: Seat) -> None:
        timed = False

        def record(kind: str, request: Callable[[], None]) -> None:
            began = time.perf_counter()
            try:
                request()
                failure = None
            except Exception as exc:
                failure = _describe(exc)
            took = time.perf_counter() - began
            if timed:
                with lock:
                    tally = tallies.setdefault(kind, Tally())
                    tally.latencies.append(took)
                    if failure is not None:
                        tally.failures[failure] += 1

        with contextlib.suppress(Exhausted):
            step(seat, 0, record)  # warm-up: templates compiled, caches filled
        start_gate.wait()
        timed = True
        i = 1
        while time.perf_counter() < deadline:
            try:
                step(seat, i, record)
            except Exhausted:
                break
            i += 1

    threads = [threading.Thread(target=worker, args=(seat,), daemon=True) for seat in seats]
    for thread in threads:
        thread.start()
    start_gate.wait(timeout=120)
    for thread in threads:
        # A step is at most two requests, each bounded by the client's timeout.
        thread.join(timeout=max(0.0, deadline + 2 * seats[0].client.timeout + 5 - time.perf_counter()))
    wall = time.perf_counter() - began
    return {
        "wall": wall,
        "hung": sum(thread.is_alive() for thread in threads),
        "left": [sum(len(u.open_keys) for u in seat.users[seat.current :]) for seat in seats],
        "peak_mb": memory.peaks_mb(),
        "kinds": {kind: tally.as_dict() for kind, tally in tallies.items()},
    }


def run_load(
    host: str,
    ports: list[int],
    seats: list[list[User]],
    phases: list[str],
    seconds: float,
    timeout: float,
    server_pids: list[int],
) -> dict[str, Any]:
    """Sign every seat's reviewers in, then run `phases` in turn on the same connections.

    `seats` holds, for each connection, the reviewers it acts as (in turn, in the resolve
    phase). They sign in first, the connections at once and each one's reviewers in turn,
    as reviewers arriving together would: the password checks' memory is measured there,
    and no timed phase pays for one.
    """
    memory = Memory(server_pids)
    memory.reset()
    # Connection k goes to server k mod N: an even spread over the server processes.
    clients = [Seat(Client(host, ports[k % len(ports)], timeout), users) for k, users in enumerate(seats)]
    failures: list[str] = []
    missed: list[tuple[Seat, User]] = []

    def sign_in_all(seat: Seat) -> None:
        for user in seat.users:
            try:
                sign_in(seat.client, user)
            except Exception as exc:
                failures.append(f"{user.handle}: {_describe(exc)}")
                missed.append((seat, user))

    began = time.perf_counter()
    threads = [threading.Thread(target=sign_in_all, args=(seat,)) for seat in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    # A sign-in that failed in the rush is tried again alone, so the phases still run with
    # every reviewer; the first failures stay in the result (they are failed requests).
    still_failing = []
    for seat, user in missed:
        try:
            sign_in(seat.client, user)
        except Exception as exc:
            still_failing.append(f"{user.handle}: {_describe(exc)}")
    for seat in clients:
        seat.client.cookies = seat.user.cookies
    signed_in = sum(len(seat.users) for seat in clients) - len(still_failing)
    result: dict[str, Any] = {
        "sign_in": {
            "seconds": took,
            "count": signed_in,
            "failures": failures,
            "failed_again": still_failing,
            "peak_mb": memory.peaks_mb(),
        },
        "phases": {},
    }
    for phase in phases:
        result["phases"][phase] = run_phase(clients, phase, seconds, memory)
    for seat in clients:
        seat.client.close()
    return result
