"""`tracker scores` and `tracker score SLUG`: every figure of tracker.scoring, for people and scripts."""

from __future__ import annotations

import datetime as dt

import click

from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import WIDTH, Column, emit_json, fields, table, wrap
from tracker.cli.params import json_option, now_option, resolve_now
from tracker.formatting import DASH, NONE, interval, number, percent
from tracker.scorecards.summary import SourceSummary, summarise_source, summarise_sources, summary_json
from tracker.scoring import BINNING_CHOICES, MIN_SAMPLE, SELECTION_NOTE, BinningChoice, SourceScores, rank_key

# The figures are written as the pages and digests write them (tracker.formatting).
_fixed = number
_percent = percent


def ranked(summaries: list[SourceSummary]) -> list[SourceSummary]:
    """Sources in index order: tracker.scoring.rank_key, ties by name."""
    by_name = sorted(summaries, key=lambda s: (s.source.name.casefold(), s.source.slug))
    return sorted(by_name, key=lambda s: rank_key(s.scores))


SCORE_COLUMNS = [
    Column("#", ">"),
    Column("source", min_width=8),
    Column("n", ">"),
    Column("Brier", ">"),
    Column("skill", ">"),
    Column("hit", ">"),
    Column("log", ">"),
    Column("facts", ">"),
    Column("acc", ">"),
    Column("", min_width=0),
]


def scores_table(summaries: list[SourceSummary], min_sample: int) -> str:
    """The ranked table, then what its columns mean."""
    rows = []
    for i, s in enumerate(ranked(summaries), 1):
        p, f = s.scores.predictions, s.scores.facts
        rows.append(
            [
                # A thin record is listed, never ranked: a number would read as a standing.
                NONE if p.too_few else str(i),
                s.source.slug,
                str(p.n_scored),
                _fixed(p.brier),
                _fixed(p.skill_vs_chance, 2, signed=True),
                _percent(p.hit_rate),
                _fixed(p.log_score, 2),
                str(f.rated),
                _percent(f.accuracy),
                "too few" if p.too_few else "",
            ]
        )
    legend = (
        "Ranked by Brier score, lowest first (0 is perfect; always saying 50% scores 0.25). "
        f"Sources with fewer than {min_sample} scored predictions are marked too few and ranked last. "
        "skill: Brier skill against always saying 50%. hit: share of forecasts whose favoured side "
        "happened. log: log score in nats. facts: rated fact-checks; acc: their accuracy index. "
        + SELECTION_NOTE
    )
    return table(SCORE_COLUMNS, rows) + "\n\n" + wrap(legend, "")


def _prediction_lines(scores: SourceScores) -> list[str]:
    p = scores.predictions
    c = p.counts
    head = (
        f"Predictions: {p.n_scored} scored of {c.total} (open {c.open}, overdue {c.overdue}, "
        f"true {c.resolved_true}, false {c.resolved_false}, ambiguous {c.ambiguous}, "
        f"annulled {c.annulled}, hedges {c.hedges})"
    )
    lines = [wrap(head, "")]
    if p.too_few:
        lines.append(f"  Too few to judge: fewer than {p.min_sample} scored predictions.")
    if p.n_scored == 0:
        return lines
    d = p.decomposition
    pairs = [
        ("Brier", f"{_fixed(p.brier)} (0 is perfect, always 50% scores 0.250)"),
        ("skill vs 50%", _fixed(p.skill_vs_chance, 3, signed=True)),
        ("skill vs base rate", _fixed(p.skill_vs_base_rate, 3, signed=True)),
        ("base rate", _percent(p.base_rate)),
        ("log score", f"{_fixed(p.log_score)} nats"),
        ("hit rate", _percent(p.hit_rate)),
        ("overconfidence", _fixed(p.overconfidence, 3, signed=True)),
    ]
    if d is not None:
        pairs.append(
            (
                "decomposition",
                f"reliability {_fixed(d.reliability)}, resolution {_fixed(d.resolution)}, "
                f"uncertainty {_fixed(d.uncertainty)}",
            )
        )
    lines.append("\n".join("  " + line for line in fields(pairs, WIDTH - 2).splitlines()))
    bins = [
        [
            _fixed(b.lower, 3) if b.lower == b.upper else f"{b.lower:.1f}{DASH}{b.upper:.1f}",
            str(b.n),
            _fixed(b.mean_forecast),
            _percent(b.observed),
            interval(b.ci_low, b.ci_high, "pct"),
        ]
        for b in p.calibration
    ]
    columns = [
        Column("bin"),
        Column("n", ">"),
        Column("forecast", ">"),
        Column("observed", ">"),
        Column("95% interval", ">"),
    ]
    lines.append("  Calibration")
    lines.extend("    " + line for line in table(columns, bins, WIDTH - 4).splitlines())
    return lines


