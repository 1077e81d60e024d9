"""Recording claims in the browser: the add form, the edit form and the scale's JSON, through Flask."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support.web import ORIGIN, Scene, csrf, seed, signed_in, soup, text, tracker_app, web

from tracker import services
from tracker.app import App
from tracker.models import Appearance, Claim, ClaimKind

__all__ = ["tracker_app", "web"]

NEW = "/new-claim"


def claim_fields(scene: Scene, **changes: Any) -> dict[str, Any]:
    """A prediction the add form takes as it is, with `changes`."""
    fields: dict[str, Any] = {
        "kind": "prediction",
        "key": "rain-in-march",
        "source": scene.source,
        "statement": "It rains in Seoul on 1 March 2027.",
        "quote": "It will very likely rain on the first of March.",
        "made_on": "2026-11-20",
        "confidence": "very likely",
        "criteria": "The KMA reports rain in Seoul on 2027-03-01.",
        "deadline": "2027-03-01",
        "timezone": "Asia/Seoul",
        "url": "https://example.org/weather",
        "title": "Spring outlook",
        "tags": "weather, korea",
        "reviewers": [scene.assigned, scene.unassigned],
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def send(client: FlaskClient, path: str, fields: dict[str, Any]) -> Any:
    return client.post(path, data={"csrf_token": csrf(client, path), **fields}, headers={"Origin": ORIGIN})


def count(app: App, model: Any) -> int:
    with app.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_add_form_offers_every_kind_and_every_source_and_reviewer(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    page = soup(signed_in(web, scene.editor).get(NEW))
    assert [i["value"] for i in page.select("input[name=kind]")] == [k.value for k in ClaimKind]
    assert [o["value"] for o in page.select("#source option") if o["value"]] == [scene.source]
    handles = {i["value"] for i in page.select("input[name=reviewers]")}
    assert {scene.assigned, scene.unassigned, scene.admin, scene.editor} <= handles
    # Only the kinds that are scored are asked how likely; the script hides the group for the rest.
    assert page.select_one("fieldset.likelihood")["data-kinds"] == "prediction"
    assert page.select_one("#made_on")["value"] == now.date().isoformat()
    assert (page.select_one("#probability")["inputmode"], page.select_one("#url")["type"]) == (
        "decimal",
        "url",
    )
    assert page.select_one("script[src='/static/claimform.js']") is not None


def test_one_mistake_is_shown_beside_its_field_with_everything_typed_kept_and_nothing_saved(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    before = count(tracker_app, Claim)

    response = send(eve, NEW, claim_fields(scene, deadline="2026-11-01"))

    assert response.status_code == 400
    page = soup(response)
    beside = page.select_one("#deadline-problem")
    assert beside is not None and "2026-11-01 is before made_on 2026-11-20" in beside.get_text()
    deadline = page.select_one("input#deadline")
    assert deadline["aria-invalid"] == "true" and "deadline-problem" in deadline["aria-describedby"]
    assert [p["id"] for p in page.select(".field-problem")] == ["deadline-problem"]
    assert page.select_one("#statement").get_text() == "It rains in Seoul on 1 March 2027."
    assert page.select_one("#key")["value"] == "rain-in-march"
    assert page.select_one("#timezone")["value"] == "Asia/Seoul"
    assert {i["value"] for i in page.select("input[name=reviewers][checked]")} == {
        scene.assigned,
        scene.unassigned,
    }
    assert page.select_one("#source option[selected]")["value"] == scene.source
    assert "scored as 88%" in page.select_one("#confidence-reading").get_text()
    assert count(tracker_app, Claim) == before

    saved = send(eve, NEW, claim_fields(scene))
    assert saved.status_code == 302 and saved.headers["Location"] == "/claims/rain-in-march"
    page_text = text(eve.get("/claims/rain-in-march"))
    assert "Recorded rain-in-march" in page_text and "The KMA reports rain" in page_text
    with tracker_app.begin() as session:
        claim = services.get_claim(session, "rain-in-march")
        assert (claim.probability, claim.confidence, claim.timezone) == (0.875, "very likely", "Asia/Seoul")
        assert [r.handle for r in claim.reviewers] == [scene.assigned, scene.unassigned]
        assert claim.tag_names == ["korea", "weather"]
        assert claim.appearance is not None and claim.appearance.title == "Spring outlook"
        assert [v.version for v in claim.criteria_versions] == [1]


def test_every_problem_at_once_each_beside_its_field(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    response = send(
        signed_in(web, scene.editor),
        NEW,
        claim_fields(
            scene,
            key="Bad Id",
            source="",
            statement=" ",
            confidence="probably maybe",
            made_on="20/11/2026",
            timezone="Mars/Base",
            url="javascript:alert(1)",
            tags="Not_A_Tag",
            reviewers=["nobody"],
        ),
    )
    assert response.status_code == 400
    page = soup(response)
    beside = {p["id"].removesuffix("-problem") for p in page.select(".field-problem")}
    assert beside == {
        "key",
        "source",
        "statement",
        "confidence",
        "made_on",
        "timezone",
        "url",
        "tags",
        "reviewers",
    }
    # The date that did not parse says so, rather than that it is missing.
    assert "required" not in page.select_one("#made_on-problem").get_text()
    # The summary reads down the form, and its links lead to the fields.
    summary_links = [a["href"] for a in page.select(".problem-summary a")]
    assert summary_links == [
        "#key",
        "#source",
        "#statement",
        "#made_on",
        "#confidence",  # not on the scale, and not in the quote
        "#confidence",
        "#timezone",
        "#url",
        "#tags",
        "#reviewers-" + scene.assigned,
    ]


def test_the_source_words_must_be_in_the_quote_and_a_number_needs_its_basis(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    page = soup(send(eve, NEW, claim_fields(scene, confidence="almost certainly")))
    assert "does not occur in the quote" in page.select_one("#confidence-problem").get_text()
    page = soup(send(eve, NEW, claim_fields(scene, confidence="", probability="0.8")))
    assert "probability_basis" in page.select_one("#probability_basis-problem").get_text()
    page = soup(send(eve, NEW, claim_fields(scene, confidence="", probability="eighty")))
    assert "not a number" in page.select_one("#probability-problem").get_text()
    saved = send(
        eve, NEW, claim_fields(scene, confidence="", probability="80%", probability_basis="Their chart.")
    )
    assert saved.status_code == 302
    with tracker_app.begin() as session:
        claim = services.get_claim(session, "rain-in-march")
        assert (claim.probability, claim.probability_basis) == (0.8, "Their chart.")


def test_a_hedge_is_read_as_unscored_and_check_saves_nothing(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    fields = claim_fields(scene, confidence="may", quote="It may rain on the first of March.", action="check")
    response = send(eve, NEW, fields)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#confidence-reading").get_text() == "'may' is a hedge: it will not be scored"
    assert "No problems found" in page.select_one("p.ok").get_text()
    assert count(tracker_app, Claim) == 4


def test_a_fact_ignores_the_prediction_fields_and_an_unstated_prediction_is_recorded_unscored(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    fact = claim_fields(scene, kind="fact", key="it-rained", as_of="2026-11-21")  # criteria etc. still typed
    assert send(eve, NEW, fact).status_code == 302
    unstated = claim_fields(scene, key="no-words", confidence="", unstated="y", url=None)
    assert send(eve, NEW, unstated).status_code == 302
    with tracker_app.begin() as session:
        recorded = services.get_claim(session, "it-rained")
        assert (recorded.kind, recorded.criteria, recorded.deadline, recorded.confidence, recorded.as_of) == (
            "fact",
            None,
            None,
            None,
            dt.date(2026, 11, 21),
        )
        silent = services.get_claim(session, "no-words")
        assert (silent.probability, silent.confidence, silent.scored) == (None, None, False)


def test_an_article_the_database_knows_is_reused(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    assert send(eve, NEW, claim_fields(scene)).status_code == 302
    again = claim_fields(scene, key="second", title="Another title")
    assert send(eve, NEW, again).status_code == 302
    assert count(tracker_app, Appearance) == 1
    with tracker_app.begin() as session:
        assert session.scalars(select(Appearance.title)).one() == "Spring outlook"


def test_the_scale_json_reads_words_for_anyone_signed_in_and_records_nothing(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    ada = signed_in(web, scene.assigned)
    likely = ada.get("/scale.json?words=likely").get_json()
    assert likely == {
        "words": "likely",
        "scored": True,
        "known": True,
        "probability": 0.675,
        "text": "'likely' \u2192 likely, 55%\u201380%, scored as 68%",
    }
    assert ada.get("/scale.json?words=may").get_json()["scored"] is False
    unknown = ada.get("/scale.json?words=probablee").get_json()
    assert unknown["known"] is False and "did you mean 'probable'" in unknown["text"]
    assert web.test_client().get("/scale.json?words=likely").status_code == 302


def edit_form(client: FlaskClient, key: str) -> dict[str, Any]:
    """The edit form's fields as loaded (what a browser would send back unchanged)."""
    page = soup(client.get(f"/claims/{key}/edit"))
    form = page.select_one("form.claim-form")
    assert form is not None
    fields: dict[str, Any] = {}
    for field in form.select("input, textarea"):
        name = field.get("name")
        if not name or name == "csrf_token" or field.get("type") == "checkbox":
            continue
        fields[str(name)] = field.get_text() if field.name == "textarea" else field.get("value", "")
    fields["reviewers"] = [str(i["value"]) for i in form.select("input[name=reviewers][checked]")]
    return fields


