"""Benchmark `tracker scorecards` against its floor, in one run.

Builds (once, cached in --out) a SQLite database of 1M claims over 10k sources, 70%
predictions, most of them resolved, then measures, each in a fresh subprocess so that
peak memory is its own:

- the floor: one SELECT of the claim rows with their current verdicts, grouped by source
  in Python, written through a one-line Jinja template into one file per source, each file
  padded to the byte size of the page the full build wrote for that source, so that the
  floor and the build pay the same disk cost (the floor therefore runs after the full build);
- the full build: `tracker.scorecards.build_site(..., full=True)` into an empty folder, with
  the default `report.jobs` (one process per CPU: the build's own and a worker per other CPU;
  peak memory is that of all of them together);
- the incremental build: one resolution (through `tracker.services.resolve`), then
  `build_site` again on the same folder;
- the budget: the CPU time 3x the floor allows on this machine's CPUs, against two parts of
  the full build that no change to its Python work can remove, each measured alone: the
  loader's SQL on this schema (its queries over every unit of sources, rows discarded) and
  writing the pages' bytes. What is left is the allowance for all the Python work, per claim, shown
  beside what the build spent.

Usage: python bench/scorecards.py [--claims 1000000] [--sources 10000] [--out bench/out]
Targets (issue 3): full build at most 3x the floor; incremental at most 1 s; peak <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
from pathlib import Path

from _child import PEAK, run_child, working_copy

NOW = "2026-11-23 12:00:00.000000"
TAGS = ("china", "north-korea", "economy", "election", "trade", "security", "energy", "health")
FACT_VERDICTS = ("true", "mostly-true", "half-true", "mostly-false", "false", "unverifiable")
PHRASES = {"likely": 0.675, "very likely": 0.875, "unlikely": 0.325, "may": None, "almost certain": 0.97}


def generate(db: Path, claims: int, sources: int, seed: int = 11) -> None:
    """Create a migrated SQLite database filled with `claims` claims over `sources` sources."""
    from tracker import migrations
    from tracker.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    migrations.upgrade(engine)
    engine.dispose()
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany(
        "INSERT INTO reviewers (id, handle, name, email, timezone, role, created_at) VALUES (?,?,?,?,?,?,?)",
        [
            (i, f"rev{i}", f"Reviewer {i}", f"rev{i}@example.org", "UTC", "reviewer", NOW)
            for i in range(1, 51)
        ],
    )
    outlets = sources // 10
    conn.executemany(
        "INSERT INTO sources (id, slug, name, kind, url, parent_id, revision, created_at) VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                s,
                f"src{s}",
                f"Source {s}",
                "outlet" if s <= outlets else "person",
                f"https://example.org/src{s}",
                None if s <= outlets else rng.randint(1, outlets),
                1,
                NOW,
            )
            for s in range(1, sources + 1)
        ],
    )
    batch: list[tuple[object, ...]] = []
    apps, tags, versions, resolutions = [], [], [], []
    for c in range(1, claims + 1):
        source = rng.randint(1, sources)
        year = 2015 + rng.randrange(9)
        made = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
        article = (c + 2) // 3
        if c % 3 == 1:
            apps.append((article, f"https://example.org/a/{article}", f"Article {article}", made))
        kind = "prediction" if rng.random() < 0.7 else "fact"
        probability = confidence = criteria = deadline = as_of = verdict = None
        if kind == "prediction":
            if rng.random() < 0.5:
                probability = rng.randrange(1, 100) / 100
            else:
                confidence = rng.choice(list(PHRASES))
                probability = PHRASES[confidence]
            criteria = f"Resolves true if event {c} is reported by two major outlets before the deadline."
            deadline = f"{year + rng.randrange(1, 4)}-12-31"
            versions.append((c, 1, criteria, deadline, NOW))
            if deadline < "2026-11-23" and rng.random() < 0.9:
                verdict = rng.choices(("true", "false", "ambiguous", "annulled"), (45, 45, 5, 5))[0]
        else:
            as_of = made
            if rng.random() < 0.85:
                verdict = rng.choice(FACT_VERDICTS)
        if verdict:
            resolutions.append(
                (
                    c,
                    verdict,
                    json.dumps([f"https://example.org/e/{c}"]),
                    "Checked.",
                    rng.randint(1, 50),
                    f"{year + 3}-01-15",
                    NOW,
                )
            )
        batch.append(
            (
                c,
                f"claim-{c}",
                kind,
                f"Statement number {c} about {rng.choice(TAGS)}.",
                f"We believe that number {c} will hold.",
                made,
                source,
                article,
                probability,
                confidence,
                criteria,
                deadline,
                as_of,
                "resolved" if verdict else "open",
                verdict,
                NOW,
                NOW,
            )
        )
        tags.append((c, rng.choice(TAGS)))
        if len(batch) >= 50_000:
            _flush(conn, batch, apps, tags, versions, resolutions)
    _flush(conn, batch, apps, tags, versions, resolutions)
    conn.executemany(
        "INSERT INTO claim_reviewers (claim_id, reviewer_id) VALUES (?,?)",
        [(c, 1 + c % 50) for c in range(1, claims + 1, 7)],
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _flush(
    conn: sqlite3.Connection, batch: list, apps: list, tags: list, versions: list, resolutions: list
) -> None:
    conn.executemany("INSERT INTO appearances (id, url, title, published) VALUES (?,?,?,?)", apps)
    conn.executemany(
        "INSERT INTO claims (id, key, kind, statement, quote, made_on, source_id, appearance_id, probability, "
        "confidence, criteria, deadline, as_of, status, verdict, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        batch,
    )
    conn.executemany("INSERT INTO claim_tags (claim_id, tag) VALUES (?,?)", tags)
    conn.executemany(
        "INSERT INTO criteria_versions (claim_id, version, criteria, deadline, recorded_at) VALUES (?,?,?,?,?)",
        versions,
    )
    conn.executemany(
        "INSERT INTO resolutions (claim_id, verdict, evidence, note, reviewer_id, resolved_on, recorded_at) "
        "VALUES (?,?,?,?,?,?,?)",
        resolutions,
    )
    for rows in (batch, apps, tags, versions, resolutions):
        rows.clear()


FLOOR = (
    PEAK
    + """
