"""The one template environment: overrides in templates_dir, shared filters, no HTML built in Python.

The override test builds a real site and a report digest with a templates_dir holding a
`base.html` and a claim entry that extend the packaged ones, and checks every page that
uses them changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker
from test_scorecards_site import NOW, build, import_site

import tracker
from tracker import formatting
from tracker.app import App
from tracker.cli import cli
from tracker.config import Settings, load_settings
from tracker.errors import TrackerError
from tracker.reports import ClaimRef, Digest, NewResolution, Section, render_digest
from tracker.templating import environment, make_environment
from tracker.templating.filters import FILTERS

WriteFile = Callable[[str, str], Path]

BASE_OVERRIDE = """\
{% extends "default/base.html" %}
{% block footer %}{{ super() }}<p class="house-footer">Published by the House.</p>
{% endblock %}
"""
CLAIM_OVERRIDE = """\
{% import "default/macros/claim.html" as packaged %}
{% macro claim_entry(c) %}
<div class="house-claim" data-key="{{ c.key }}">{{ packaged.claim_entry(c) }}</div>
{% endmacro %}
"""


@pytest.fixture
def overrides(tmp_path: Path) -> Path:
    """A templates_dir overriding base.html and the claim entry, each extending the packaged one."""
    folder = tmp_path / "my-templates"
    (folder / "macros").mkdir(parents=True)
    (folder / "base.html").write_text(BASE_OVERRIDE, encoding="utf-8")
    (folder / "macros" / "claim.html").write_text(CLAIM_OVERRIDE, encoding="utf-8")
    return folder


@pytest.fixture
def overridden(settings: Settings, overrides: Path, tmp_path: Path) -> Settings:
    """The test's settings with TRACKER_TEMPLATES_DIR pointing at `overrides`."""
    config = tmp_path / "tracker-test.toml"
    return load_settings(
        config_file=config,
        env={"TRACKER_TEMPLATES_DIR": str(overrides)},
        database_url=settings.database_url,
    )


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def parsed(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def overridden_base(page: BeautifulSoup) -> bool:
    return page.select_one("body > p.house-footer") is not None


def test_the_setting_comes_from_the_environment(overridden: Settings, overrides: Path) -> None:
    assert overridden.templates_dir == str(overrides)


def test_a_missing_templates_dir_is_an_error(
    db_url: str,
    session_factory: sessionmaker[Session],
    settings: Settings,
    write_file: WriteFile,
    tmp_path: Path,
) -> None:
    nowhere = tmp_path / "nowhere"
    with pytest.raises(TrackerError, match=r"^templates_dir: .*nowhere: no such folder$"):
        environment(str(nowhere))
    # The command says so in one line, and writes nothing.
    import_site(session_factory, settings, write_file)
    config = write_file("tracker-test.toml", f'templates_dir = "{nowhere}"\n')
    out = tmp_path / "out"
    args = ["--config", str(config), "--database-url", db_url, "scorecards", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--now", NOW.isoformat()], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"tracker: error: templates_dir: {nowhere}: no such folder"
    assert not (out / "index.html").exists()


def test_overrides_change_every_page_that_uses_them(
    session_factory: sessionmaker[Session],
    settings: Settings,
    overridden: Settings,
    write_file: WriteFile,
    tmp_path: Path,
) -> None:
    import_site(session_factory, settings, write_file)
    plain, custom = tmp_path / "plain", tmp_path / "custom"
    build(session_factory, settings, plain)
    build(session_factory, overridden, custom)

    assert [p.relative_to(plain) for p in pages(plain)] == [p.relative_to(custom) for p in pages(custom)]
    for path in pages(plain):
        assert not overridden_base(parsed(path)), path
        assert parsed(path).select(".house-claim") == []
    sources = 0
    for path in pages(custom):
        page = parsed(path)
        assert overridden_base(page), path  # every page extends base.html
        # ...and the rest of the packaged base is still there, extended rather than replaced.
        assert page.select_one("header.masthead") is not None and page.select_one("footer.colophon")
        if path.parent.name == "sources":
            sources += 1
            articles = page.select("article.claim")
            assert articles, path
            # Every claim on every source page is drawn by the overriding entry.
            wrapped = page.select(".house-claim > article.claim")
            assert len(wrapped) == len(articles)
            assert [w["data-key"] for w in page.select(".house-claim")] == [
                str(a["id"]).removeprefix("claim-") for a in articles
            ]
    assert sources == len(list((plain / "sources").glob("*.html"))) > 0


def test_editing_an_override_rebuilds_the_pages(
    session_factory: sessionmaker[Session],
    settings: Settings,
    overridden: Settings,
    overrides: Path,
    write_file: WriteFile,
    tmp_path: Path,
) -> None:
    import_site(session_factory, settings, write_file)
    out = tmp_path / "site"
    build(session_factory, overridden, out)
    first = build(session_factory, overridden, out)
    assert first.unchanged == first.sources  # nothing changed: nothing rendered again
    (overrides / "macros" / "claim.html").write_text(
        CLAIM_OVERRIDE.replace("house-claim", "house-claim-v2"), encoding="utf-8"
    )
    second = build(session_factory, overridden, out)
    assert second.unchanged == 0
    page = parsed(out / "sources" / "oracle.html")
    assert page.select(".house-claim-v2") and not page.select(".house-claim")


def test_a_stylesheet_override_is_copied(
    session_factory: sessionmaker[Session],
    settings: Settings,
    overridden: Settings,
    overrides: Path,
    write_file: WriteFile,
    tmp_path: Path,
) -> None:
    import_site(session_factory, settings, write_file)
    (overrides / "scorecards").mkdir()
    (overrides / "scorecards" / "style.css").write_text("body { color: rebeccapurple; }\n", encoding="utf-8")
    out = tmp_path / "site"
    build(session_factory, overridden, out)
    assert (out / "style.css").read_text(encoding="utf-8") == "body { color: rebeccapurple; }\n"


def report_digest() -> Digest:
    claim = ClaimRef(
        key="kim-1",
        kind="prediction",
        statement="Kim tones it down.",
        source_slug="sino",
        source_name="SinoInsider",
        probability=0.7,
        confidence=None,
        made_on=dt.date(2017, 11, 16),
        deadline=dt.date(2018, 1, 31),
    )
    resolution = NewResolution(
        claim=claim,
        verdict="false",
        evidence=("https://www.bbc.com/news/world-asia-42170365",),
        note=None,
        reviewer="ann",
        reviewer_name="Ann Lee",
        resolved_on=dt.date(2017, 11, 29),
        recorded_at=NOW,
    )
    empty: Section[object] = Section((), 0)
    return Digest(NOW - dt.timedelta(days=7), NOW, "UTC", Section((resolution,), 1), empty, empty, empty)  # type: ignore[arg-type]


def test_the_report_digest_extends_the_same_base(overridden: Settings, settings: Settings) -> None:
    custom = parsed_html(render_digest(make_environment(overridden), report_digest()).html)
    plain = parsed_html(render_digest(make_environment(settings), report_digest()).html)
    assert overridden_base(custom) and not overridden_base(plain)
    # The site's look: its masthead, and its stylesheet carried inline (the digest is mailed).
    style = plain.select_one("head style")
    assert style is not None and ".masthead" in style.get_text()
    assert plain.select("link") == []
    link = plain.select_one("ul.items .statement a")
    assert link is not None and link["href"] == "../sources/sino.html#claim-kim-1"


def parsed_html(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def test_the_app_has_the_one_environment(overridden: Settings, settings: Settings) -> None:
    app = App()
    app.__dict__["settings"] = overridden  # as if loaded: the App builds the rest from its settings
    assert app.templates is make_environment(overridden) is environment(overridden.templates_dir)
    assert make_environment(settings) is environment(None)
    assert (
        app.templates.get_template("base.html").filename != environment().get_template("base.html").filename
    )


# --- one set of filters ----------------------------------------------------------------------------


def test_a_missing_figure_reads_the_same_everywhere() -> None:
    env = environment()
    assert formatting.number(None) == formatting.percent(None) == formatting.date(None) == formatting.NONE
    for name in ("num", "pct", "date", "moment"):
        assert env.from_string(f"{{{{ x|{name} }}}}").render(x=None) == formatting.NONE, name
    assert env.from_string("{{ NONE }}").render() == formatting.NONE


def test_the_filters_are_the_formatting_functions() -> None:
    # The CLI calls the functions; the templates call the filters: they must be the same code.
    assert FILTERS["num"] is formatting.number
    assert FILTERS["pct"] is formatting.percent
    assert FILTERS["date"] is formatting.date
    assert FILTERS["plural"] is formatting.plural
    assert formatting.number(-0.25) == "\u22120.250"
    assert formatting.number(0.1, 2, signed=True) == "+0.10"
    assert formatting.percent(0.675) == "68%"
    assert formatting.interval(0.1, 0.25, "pct") == "10%\u201325%"
    assert formatting.date(dt.date(2017, 11, 6)) == "6 Nov 2017"
    assert formatting.plural(1, "claim") == "1 claim" and formatting.plural(1204, "claim") == "1,204 claims"
    assert formatting.host("https://www.bbc.com/news/x?a=1") == "bbc.com"


def test_the_cli_writes_a_missing_figure_as_the_pages_do() -> None:
    from tracker.cli import scores

    assert scores._fixed(None) == scores._percent(None) == formatting.NONE


# --- no HTML in Python -----------------------------------------------------------------------------

# An HTML tag opening a Python string literal: '<p', "<div class=", f'<a href=...
_TAG_IN_STRING = re.compile(
    r"""(?:^|[\s(=,\[])[rbfu]?["']<(?:/?)(?:a|p|div|span|li|ol|ul|dl|dt|dd|tr|td|th|table|svg|circle|"""
    r"""article|section|time|h[1-6]|blockquote|br|code|strong|em|script|style|meta|link)[\s>/"']"""
)


def test_no_html_is_built_in_python() -> None:
    package = Path(tracker.__file__).resolve().parent
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "markupsafe._" in text or "_speedups" in text:
            found.append(f"{path}: markupsafe private API")
        for number, line in enumerate(text.splitlines(), 1):
            if not line.lstrip().startswith("#") and _TAG_IN_STRING.search(line):
                found.append(f"{path.relative_to(package)}:{number}: {line.strip()}")
    assert found == []
