"""Benchmark `tracker import` against its floor, in one run.

Generates a claims file of 100k claims across 1k sources, then measures, each in a
fresh subprocess so peak memory is its own:

- the import: `tracker.claimsfile.import_claims` into a new, migrated SQLite file;
- the floor: parsing the same file with PyYAML's CSafeLoader, plus inserting the
  same rows into the same tables with the sqlite3 module's `executemany`.

Usage: python bench/import.py [--claims 100000] [--sources 1000] [--out bench/out]
Targets (issue 2): import wall time at most 1.5x the floor; peak memory at most 300 MB.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from _child import PEAK, run_child

WORDS = [
    "china",
    "north",
    "korea",
    "sanctions",
    "missile",
    "test",
    "summit",
    "envoy",
    "visit",
    "pressure",
    "talks",
    "nuclear",
    "freeze",
    "trade",
    "tariff",
    "election",
    "party",
    "congress",
    "leader",
    "ministry",
    "spokesman",
    "border",
    "troops",
    "economy",
    "growth",
    "yuan",
]
VERDICTS = ("true", "false", "false", "true", "ambiguous", "annulled")
FACT_VERDICTS = ("true", "mostly-true", "half-true", "mostly-false", "false", "unverifiable")
PHRASES = ("likely", "we believe", "very likely", "unlikely", "probably", "may", "almost certain")


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def generate(path: Path, claims: int, sources: int, seed: int = 7) -> None:
    """Write a claims file with `claims` entries spread over `sources` sources."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("reviewers:\n")
        for r in range(20):
            out.write(
                f"  - {{handle: rev{r}, name: Reviewer {r}, email: rev{r}@example.org, timezone: UTC}}\n"
            )
        out.write("sources:\n")
        for s in range(sources):
            out.write(
                f"  - {{slug: src{s}, name: Source {s}, kind: outlet, url: 'https://example.org/src{s}'}}\n"
            )
        out.write("claims:\n")
        for c in range(claims):
            source = rng.randrange(sources)
            article = c // 3  # three claims per article, as in real commentary
            year = 2015 + article % 8
            made = f"{year}-{article % 12 + 1:02d}-{article % 27 + 1:02d}"
            lines = [
                f"  - id: claim-{c}",
                f"    source: src{source}",
                f"    statement: {_sentence(rng, 12)}",
                f'    quote: "{_sentence(rng, 20)}"',
                f"    appeared_in: {{url: 'https://example.org/a/{article}', title: Article {article}, "
                f"published: {made}}}",
                f"    made_on: {made}",
                f"    reviewers: [rev{rng.randrange(20)}]",
                f"    tags: [{rng.choice(WORDS)}-t, region-{rng.randrange(10)}]",
            ]
            if rng.random() < 0.7:
                lines.insert(2, "    kind: prediction")
                if rng.random() < 0.5:
                    lines.append(f"    probability: {rng.randrange(1, 100) / 100}")
                    lines.append("    probability_basis: the source's own figure")
                else:
                    phrase = rng.choice(PHRASES)
                    lines.append(f"    confidence: {phrase}")
                    # The loader checks that the words are the quote's own.
                    lines[4] = lines[4].replace('quote: "', f'quote: "{phrase.capitalize()}, ', 1)
                lines.append(
                    f"    resolution: {{criteria: {_sentence(rng, 18)}, deadline: {year + 1}-12-31}}"
                )
                if rng.random() < 0.8:
                    verdict = rng.choice(VERDICTS)
                    lines.append(
                        f"    outcome: {{verdict: {verdict}, resolved_on: {year + 2}-01-15, by: rev{rng.randrange(20)}, "
                        f"evidence: ['https://example.org/e/{c}'], note: {_sentence(rng, 8)}}}"
                    )
            else:
                lines.insert(2, "    kind: fact")
                if rng.random() < 0.8:
                    verdict = rng.choice(FACT_VERDICTS)
                    lines.append(
                        f"    outcome: {{verdict: {verdict}, resolved_on: {year + 1}-01-15, by: rev{rng.randrange(20)}, "
                        f"evidence: ['https://example.org/e/{c}']}}"
                    )
            out.write("\n".join(lines) + "\n")


IMPORT = (
    PEAK
    + """
import datetime as dt, json, sys, time
from pathlib import Path
from tracker import migrations
from tracker.claimsfile import import_claims
from tracker.config import load_settings
from tracker.db import make_engine, make_session_factory
db, src = sys.argv[1], Path(sys.argv[2])
engine = make_engine(f"sqlite:///{db}")
migrations.upgrade(engine)
factory = make_session_factory(engine)
settings = load_settings(env={}, database_url=f"sqlite:///{db}")
now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
base = peak_mb()
start = time.perf_counter()
with factory.begin() as session:
    report = import_claims(session, src, settings=settings, now=now)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "peak_mb": peak_mb(), "created": report.created}))
"""
)

REIMPORT = IMPORT.replace(
    '"created": report.created', '"created": report.created, "unchanged": report.unchanged'
)