import itertools, json, sqlite3, sys, time
from pathlib import Path
import jinja2
db, out, sizes_file = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
# source id -> bytes of the page the full build wrote for it (read before the clock starts).
sizes = {int(k): v for k, v in json.loads(sizes_file.read_text()).items()}
template = jinja2.Environment(autoescape=True).from_string(
    "{% for c in claims %}<p>{{ c[1] }} {{ c[2] }} {{ c[3] }}</p>{% endfor %}")
start = time.perf_counter()
conn = sqlite3.connect(db)
rows = conn.execute("SELECT source_id, key, statement, verdict FROM claims ORDER BY source_id")
files = written = 0
for source_id, claims in itertools.groupby(rows, key=lambda r: r[0]):
    page = template.render(claims=list(claims)).encode()
    page += b" " * (sizes.get(source_id, 0) - len(page))  # as many bytes as the build's page
    (out / f"{source_id}.html").write_bytes(page)
    files += 1
    written += len(page)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "peak_mb": peak_mb(), "files": files, "bytes": written}))
"""
)

BUILD = (
    PEAK
    + """
import datetime as dt, json, os, sys, time
from pathlib import Path
from tracker.config import load_settings
from tracker.db import make_engine, make_session_factory
from tracker.scorecards import build_site
db, out, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
url = f"sqlite:///{db}"
settings = load_settings(env={}, database_url=url)
factory = make_session_factory(make_engine(url))
now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
if mode == "incremental":
    from sqlalchemy import select
    from tracker import services
    from tracker.models import Claim
    with factory.begin() as session:
        key = session.scalars(
            select(Claim.key).where(Claim.status == "open", Claim.kind == "prediction").limit(1)
        ).one()
        services.resolve(session, key, "true", ["https://example.org/evidence"], "Benchmark resolution.",
                         "rev1", resolved_on=dt.date(2026, 11, 23), now=now)
