"""What a reader meets on the scorecard pages: warnings before thin figures, jargon folded away,
each explanation once, and an outlet counted with its people wherever it is counted.

The site is the one `test_scorecards_site` builds, plus a small family written inline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from sqlalchemy.orm import Session, sessionmaker
from test_scorecards_site import (
    NOW,
    build,
    import_site,
    scores_of,
    site,  # noqa: F401 (a fixture)
    soup,
    text_of,
)

from tracker.config import Settings
from tracker.scorecards.summary import summarise_sources
from tracker.scoring import SELECTION_NOTE

WriteFile = Callable[[str, str], Path]

# An organisation with no claims of its own whose spokesman has an overdue prediction, and
# a person whose one prediction is still open: predictions, but no Brier score.
FAMILY_YAML = """
reviewers:
  - {handle: bo, name: Bo Park, email: bo@example.org}
sources:
  - {slug: ministry, name: The Ministry, kind: organisation}
  - {slug: spokes, name: A Spokesman, kind: person, member_of: ministry}
  - {slug: quiet, name: Quiet Person, kind: person}
claims:
  - id: spokes-overdue
    source: spokes
    kind: prediction
    statement: Talks will resume.
    quote: talks will resume
    made_on: 2026-01-10
    probability: 0.8
    resolution: {criteria: Talks are reported to have resumed., deadline: 2026-10-01}
  - id: spokes-hit
    source: spokes
    kind: prediction
    statement: A visit will happen.
    quote: a visit will happen
    made_on: 2025-01-10
    probability: 0.7
    resolution: {criteria: A visit is reported., deadline: 2025-12-31}
    outcome: {verdict: true, resolved_on: 2025-06-01, by: bo, evidence: ['https://example.org/visit']}
  - id: quiet-open
    source: quiet
    kind: prediction
    statement: Rates will fall.
    quote: rates will fall
    made_on: 2026-01-10
    probability: 0.6
    resolution: {criteria: The central bank cuts its rate., deadline: 2027-06-30}