FLOOR = (
    PEAK
    + """
import datetime as dt, json, sqlite3, sys, time
import yaml
from tracker import migrations
from tracker.db import make_engine
db, src = sys.argv[1], sys.argv[2]
engine = make_engine(f"sqlite:///{db}")
migrations.upgrade(engine)
engine.dispose()
now = dt.datetime(2026, 11, 23).isoformat(sep=" ")
start = time.perf_counter()
with open(src, "rb") as handle:
    data = yaml.load(handle, Loader=yaml.CSafeLoader)
conn = sqlite3.connect(db)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
cur = conn.cursor()
reviewers = {r["handle"]: i + 1 for i, r in enumerate(data["reviewers"])}
cur.executemany("INSERT INTO reviewers (id, handle, name, email, timezone, role, created_at) VALUES (?,?,?,?,?,?,?)",
    [(i, r["handle"], r["name"], r["email"], r["timezone"], "reviewer", now) for r, i in zip(data["reviewers"], reviewers.values())])
sources = {s["slug"]: i + 1 for i, s in enumerate(data["sources"])}
cur.executemany("INSERT INTO sources (id, slug, name, kind, url, created_at) VALUES (?,?,?,?,?,?)",
    [(i, s["slug"], s["name"], s["kind"], s.get("url"), now) for s, i in zip(data["sources"], sources.values())])
apps, claims, tags, assign, versions, resolutions = {}, [], [], [], [], []
for n, c in enumerate(data["claims"], start=1):
    a = c["appeared_in"]
    if a["url"] not in apps:
        apps[a["url"]] = (len(apps) + 1, a["url"], a.get("title"), a.get("published"))
    r = c.get("resolution") or {}
    o = c.get("outcome")
    verdict = None if o is None else (("true" if o["verdict"] else "false") if isinstance(o["verdict"], bool) else o["verdict"])
    claims.append((n, c["id"], c["kind"], c["statement"], c["quote"], c["made_on"], sources[c["source"]], apps[a["url"]][0],
        c.get("probability"), c.get("confidence"), r.get("criteria"), r.get("deadline"),
        c["made_on"] if c["kind"] == "fact" else None, "resolved" if o else "open", verdict, now, now))
    tags.extend((n, t) for t in c["tags"])
    assign.extend((n, reviewers[h]) for h in c["reviewers"])
    if r:
        versions.append((n, 1, r["criteria"], r["deadline"], now))
    if o:
        resolutions.append((n, verdict, json.dumps(o["evidence"]), o.get("note"), reviewers[o["by"]], o["resolved_on"], now))
cur.executemany("INSERT INTO appearances (id, url, title, published) VALUES (?,?,?,?)", list(apps.values()))
cur.executemany("INSERT INTO claims (id, key, kind, statement, quote, made_on, source_id, appearance_id, probability, "
    "confidence, criteria, deadline, as_of, status, verdict, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", claims)
cur.executemany("INSERT INTO claim_tags (claim_id, tag) VALUES (?,?)", tags)
cur.executemany("INSERT INTO claim_reviewers (claim_id, reviewer_id) VALUES (?,?)", assign)
cur.executemany("INSERT INTO criteria_versions (claim_id, version, criteria, deadline, recorded_at) VALUES (?,?,?,?,?)", versions)
cur.executemany("INSERT INTO resolutions (claim_id, verdict, evidence, note, reviewer_id, resolved_on, recorded_at) VALUES (?,?,?,?,?,?,?)", resolutions)
conn.commit()
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "peak_mb": peak_mb(), "created": len(claims)}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=1_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    src = args.out / "claims-bench.yaml"
    start = time.perf_counter()
    generate(src, args.claims, args.sources)
    print(
        f"generated {src} ({src.stat().st_size / 1e6:.1f} MB, {args.claims:,} claims, "
        f"{args.sources:,} sources) in {time.perf_counter() - start:.1f} s"
    )

    for name in ("floor.db", "import.db"):
        for suffix in ("", "-wal", "-shm"):
            (args.out / (name + suffix)).unlink(missing_ok=True)
    floor = run_child(FLOOR, str(args.out / "floor.db"), str(src))
    tracked = run_child(IMPORT, str(args.out / "import.db"), str(src))
    again = run_child(REIMPORT, str(args.out / "import.db"), str(src))
    assert tracked["created"] == floor["created"] == args.claims, (tracked, floor)
    assert again["created"] == 0 and again["unchanged"] == args.claims, again

    ratio = tracked["wall"] / floor["wall"]
    rows = [
        ("floor: CSafeLoader + sqlite3 executemany", floor["wall"], floor["peak_mb"], ""),
        ("tracker import (new database)", tracked["wall"], tracked["peak_mb"], f"{ratio:.2f}x floor"),
        (
            "tracker import again (no changes)",
            again["wall"],
            again["peak_mb"],
            f"{again['wall'] / floor['wall']:.2f}x floor",
        ),
    ]
    print(f"\n{'run':44} {'wall s':>8} {'peak MB':>8}  vs floor")
    for label, wall, peak, note in rows:
        print(f"{label:44} {wall:8.2f} {peak:8.0f}  {note}")
    ok_time = ratio <= 1.5
    ok_mem = tracked["peak_mb"] <= 300 and again["peak_mb"] <= 300
    print(f"\ntarget wall <= 1.5x floor: {'met' if ok_time else 'MISSED'} ({ratio:.2f}x)")
    print(
        f"target peak <= 300 MB:     {'met' if ok_mem else 'MISSED'} "
        f"({max(tracked['peak_mb'], again['peak_mb']):.0f} MB)"
    )


if __name__ == "__main__":
    main()