def test_a_new_deadline_needs_a_reason_and_then_shows_as_a_diff_with_who_and_when(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    key = scene.upcoming
    fields = edit_form(eve, key)
    old_deadline = dt.date.fromisoformat(fields["deadline"])
    fields.update(
        deadline="2027-03-31", criteria=fields["criteria"].replace("by the deadline", "by the end of March")
    )

    refused = send(eve, f"/claims/{key}/edit", fields)
    assert refused.status_code == 400
    page = soup(refused)
    assert "reason" in page.select_one("#reason-problem").get_text()
    assert page.select_one("#deadline")["value"] == "2027-03-31"

    saved = send(eve, f"/claims/{key}/edit", {**fields, "reason": "The source <b>moved</b> it."})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/claims/{key}"
    page = soup(eve.get(f"/claims/{key}"))
    change = page.select_one(".criteria-change")
    assert change is not None
    meta = change.select_one(".change-meta").get_text()
    assert "by Eve on" in meta and "23 Nov 2026" in meta and "The source <b>moved</b> it." in meta
    assert [d.get_text() for d in change.select("del")] == [
        "[removed] deadline.",
        f"[removed] {old_deadline.day} {old_deadline:%b %Y}",
    ]
    assert [i.get_text() for i in change.select("ins")] == ["[added] end of March.", "[added] 31 Mar 2027"]
    with tracker_app.begin() as session:
        claim = services.get_claim(session, key)
        latest = claim.criteria_versions[-1]
        assert (latest.version, latest.reason, latest.recorded_by.handle if latest.recorded_by else None) == (
            2,
            "The source <b>moved</b> it.",
            scene.editor,
        )


def test_words_tags_and_reviewers_change_in_place_without_a_reason(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    fields = edit_form(eve, scene.soon)
    fields.update(statement="It snows within the week.", tags="weather", reviewers=[scene.unassigned])
    assert send(eve, f"/claims/{scene.soon}/edit", fields).status_code == 302
    with tracker_app.begin() as session:
        claim = services.get_claim(session, scene.soon)
        assert (claim.statement, claim.tag_names, [r.handle for r in claim.reviewers]) == (
            "It snows within the week.",
            ["weather"],
            [scene.unassigned],
        )
        assert len(claim.criteria_versions) == 1
    unchanged = send(eve, f"/claims/{scene.soon}/edit", edit_form(eve, scene.soon))
    assert unchanged.status_code == 302 and "Nothing changed" in text(eve.get(f"/claims/{scene.soon}"))


def test_an_edit_of_a_claim_changed_meanwhile_is_refused_with_the_typed_text_kept(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve, boss = signed_in(web, scene.editor), signed_in(web, scene.admin)
    mine = edit_form(eve, scene.upcoming)
    theirs = edit_form(boss, scene.upcoming)
    theirs["tags"] = "elections"
    assert send(boss, f"/claims/{scene.upcoming}/edit", theirs).status_code == 302

    mine["statement"] = "My better statement."
    refused = send(eve, f"/claims/{scene.upcoming}/edit", mine)

    assert refused.status_code == 409
    page = soup(refused)
    assert "changed while you had it open" in page.select_one(".conflict").get_text()
    assert page.select_one("#statement").get_text() == "My better statement."
    with tracker_app.begin() as session:
        assert services.get_claim(session, scene.upcoming).statement != "My better statement."
    # Sent again with the new version token, it goes through.
    again = {**mine, "version": page.select_one("input[name=version]")["value"]}
    assert send(eve, f"/claims/{scene.upcoming}/edit", again).status_code == 302


def test_reviewers_see_no_edit_link_and_editors_do(web: Flask, tracker_app: App, now: dt.datetime) -> None:
    scene = seed(tracker_app, now)
    path = f"/claims/{scene.soon}"
    assert soup(signed_in(web, scene.assigned).get(path)).select_one(f"a[href='{path}/edit']") is None
    assert soup(signed_in(web, scene.editor).get(path)).select_one(f"a[href='{path}/edit']") is not None
    assert soup(signed_in(web, scene.assigned).get("/")).select_one(f"a[href='{NEW}']") is None
    assert soup(signed_in(web, scene.editor).get("/")).select_one(f"a[href='{NEW}']") is not None


def test_control_characters_and_overlong_text_are_problems_not_server_errors(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    """The claims file's text rules (tracker.textrules): what PostgreSQL would refuse never reaches it."""
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    hostile = claim_fields(
        scene,
        statement="It rains\x00.",
        title="T" * 1001,
        confidence="very likely\x1b",
        quote="Line one.\r\nIt will very likely rain.",  # a browser's line end is fine
    )
    response = send(eve, NEW, hostile)
    assert response.status_code == 400
    page = soup(response)
    beside = {p["id"].removesuffix("-problem"): p.get_text() for p in page.select(".field-problem")}
    assert sorted(beside) == ["confidence", "statement", "title"]
    assert "U+0000" in beside["statement"] and "limit is 1,000" in beside["title"]
    assert count(tracker_app, Claim) == 4

    fields = edit_form(eve, scene.soon)
    response = send(
        eve,
        f"/claims/{scene.soon}/edit",
        {**fields, "quote": "Quote\x00", "url": "https://x.org/" + "a" * 2000},
    )
    assert response.status_code == 400
    assert {p["id"] for p in soup(response).select(".field-problem")} == {"quote-problem", "url-problem"}


def test_a_promise_is_recorded_with_criteria_and_a_deadline_and_no_probability(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    page = soup(eve.get(NEW))
    assert "promise" in page.select_one("fieldset.criteria-fields")["data-kinds"].split()
    assert "promise" not in page.select_one("fieldset.likelihood")["data-kinds"].split()
    # Words of likelihood typed before the kind was changed are not asked of a promise: ignored.
    promise = claim_fields(
        scene, kind="promise", key="build-a-bridge", statement="The mayor builds a bridge."
    )
    assert send(eve, NEW, promise).status_code == 302
    with tracker_app.begin() as session:
        claim = services.get_claim(session, "build-a-bridge")
        assert (claim.kind, claim.probability, claim.confidence, claim.deadline) == (
            "promise",
            None,
            None,
            dt.date(2027, 3, 1),
        )
        assert [v.version for v in claim.criteria_versions] == [1]


def test_recording_and_editing_are_in_the_audit_log_as_the_editors_and_a_refused_form_leaves_nothing(
    web: Flask, tracker_app: App, now: dt.datetime
) -> None:
    from tracker.audit import AuditEntry

    def recorded(key: str) -> list[tuple[str, str, str]]:
        with tracker_app.begin(write=False) as session:
            rows = session.scalars(
                select(AuditEntry).where(AuditEntry.entity_key == key).order_by(AuditEntry.id)
            )
            return [(e.action, e.actor, e.interface) for e in rows]

    scene = seed(tracker_app, now)
    eve = signed_in(web, scene.editor)
    assert send(eve, NEW, claim_fields(scene, action="check")).status_code == 200
    assert send(eve, NEW, claim_fields(scene, deadline="2026-01-01")).status_code == 400
    assert recorded("rain-in-march") == []
    assert send(eve, NEW, claim_fields(scene)).status_code == 302
    added = recorded("rain-in-march")
    assert added == [("claim.create", scene.editor, "web"), ("criteria.add", scene.editor, "web")]
    fields = edit_form(eve, "rain-in-march")
    assert (
        send(
            eve, "/claims/rain-in-march/edit", {**fields, "deadline": "2027-04-01", "reason": "Later."}
        ).status_code
        == 302
    )
    assert recorded("rain-in-march")[len(added) :] == [
        ("claim.update", scene.editor, "web"),
        ("criteria.add", scene.editor, "web"),
    ]
