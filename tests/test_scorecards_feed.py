"""The Atom feed's identity and times, and `site_url` making the feed and ClaimReview absolute."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from test_scorecards_site import (
    NOW,
    build,
    reviews,
    site,  # noqa: F401 (a fixture)
    soup,
)

from tracker import services
from tracker.config import Settings
from tracker.scorecards.feed import feed_id, resolution_time
from tracker.scorecards.lookups import first_source

ATOM = {"a": "http://www.w3.org/2005/Atom"}
SITE_URL = "https://example.org/scorecards/"
OLD_FIXED_ID = "urn:uuid:8f0c6f4e-5a0e-5c55-9d1c-7a3b7d0f1e21"  # what every installation published


def feed(out: Path) -> ET.Element:
    return ET.parse(out / "feed.xml").getroot()


def entries(out: Path) -> dict[str, ET.Element]:
    """The feed's entries by the claim their link points to."""
    found = {}
    for entry in feed(out).findall("a:entry", ATOM):
        link = entry.find("a:link[@rel='alternate']", ATOM)
        assert link is not None
        found.setdefault(str(link.get("href")).split("#claim-")[1], entry)
    return found


def test_without_site_url_the_feed_id_is_the_installations_and_links_are_relative(
    site: Path,  # noqa: F811
    session_factory: sessionmaker[Session],
) -> None:
    root = feed(site)
    with session_factory() as session:
        stamp = first_source(session)
    assert stamp is not None
    assert root.findtext("a:id", namespaces=ATOM) == feed_id(None, stamp) != OLD_FIXED_ID
    assert str(feed_id(None, stamp)).startswith("urn:uuid:")
    # Another database, even of the same claims, has another first source's creation time.
    other = stamp.split(":", 1)[0] + ":2030-01-01T00:00:00.000001+00:00"
    assert feed_id(None, other) != feed_id(None, stamp)
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", ATOM)}
    assert links == {"self": "feed.xml", "alternate": "index.html"}
    assert reviews(soup(site, "sources/sino.html"))["claim-sino-xss"]["url"] == "sino.html#claim-sino-xss"


def test_site_url_makes_claimreview_and_the_feed_absolute(
    site: Path,  # noqa: F811
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    out = tmp_path / "published"
    build(session_factory, settings.model_copy(update={"site_url": SITE_URL}), out)
    review = reviews(soup(out, "sources/sino.html"))["claim-sino-xss"]
    assert review["url"] == f"{SITE_URL}sources/sino.html#claim-sino-xss"
    root = feed(out)
    assert root.findtext("a:id", namespaces=ATOM) == f"{SITE_URL}feed.xml"
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", ATOM)}
    assert links == {"self": f"{SITE_URL}feed.xml", "alternate": f"{SITE_URL}index.html"}
    published, local = entries(out), entries(site)
    assert published.keys() == local.keys()
    for key, entry in published.items():
        href = str(entry.find("a:link[@rel='alternate']", ATOM).get("href"))  # type: ignore[union-attr]
        local_href = str(local[key].find("a:link[@rel='alternate']", ATOM).get("href"))  # type: ignore[union-attr]
        assert href == SITE_URL + local_href and local_href.startswith("sources/")
        # Entry ids follow the feed's: each installation's are its own.
        entry_id = entry.findtext("a:id", namespaces=ATOM) or ""
        assert entry_id.startswith("urn:uuid:") and entry_id != local[key].findtext("a:id", namespaces=ATOM)


def test_feed_entries_carry_the_time_of_each_resolution_not_of_the_import(
    site: Path,  # noqa: F811
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    imported = entries(site)["sino-xss"]  # resolved 29 Nov 2017, imported at NOW
    assert imported.findtext("a:updated", namespaces=ATOM) == "2017-11-29T00:00:00Z"
    later = NOW + dt.timedelta(hours=3, minutes=7)
    with session_factory.begin() as session:
        services.resolve(
            session, "sino-overdue", "false", ["https://example.org/no"], None, "bo", None, later
        )
    build(session_factory, settings, site, now=later + dt.timedelta(hours=1))
    root = feed(site)
    first = root.find("a:entry", ATOM)
    assert first is not None and "Kim will visit Beijing" in (
        first.findtext("a:title", namespaces=ATOM) or ""
    )
    assert first.findtext("a:updated", namespaces=ATOM) == "2026-11-23T15:07:00Z"
    assert root.findtext("a:updated", namespaces=ATOM) == "2026-11-23T15:07:00Z"
    # Newest verdict first, whatever order they were recorded in.
    times = [e.findtext("a:updated", namespaces=ATOM) or "" for e in root.findall("a:entry", ATOM)]
    assert times == sorted(times, reverse=True)


def test_a_verdict_recorded_on_its_day_keeps_its_time() -> None:
    seoul_evening = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)  # 23 Nov in Seoul
    assert resolution_time(dt.date(2026, 11, 23), seoul_evening) == seoul_evening
    assert resolution_time(dt.date(2026, 11, 22), seoul_evening) == seoul_evening
    assert resolution_time(dt.date(2026, 11, 1), seoul_evening) == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