before = os.times()
start = time.perf_counter()
with factory() as session:
    result = build_site(session, out, settings=settings, now=now, full=(mode == "full"))
wall = time.perf_counter() - start
times = os.times()  # the workers are joined by now, so their CPU is in the children's figures
print(json.dumps({"wall": wall, "peak_mb": peak_mb(), "written": len(result.written),
                  "unchanged": result.unchanged, "claims": result.claims, "sources": result.sources,
                  "cpu": sum(times[:4]) - sum(before[:4])}))
"""
)

# The two parts of the full build that no change to its Python work can remove, measured
# alone in one process: the loader's queries over every unit of sources (the same statements
# through the same session, rows fetched but not made into records), and writing the site's
# pages (the bytes the full build wrote, read back beforehand, so that only creating and
# writing the files is timed).
READS = (
    PEAK
    + """
import json, os, sys, time
from tracker.db import make_engine, make_session_factory
from tracker.scorecards import data
from tracker.scorecards.data import load_sources
from tracker.scorecards.family import Family
from tracker.scorecards.units import UNIT_SOURCES
factory = make_session_factory(make_engine(f"sqlite:///{sys.argv[1]}"))
before = os.times()
start = time.perf_counter()
rows = 0
with factory() as session:
    sources = load_sources(session)
    for unit in Family(sources).units([s.id for s in sources], UNIT_SOURCES):
        ids = {"ids": list(unit)}
        rows += sum(len(session.execute(statement, ids).all()) for statement in data.LOADER_STATEMENTS)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "cpu": sum(os.times()[:2]) - sum(before[:2]), "peak_mb": peak_mb(), "rows": rows}))
"""
)

WRITES = (
    PEAK
    + """