"""


def family_site(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, out: Path
) -> Path:
    import_site(session_factory, settings, write_file, FAMILY_YAML)
    build(session_factory, settings, out)
    return out


def pages_of(out: Path) -> dict[str, BeautifulSoup]:
    return {
        p.relative_to(out).as_posix(): soup(out, p.relative_to(out).as_posix()) for p in out.rglob("*.html")
    }


def index_row(out: Path, slug: str) -> Tag:
    for row in soup(out, "index.html").select("table.sources tbody tr"):
        link = row.select_one("th a")
        if link is not None and link["href"] == f"sources/{slug}.html":
            return row
    raise AssertionError(f"no index row for {slug}")


def cell(row: Tag, label: str) -> str:
    return text_of(row.select_one(f"[data-label='{label}']"))


def test_below_the_minimum_the_warning_comes_first_and_the_figures_are_quiet(site: Path) -> None:  # noqa: F811
    lucky = soup(site, "sources/lucky.html")
    order = [
        el
        for el in lucky.find_all(True)
        if {"note-thin", "note-selection", "figures"} & set(el.get("class") or [])
    ]
    kinds = [next(c for c in el["class"] if c in ("note-thin", "note-selection", "figures")) for el in order]
    assert kinds[:3] == [
        "note-thin",
        "note-selection",
        "figures",
    ]  # before anything that looks like a verdict
    assert "is-thin" in lucky.select_one("#predictions dl.figures")["class"]  # type: ignore[index]
    section = lucky.select_one("#predictions")
    assert section is not None
    mark = section.select_one(".thin-mark")
    assert mark is not None and mark.find_next("dl") is section.select_one("dl.figures")
    oracle = soup(site, "sources/oracle.html")
    assert oracle.select_one(".note-thin") is None
    assert "is-thin" not in oracle.select_one("#predictions dl.figures")["class"]  # type: ignore[index]


def test_jargon_is_folded_into_details(site: Path) -> None:  # noqa: F811
    page = soup(site, "sources/oracle.html")
    log = page.select_one("#predictions [data-figure='log-score']")
    assert log is not None
    value = text_of(log.select_one(".figure-value"))
    assert float(value) > 0 and "nats" not in value  # a bare number, its unit explained below
    for figure in page.select("#predictions .figure, #facts .figure"):
        folded = figure.select_one(".figure-explain details")
        assert folded is not None and text_of(folded.summary) == "What it means", figure["data-figure"]
    # "nats" and the Murphy decomposition appear only inside folded details.
    for word in ("nats", "Murphy"):
        for found in page.find_all(string=lambda s, w=word: s is not None and w in s):
            assert found.find_parent("details") is not None, (word, found)
    decomposition = page.select_one("details.decomposition")
    assert decomposition is not None and "Murphy" in text_of(decomposition)
    together = soup(site, "sources/sino.html").select("#together tbody th")
    assert "Log score" in [text_of(th) for th in together]


def test_each_explanation_shows_once_and_the_brier_one_only_with_a_brier_score(
    site: Path,  # noqa: F811
    session_factory: sessionmaker[Session],
    settings: Settings,
    write_file: WriteFile,
    tmp_path: Path,
) -> None:
    family = family_site(session_factory, settings, write_file, tmp_path / "family")
    pages = {**pages_of(site), **{f"family/{k}": v for k, v in pages_of(family).items()}}
    assert "family/sources/quiet.html" in pages and "sources/checker.html" in pages
    with_brier = []
    for name, page in pages.items():
        text = text_of(page.body)
        assert text.count(SELECTION_NOTE) == 1, name
        brier = page.select_one("[data-figure='brier']") is not None or "/index" in f"/{name}"
        assert text.count("0 to 2") == (1 if brier else 0), name
        with_brier.append(brier)
    assert True in with_brier and False in with_brier
    # The person with only an open prediction has a Predictions section, but no Brier score.
    quiet = pages["family/sources/quiet.html"]
    assert quiet.select_one("#predictions") is not None and "Brier" not in text_of(
        quiet.select_one("#predictions")
    )


def test_an_outlet_is_counted_with_its_people_on_the_index_its_page_and_in_scores(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> None:
    out = family_site(session_factory, settings, write_file, tmp_path / "family")
    together = scores_of(session_factory, ["ministry", "spokes"])
    assert together.predictions.counts.open == 1 and together.predictions.counts.overdue == 1
    row = index_row(out, "ministry")
    assert cell(row, "Open") == "1 1 overdue"  # not 0: its spokesman's prediction is overdue
    assert cell(row, "Scored predictions") == "1"
    assert cell(row, "Brier score").startswith(f"{together.predictions.brier:.3f}")
    assert "counted with its 1 person" in text_of(row.select_one("th .kind"))
    # Its page says the same in its table of figures with its people.
    page = soup(out, "sources/ministry.html")
    rows = {text_of(r.th): [text_of(td) for td in r.select("td")] for r in page.select("#together tbody tr")}
    assert rows["Open"] == ["0", "1 (1 overdue)"] and rows["Scored predictions"] == ["0", "1"]
    # A person's row is their own; the index's claim count is of claims, each counted once.
    assert cell(index_row(out, "spokes"), "Open") == "1 1 overdue"
    assert "counted with" not in text_of(index_row(out, "spokes").select_one("th .kind"))
    assert "3 claims" in text_of(soup(out, "index.html").select_one(".lede"))
    # `tracker scores` and the report group the family the same way.
    with session_factory() as session:
        summaries = {s.source.slug: s for s in summarise_sources(session, today=NOW.date())}
    ministry = summaries["ministry"]
    assert ministry.members == ("spokes",) and summaries["spokes"].member_of == "ministry"
    assert ministry.including_members == together
    assert summaries["quiet"].including_members is None


def test_an_outlets_row_follows_its_peoples_deadlines(
    session_factory: sessionmaker[Session], settings: Settings, write_file: WriteFile, tmp_path: Path
) -> None:
    # The overdue count of an outlet's row is its people's: it must be recounted on a new day
    # even though nothing of the outlet's own changed.
    import_site(
        session_factory,
        settings,
        write_file,
        FAMILY_YAML.replace("deadline: 2026-10-01", "deadline: 2026-11-23"),
    )
    out = tmp_path / "family"
    build(session_factory, settings, out)
    assert cell(index_row(out, "ministry"), "Open") == "1"
    build(session_factory, settings, out, now=NOW + dt.timedelta(days=1))
    assert cell(index_row(out, "ministry"), "Open") == "1 1 overdue"
