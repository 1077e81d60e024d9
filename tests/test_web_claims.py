"""The queue, the claim page, resolving and un-resolving, and conflicts between reviewers."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, select
from support.web import ORIGIN, Scene, _claim, hidden_fields, seed, signed_in, soup, text, tracker_app, web

from tracker import services
from tracker.app import App
from tracker.estimative import EstimativeScale
from tracker.models import Appearance, ClaimTag, Delivery, Reminder, Reviewer, Source
from tracker.services import get_claim

__all__ = ["tracker_app", "web"]


def test_the_queue_groups_the_reviewers_claims(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    page = soup(signed_in(web, scene.assigned).get("/"))
    heading = {s["id"]: s.select_one("h2").get_text(" ", strip=True) for s in page.select("section.group")}
    assert heading["overdue"] == "Overdue (1)"
    assert heading["soon"] == "Due within 7 days (1)"
    assert heading["upcoming"] == "Upcoming (1)"
    assert heading["resolved"].endswith("(1)")
    overdue = page.select_one("#overdue .queue-item")
    assert "3 days overdue" in overdue.get_text()
    assert "in 5 days" in page.select_one("#soon .queue-item").get_text()
    # Bob has nothing assigned; the filters narrow.
    assert "Overdue (0)" in text(signed_in(web, scene.unassigned).get("/"))
    ada = signed_in(web, scene.assigned)
    assert "Upcoming (0)" in text(ada.get("/?kind=fact"))
    assert "Overdue (0)" in text(ada.get("/?source=nobody"))


def test_only_an_admin_sees_another_queue(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    assert signed_in(web, scene.unassigned).get(f"/?reviewer={scene.assigned}").status_code == 403
    boss = signed_in(web, scene.admin)
    assert "Overdue (1)" in text(boss.get(f"/?reviewer={scene.assigned}"))
    assert "Overdue (1)" in text(boss.get("/?reviewer=*"))
    assert "Overdue (0)" in text(boss.get("/"))
    assert boss.get("/?reviewer=nobody").status_code == 404


def test_the_claim_page_shows_the_claim_and_its_histories(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.unassigned)
    page = soup(client.get(f"/claims/{scene.resolved}"))
    assert page.select_one("h1").get_text() == f"The claim {scene.resolved} will come true."
    history = page.select_one("#verdicts-heading").find_parent("section").get_text(" ")
    assert "mostly-true" in history and "https://example.org/gdp" in history and "ada" in history
    assert page.select_one(f"a[href='/scorecards/sources/daily.html#claim-{scene.resolved}']") is not None
    assert page.select_one("#resolve") is None  # Bob is not assigned
    assert client.get("/claims/no-such-claim").status_code == 404


def test_resolve_with_evidence_then_unresolve(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"
    hidden = hidden_fields(client, path, "#resolve form")
    response = client.post(
        f"{path}/resolve",
        data={**hidden, "verdict": "true", "evidence": "https://example.org/a\n", "note": "It fell."},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with tracker_app.begin() as session:
        claim = get_claim(session, scene.overdue)
        assert claim.verdict == "true" and claim.resolutions[-1].evidence == ["https://example.org/a"]
        assert claim.resolutions[-1].resolved_on == now.date()
    hidden = hidden_fields(client, path, "#unresolve form")
    response = client.post(
        f"{path}/unresolve", data={**hidden, "reason": "Wrong article."}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 302
    with tracker_app.begin() as session:
        assert get_claim(session, scene.overdue).verdict is None


def test_bad_input_is_refused_beside_the_form_and_kept(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"
    hidden = hidden_fields(client, path, "#resolve form")
    for evidence, verdict, day, expected in (
        ("", "true", "", "needs evidence"),
        ("javascript:alert(1)", "true", "", "not an absolute http(s) URL"),
        ("https://example.org", "true", (now.date() + dt.timedelta(days=2)).isoformat(), "in the future"),
        ("https://example.org", "true", "2020-01-01", "before made_on"),
        ("https://example.org", "mostly-true", "", "Not a valid choice"),
    ):
        data = {
            **hidden,
            "verdict": verdict,
            "evidence": evidence,
            "note": "my careful note",
            "resolved_on": day,
        }
        response = client.post(f"{path}/resolve", data=data, headers={"Origin": ORIGIN})
        assert response.status_code == 400, expected
        page = soup(response)
        assert expected in page.select_one("div.problem").get_text(), page.select_one("div.problem")
        assert page.select_one("#note").get_text() == "my careful note"
    with tracker_app.begin() as session:
        assert get_claim(session, scene.overdue).verdict is None


def test_a_stale_form_is_refused_shows_what_changed_and_keeps_the_text(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    ada, boss = signed_in(web, scene.assigned), signed_in(web, scene.admin)
    path = f"/claims/{scene.overdue}"
    stale = hidden_fields(ada, path, "#resolve form")
    fresh = hidden_fields(boss, path, "#resolve form")
    first = boss.post(
        f"{path}/resolve",
        data={**fresh, "verdict": "false", "evidence": "https://example.org/b", "note": "Boss says no."},
        headers={"Origin": ORIGIN},
    )
    assert first.status_code == 302
    second = ada.post(
        f"{path}/resolve",
        data={**stale, "verdict": "true", "evidence": "https://example.org/mine", "note": "My typed note."},
        headers={"Origin": ORIGIN},
    )
    assert second.status_code == 409
    page = soup(second)
    conflict = page.select_one("section.conflict").get_text(" ")
    assert "boss recorded false" in " ".join(conflict.split()) and "Boss says no." in conflict
    assert page.select_one("#note").get_text() == "My typed note."
    assert page.select_one("#evidence").get_text() == "https://example.org/mine"
    assert page.select_one("#verdict-true").has_attr("checked")
    with tracker_app.begin() as session:
        claim = get_claim(session, scene.overdue)
        assert [r.verdict for r in claim.resolutions] == ["false"]
    # Sent again from the conflict page (it carries the new version), it is recorded.
    again = {str(i["name"]): str(i.get("value", "")) for i in page.select("#resolve form input[type=hidden]")}
    response = ada.post(
        f"{path}/resolve",
        data={**again, "verdict": "true", "evidence": "https://example.org/mine", "note": "My typed note."},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 302


def test_a_reviewer_cannot_resolve_a_claim_not_assigned_to_them(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    ada, bob = signed_in(web, scene.assigned), signed_in(web, scene.unassigned)
    hidden = hidden_fields(ada, f"/claims/{scene.overdue}", "#resolve form")
    hidden["csrf_token"] = hidden_fields(bob, "/", "nav form")["csrf_token"]
    response = bob.post(
        f"/claims/{scene.overdue}/resolve",
        data={**hidden, "verdict": "true", "evidence": "https://example.org"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 403
    assert "Not allowed" in soup(response).select_one("h1").get_text()


def test_the_claim_page_says_whether_the_public_scorecard_has_caught_up(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    from pathlib import Path

    from tracker.scorecards.build import build_site

    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"
    assert "has not been built yet" in soup(client.get(path)).select_one(".public-state").get_text()
    with tracker_app.begin() as session:
        build_site(
            session, Path(tracker_app.settings.report.out_dir), settings=tracker_app.settings, now=now, jobs=1
        )
    assert "up to date" in soup(client.get(path)).select_one(".public-state").get_text()
    hidden = hidden_fields(client, path, "#resolve form")
    client.post(
        f"{path}/resolve",
        data={**hidden, "verdict": "true", "evidence": "https://example.org/a"},
        headers={"Origin": ORIGIN},
    )
    # This app was made without the background rebuild: the page stays behind, and says so.
    assert (
        "not yet showing the latest change" in soup(client.get(path)).select_one(".public-state").get_text()
    )


def test_an_admin_assigns_and_unassigns_from_the_claim_page(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    boss = signed_in(web, scene.admin)
    path = f"/claims/{scene.upcoming}"
    hidden = hidden_fields(boss, path, "#assign form")
    response = boss.post(
        f"{path}/assign",
        data={**hidden, "handle": scene.unassigned, "action": "assign"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 302
    assert "bob is assigned." in text(boss.get(path))
    queue = soup(signed_in(web, scene.unassigned).get("/"))
    assert queue.select_one("#upcoming h2").get_text(" ", strip=True) == "Upcoming (1)"
    assert queue.select_one("#overdue h2").get_text(" ", strip=True) == "Overdue (0)"
    hidden = hidden_fields(boss, path, "#assign form")
    boss.post(
        f"{path}/assign",
        data={**hidden, "handle": scene.unassigned, "action": "unassign"},
        headers={"Origin": ORIGIN},
    )
    with tracker_app.begin() as session:
        assert [r.handle for r in get_claim(session, scene.upcoming).reviewers] == [scene.assigned]
    assert signed_in(web, scene.assigned).get(path).status_code == 200
    assert _maybehidden_fields(signed_in(web, scene.assigned), path, "#assign form") is None


def _maybehidden_fields(client, path: str, selector: str):  # type: ignore[no-untyped-def]
    return soup(client.get(path)).select_one(selector)


def test_the_claim_page_sees_a_rebuilt_site_after_reading_the_old_one(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    """The manifest's revisions are kept between requests: a new build must still be seen."""
    from pathlib import Path

    from tracker.scorecards.build import build_site

    def build() -> None:
        with tracker_app.begin() as session:
            build_site(session, out, settings=tracker_app.settings, now=now, jobs=1)

    out = Path(tracker_app.settings.report.out_dir)
    scene = seed(tracker_app, now)
    client = signed_in(web, scene.assigned)
    path = f"/claims/{scene.overdue}"

    def state() -> str:
        return str(soup(client.get(path)).select_one(".public-state").get_text())

    build()
    assert "up to date" in state()
    hidden = hidden_fields(client, path, "#resolve form")
    client.post(
        f"{path}/resolve",
        data={**hidden, "verdict": "true", "evidence": "https://example.org/a"},
        headers={"Origin": ORIGIN},
    )
    assert "not yet showing the latest change" in state()
    build()  # a new manifest replaces the one read above
    assert "up to date" in state()