def _fact_lines(scores: SourceScores) -> list[str]:
    f = scores.facts
    head = (
        f"Facts: {f.rated} rated of {f.total} (checked {f.checked}, unverifiable {f.unverifiable}, "
        f"open {f.open}); accuracy {_percent(f.accuracy)}"
    )
    lines = [wrap(head, "")]
    if f.checked:
        shares = ", ".join(f"{v.verdict} {v.count}" for v in f.distribution)
        lines.append(wrap(shares, "  "))
    return lines


def _promise_lines(scores: SourceScores) -> list[str]:
    t = scores.promises
    if not t.total:
        return []
    head = (
        f"Promises (tallied, never scored): {t.total}: kept {t.kept}, compromise {t.compromise}, "
        f"broken {t.broken}; open {t.open} (in the works {t.in_the_works}, stalled {t.stalled}, "
        f"not yet rated {t.not_yet_rated}, overdue {t.overdue})"
    )
    return [wrap(head, "")]


def score_text(summary: SourceSummary) -> str:
    """One source's figures, and with its members for an outlet, within 80 columns."""
    s = summary.source
    about = [("source", f"{s.name} ({s.slug}), {s.kind}")]
    if summary.member_of:
        about.append(("member of", summary.member_of))
    if summary.members:
        about.append(("members", ", ".join(summary.members)))
    blocks = [
        fields(about),
        *_prediction_lines(summary.scores),
        *_fact_lines(summary.scores),
        *_promise_lines(summary.scores),
    ]
    if summary.including_members is not None:
        blocks.append("")
        blocks.append(f"Including its members ({len(summary.members)}):")
        blocks.extend(_prediction_lines(summary.including_members))
        blocks.extend(_fact_lines(summary.including_members))
        blocks.extend(_promise_lines(summary.including_members))
    blocks.extend(["", wrap(SELECTION_NOTE, "")])
    return "\n".join(blocks)


def _score_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "--binning",
        type=click.Choice(BINNING_CHOICES),
        default="auto",
        show_default=True,
        help="Calibration bins: one per stated probability, deciles, or auto (one per "
        "probability up to 12 of them, deciles beyond).",
    )(func)
    return click.option(
        "--min-sample",
        type=click.IntRange(min=1),
        default=MIN_SAMPLE,
        show_default=True,
        metavar="N",
        help="Fewer scored predictions (or rated facts) than this is too few to judge.",
    )(func)


@click.command("scores")
@_score_options
@now_option
@json_option
@pass_app
def scores(app: App, min_sample: int, binning: BinningChoice, now: dt.datetime | None, as_json: bool) -> None:
    """Every source's figures: JSON by slug, or a table ranked by Brier score."""
    now = resolve_now(now)
    with app.begin(write=False) as session:
        found = summarise_sources(session, today=app.today(now), min_sample=min_sample, binning=binning)
    if as_json:
        emit_json([summary_json(s) for s in found])
    elif found:
        click.echo(scores_table(found, min_sample))
    else:
        click.echo("no sources")


@click.command("score")
@click.argument("slug")
@_score_options
@now_option
@json_option
@pass_app
def score(
    app: App, slug: str, min_sample: int, binning: BinningChoice, now: dt.datetime | None, as_json: bool
) -> None:
    """One source's figures, and an outlet's together with its members."""
    now = resolve_now(now)
    with app.begin(write=False) as session:
        found = summarise_source(session, slug, today=app.today(now), min_sample=min_sample, binning=binning)
    if as_json:
        emit_json(summary_json(found))
    else:
        click.echo(score_text(found))
