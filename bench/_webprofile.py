"""Where a page's time goes: cProfile over requests made in one process through Flask's test client.

No server and no concurrency: the same app (bench/_webserver.py's, floor route included)
on the same database, one request after another, so the profile is of the app's own work
(SQL, ORM, templates, forms). `python bench/web.py --profile N` prints it for each kind.
"""

from __future__ import annotations

import cProfile
import importlib
import io
import pstats
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _webload import CSRF, RESOLVED_ON, VERSION, User
from _webserver import make_application

from tracker.app import App

# Where the time is spent, by the file of the function (self time, summed).
AREAS = (
    (
        "SQLite / psycopg (the database driver)",
        re.compile(r"sqlite3|psycopg|\{method 'execute'|\{method 'fetch"),
    ),
    ("SQLAlchemy (ORM and Core)", re.compile(r"sqlalchemy")),
    ("Jinja templates and markupsafe", re.compile(r"jinja2|markupsafe|<template>|templates/")),
    ("WTForms / Flask-WTF", re.compile(r"wtforms|flask_wtf")),
    ("Flask / Werkzeug / itsdangerous", re.compile(r"flask|werkzeug|itsdangerous")),
    ("tracker's own code", re.compile(r"tracker/")),
)


def _area(filename: str) -> str:
    for name, pattern in AREAS:
        if pattern.search(filename):
            return name
    return "other (stdlib, hashlib, ...)"


def profile(url: str, config: Path, user: User, count: int) -> dict[str, dict[str, Any]]:
    """Profile `count` requests of each kind as `user`; per kind, the mean time and the split by area."""
    flask_app = make_application(App(config_file=config, database_url=url))
    client = flask_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page)
    assert token is not None
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1), "login": user.handle, "password": user.password, "next": ""},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 302, response.status_code
    # The latest deadlines (the load, acting as others, resolved none of these): a warm-up, then
    # `count` timed and `count` profiled resolutions.
    open_keys = iter(user.open_keys[-2 * count - 1 :])

    def resolve() -> int:
        key = next(open_keys)
        form = client.get(f"/claims/{key}").get_data(as_text=True)
        fields = {"csrf_token": CSRF, "version": VERSION, "resolved_on": RESOLVED_ON}
        data = {name: found.group(1) for name, p in fields.items() if (found := p.search(form))}
        data |= {"verdict": "true", "evidence": f"https://example.org/e/{key}", "note": "Profiled."}
        return client.post(
            f"/claims/{key}/resolve", data=data, headers={"Origin": "http://localhost"}
        ).status_code

    # By its full name: tracker.web's own `queue` attribute is the views module of that name.
    queue_module = importlib.import_module("tracker.web.queue")

    def shorter_queue(request: Callable[[], int]) -> int:
        limit, queue_module.LIMIT = queue_module.LIMIT, 25
        try:
            return request()
        finally:
            queue_module.LIMIT = limit

    kinds: dict[str, Callable[[int], int]] = {
        "floor": lambda i: client.get(f"/bench/floor/{user.floor_ids[i % len(user.floor_ids)]}").status_code,
        "queue page": lambda i: client.get("/").status_code,
        # What a shorter queue would cost: the same page showing at most 25 claims a group.
        "queue page, 25 a group": lambda i: shorter_queue(lambda: client.get("/").status_code),
        "claim page": lambda i: client.get(f"/claims/{user.keys[i % len(user.keys)]}").status_code,
        "resolve (its form's page and the POST)": lambda i: resolve(),
    }
    found: dict[str, dict[str, Any]] = {}
    for kind, request in kinds.items():
        request(0)  # warm-up
        timed = []
        for i in range(count):  # unprofiled first: the time a request takes in a quiet process
            began = time.perf_counter()
            request(i + 1)
            timed.append(time.perf_counter() - began)
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        statuses = [request(i + 1) for i in range(count)]
        profiler.disable()
        wall = time.perf_counter() - began
        stats = pstats.Stats(profiler, stream=io.StringIO())
        areas: dict[str, float] = {}
        for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
            areas[_area(f"{filename}:{function}")] = areas.get(_area(f"{filename}:{function}"), 0.0) + row[2]
        total = sum(areas.values())
        top = io.StringIO()
        pstats.Stats(profiler, stream=top).sort_stats("cumulative").print_stats(
            r"tracker/|sqlalchemy/orm/session", 12
        )
        found[kind] = {
            "mean_ms": wall / count * 1000,
            "quiet_ms": statistics.median(timed) * 1000,
            "statuses": sorted(set(statuses)),
            "areas": {name: share / total for name, share in sorted(areas.items(), key=lambda a: -a[1])},
            "top": top.getvalue(),
        }
    return found


def print_profile(found: dict[str, dict[str, Any]], count: int) -> None:
    """The table of shares by area, and each kind's top functions by cumulative time."""
    names = [name for name, _ in AREAS] + ["other (stdlib, hashlib, ...)"]
    kinds = list(found)
    print(
        f"\nprofile: {count} requests of each kind, one at a time in one process through the test client "
        "(no server, no other load from this script), then as many under cProfile (whose times are inflated)"
    )
    floor = found[kinds[0]]["quiet_ms"]
    print("\n| | " + " | ".join(kinds) + " |")
    print("|---|" + "---:|" * len(kinds))
    print(
        "| median ms a request, not profiled | "
        + " | ".join(f"{found[k]['quiet_ms']:.1f}" for k in kinds)
        + " |"
    )
    print(
        "| the same, vs the floor | "
        + " | ".join(f"{found[k]['quiet_ms'] / floor:.1f}x" for k in kinds)
        + " |"
    )
    print("| mean ms a request, profiled | " + " | ".join(f"{found[k]['mean_ms']:.1f}" for k in kinds) + " |")
    for name in names:
        print(f"| {name} | " + " | ".join(f"{found[k]['areas'].get(name, 0.0):.0%}" for k in kinds) + " |")
    for kind in kinds:
        print(f"\n--- {kind}: statuses {found[kind]['statuses']}")
        print("\n".join(line for line in found[kind]["top"].splitlines() if line.strip())[-2500:])