import json, sys, time
from pathlib import Path
site, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
wall = cpu = 0.0
written = 0
for page in sorted((site / "sources").glob("*.html")):
    text = page.read_text(encoding="utf-8")
    start, start_cpu = time.perf_counter(), time.process_time()
    with (out / page.name).open("w", encoding="utf-8") as f:
        f.write(text)
    wall += time.perf_counter() - start
    cpu += time.process_time() - start_cpu
    written += len(text.encode())
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak_mb(), "bytes": written}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / f"scorecards-{args.claims}-{args.sources}.db"
    # Work on a copy: the incremental run writes a resolution.
    work = args.out / "scorecards-work.db"
    working_copy(db, work, lambda path: generate(path, args.claims, args.sources))
    floor_dir, site_dir = args.out / "floor-site", args.out / "site"
    for d in (floor_dir, site_dir):
        shutil.rmtree(d, ignore_errors=True)

    # Each run starts with the disk quiet: the gigabytes an earlier run (or the clean-up)
    # left to write back would otherwise slow whichever run came next. The full build runs
    # first, since the floor writes as many bytes per source as the build's page for it.
    os.sync()
    full = run_child(BUILD, str(work), str(site_dir), "full")
    sizes_file = args.out / "page-sizes.json"
    sizes_file.write_text(json.dumps(page_sizes(work, site_dir)))
    # The floor runs twice into fresh folders and keeps its faster time, so the ratio errs
    # against tracker.
    floors = []
    for _ in range(2):
        shutil.rmtree(floor_dir, ignore_errors=True)
        os.sync()
        floors.append(run_child(FLOOR, str(work), str(floor_dir), str(sizes_file)))
    floor = min(floors, key=lambda run: run["wall"])
    shutil.rmtree(floor_dir, ignore_errors=True)
    os.sync()
    incremental = run_child(BUILD, str(work), str(site_dir), "incremental")
    os.sync()
    reads = run_child(READS, str(work))
    writes_dir = args.out / "writes-site"
    shutil.rmtree(writes_dir, ignore_errors=True)
    os.sync()
    writes = run_child(WRITES, str(site_dir), str(writes_dir))
    shutil.rmtree(writes_dir, ignore_errors=True)
    ratio = full["wall"] / floor["wall"]
    print(f"\n{args.claims:,} claims over {args.sources:,} sources")
    print(f"{'run':48} {'wall s':>8} {'peak MB':>8}  notes")
    print(
        f"{'floor: SELECT + group by + one-line template':48} {floor['wall']:8.2f} {floor['peak_mb']:8.0f}  "
        f"{floor['files']:,} files, {floor['bytes'] / 1e9:.2f} GB"
    )
    print(
        f"{'tracker scorecards, full build':48} {full['wall']:8.2f} {full['peak_mb']:8.0f}  "
        f"{ratio:.2f}x floor, {full['written']:,} files"
    )
    print(
        f"{'tracker scorecards, after one resolution':48} {incremental['wall']:8.2f} "
        f"{incremental['peak_mb']:8.0f}  {incremental['written']:,} files written, "
        f"{incremental['unchanged']:,} unchanged"
    )
    print(f"\ntarget full <= 3x floor:   {'met' if ratio <= 3 else 'MISSED'} ({ratio:.2f}x)")
    print(
        f"target incremental <= 1 s: {'met' if incremental['wall'] <= 1 else 'MISSED'} "
        f"({incremental['wall']:.2f} s)"
    )
    peak = max(full["peak_mb"], incremental["peak_mb"])
    print(f"target peak <= 300 MB:    {'met' if peak <= 300 else 'MISSED'} ({peak:.0f} MB)")
    print_budget(floor, full, reads, writes)


def page_sizes(db: Path, site: Path) -> dict[int, int]:
    """Source id -> the byte size of the page the build wrote for it."""
    conn = sqlite3.connect(db)
    try:
        slugs = dict(conn.execute("SELECT id, slug FROM sources"))
    finally:
        conn.close()
    sizes = {}
    for sid, slug in slugs.items():
        page = site / "sources" / f"{slug}.html"
        if page.is_file():
            sizes[sid] = page.stat().st_size
    return sizes


def print_budget(floor: dict, full: dict, reads: dict, writes: dict) -> None:
    """What 3x the floor leaves per claim for the Python work, once the SQL and the writes are paid."""
    claims, cpus = full["claims"], os.cpu_count() or 1

    def per_claim(seconds: float) -> str:
        return f"{seconds / claims * 1e6:5.1f} us a claim"

    allowance = 3 * floor["wall"] * cpus
    fixed = reads["cpu"] + writes["cpu"]
    print(f"\nbudget of a full build at 3x the floor, on {cpus} CPUs (CPU seconds):")
    print(f"  {'allowed: 3 x floor x CPUs':44} {allowance:7.2f}  {per_claim(allowance)}")
    print(
        f"  {'the SQL of the loader alone (one process)':44} {reads['cpu']:7.2f}  {per_claim(reads['cpu'])}"
    )
    print(
        f"  {'writing the pages alone (one process)':44} {writes['cpu']:7.2f}  {per_claim(writes['cpu'])}"
        f"  ({writes['bytes'] / 1e9:.2f} GB)"
    )
    print(f"  {'left for all the Python work':44} {allowance - fixed:7.2f}  {per_claim(allowance - fixed)}")
    print(
        f"  {'the Python work of the build (CPU less both)':44} {full['cpu'] - fixed:7.2f}  "
        f"{per_claim(full['cpu'] - fixed)}  (all its processes: {full['cpu']:.1f} CPU s)"
    )


if __name__ == "__main__":
    main()