def test_an_open_promise_offers_its_meter_and_progress_each_explained(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    with tracker_app.begin() as session:
        services.add_claim(
            session,
            key="no-freeze",
            kind="promise",
            source_slug=scene.source,
            statement="We will not accept a freeze-for-freeze agreement.",
            quote="We would not accept a so-called freeze-for-freeze agreement.",
            made_on=now.date() - dt.timedelta(days=30),
            criteria="BROKEN if drills stop for a test freeze; KEPT otherwise.",
            deadline=now.date() + dt.timedelta(days=30),
            reviewer_handles=[scene.assigned],
            scale=EstimativeScale(),
            now=now,
        )
    client = signed_in(web, scene.assigned)
    path = "/claims/no-freeze"
    page = soup(client.get(path))
    helps = {
        str(i["value"]): page.select_one(f"#{i['aria-describedby']}").get_text(" ", strip=True)
        for i in page.select("#resolve input[name=verdict]")
    }
    assert list(helps) == ["kept", "compromise", "broken", "in-the-works", "stalled"]
    assert all(
        text.endswith("Needs evidence.") and len(text) > len("Needs evidence.") for text in helps.values()
    )
    assert helps["stalled"].startswith("Progress, not a verdict")
    hidden = hidden_fields(client, path, "#resolve form")
    response = client.post(
        f"{path}/resolve",
        data={**hidden, "verdict": "in-the-works", "evidence": "https://example.org/talks", "note": "Talks."},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with tracker_app.begin() as session:
        claim = get_claim(session, "no-freeze")
        assert (claim.verdict, claim.status, claim.progress) == (None, "open", "in-the-works")
    assert (
        "in-the-works"
        in soup(client.get(path)).select_one("#verdicts-heading").find_parent("section").get_text()
    )
    hidden = hidden_fields(client, path, "#resolve form")
    response = client.post(
        f"{path}/resolve",
        data={**hidden, "verdict": "broken", "evidence": "https://example.org/drills"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with tracker_app.begin() as session:
        assert get_claim(session, "no-freeze").verdict == "broken"
    # Resolved, it is no longer offered progress (the form returns only after a re-open).
    assert soup(client.get(path)).select_one("#resolve") is None


def test_a_long_group_shows_its_first_entries_and_counts_them_all(
    web: Flask, tracker_app: App, now: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The module, not the view of the same name that tracker.web exposes.
    queue = importlib.import_module("tracker.web.queue")
    scene = seed(tracker_app, now)
    with tracker_app.begin() as session:
        source = session.scalars(select(Source).where(Source.slug == scene.source)).one()
        for n in (4, 5):
            _claim(session, source, [], f"late-{n}", deadline=now.date() - dt.timedelta(days=n))
    monkeypatch.setattr(queue, "LIMIT", 2)
    page = soup(signed_in(web, scene.admin).get("/?reviewer=*"))
    overdue = page.select_one("#overdue")
    assert overdue.select_one("h2").get_text(" ", strip=True) == "Overdue (3)"
    assert [a.get_text(strip=True) for a in overdue.select(".queue-item a")][:2] == [
        "The claim late-5 will come true.",
        "The claim late-4 will come true.",
    ]
    assert len(overdue.select(".queue-item")) == 2
    assert page.select_one("#soon h2").get_text(" ", strip=True) == f"Due within {queue.SOON_DAYS} days (1)"


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile, transaction control (BEGIN, SAVEPOINT) left out."""
    seen: list[str] = []

    def count(_conn, _cursor, statement: str, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", count)


def _long_history(app: App, scene: Scene, now: dt.datetime) -> None:
    """Give the overdue claim a second reviewer, tags, an article, criteria revised by three people,
    four verdicts and re-openings by three, and reminders to three with their deliveries (it stays open)."""
    with app.begin() as session:
        people = {r.handle: r for r in session.scalars(select(Reviewer))}
        claim = get_claim(session, scene.overdue)
        claim.reviewers.append(people[scene.unassigned])
        claim.tags = [ClaimTag(tag="economy"), ClaimTag(tag="rates")]
        claim.appearance = Appearance(url="https://example.org/article", title="Rates")
        for n, handle in enumerate((scene.admin, scene.editor, scene.assigned), start=2):
            deadline = claim.deadline + dt.timedelta(days=n)
            services.revise_criteria(
                session,
                claim,
                f"Revision {n}.",
                deadline,
                None,
                None,
                now,
                reason="Sharper.",
                by=people[handle],
            )
        for handle, verdict in ((scene.assigned, "true"), (scene.unassigned, "false")):
            services.resolve(session, claim.key, verdict, ["https://example.org/e"], None, handle, None, now)
            services.unresolve(session, claim.key, scene.admin, "Too early.", now)
        for n, handle in enumerate((scene.assigned, scene.unassigned, scene.admin)):
            delivery = Delivery(
                reviewer=people[handle],
                channel="email",
                message_id=f"<{n}@example.org>",
                subject="Due",
                next_attempt_at=now,
            )
            session.add(
                Reminder(
                    claim=claim,
                    reviewer=people[handle],
                    kind=f"overdue-{n}",
                    deadline=claim.deadline,
                    due_at=now,
                    delivery=delivery,
                )
            )


# The statements of a claim page, whatever the claim's history: the viewer; the claim with its
# source and article; its tags, reviewers, criteria (with who revised them), verdicts (with who
# gave them); its reminders (with their reviewers and deliveries).
CLAIM_PAGE_STATEMENTS = 7
# The resolve POST: the same reads (the claim locked once), the reviewer, then the writes: the
# source's revision, two audit entries (claim and verdict: one INSERT on PostgreSQL, two on
# SQLite), the claim and the verdict.
RESOLVE_STATEMENTS = 12


def test_the_claim_page_and_its_resolve_take_as_many_statements_whatever_the_history(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    _long_history(tracker_app, scene, now)
    client = signed_in(web, scene.assigned)
    counts: dict[str, dict[str, int]] = {}
    for key in (scene.overdue, scene.soon):  # a long history, and a claim with none
        with statements(tracker_app) as page_statements:
            hidden = hidden_fields(client, f"/claims/{key}", "#resolve form")
        data = {**hidden, "verdict": "true", "evidence": "https://example.org/a", "note": ""}
        with statements(tracker_app) as resolve_statements:
            response = client.post(f"/claims/{key}/resolve", data=data, headers={"Origin": ORIGIN})
        assert response.status_code == 302, response.get_data(as_text=True)
        counts[key] = {"page": len(page_statements), "resolve": len(resolve_statements)}
    # The long history is on the page (so it was read), in no more statements than none.
    page = text(client.get(f"/claims/{scene.overdue}"))
    assert "Revision 4." in page and "overdue-2" in page and "<2@example.org>" not in page
    assert counts[scene.overdue] == counts[scene.soon], counts
    assert counts[scene.overdue]["page"] <= CLAIM_PAGE_STATEMENTS, counts
    assert counts[scene.overdue]["resolve"] <= RESOLVE_STATEMENTS, counts
