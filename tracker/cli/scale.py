"""`tracker scale`: the estimative scale in force."""

from __future__ import annotations

import click

from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import Column, emit_json, table
from tracker.cli.params import json_option
from tracker.estimative import UNSCORED


@click.command()
@json_option
@pass_app
def scale(app: App, as_json: bool) -> None:
    """Show the bands and the phrases that map words to probabilities."""
    bands = [
        {"band": b.name, "low": b.low, "high": b.high, "probability": b.midpoint} for b in app.scale.bands
    ]
    phrases = []
    for phrase, band, _ in app.scale.rows():
        estimate = app.scale.estimate(phrase)
        phrases.append(
            {
                "phrase": phrase,
                "band": estimate.band,
                "probability": estimate.probability,
                "scored": band != UNSCORED,
            }
        )
    if as_json:
        emit_json({"bands": bands, "phrases": phrases})
        return
    click.echo("Bands (ICD 203); a phrase gets its band's midpoint:\n")
    band_rows = [[b.name, f"{b.low:.0%}-{b.high:.0%}", f"{b.midpoint:.3g}"] for b in app.scale.bands]
    click.echo(table([Column("BAND"), Column("RANGE"), Column("P", align=">")], band_rows))
    click.echo("\nPhrases (unscored ones name no probability and stay out of scores):\n")
    phrase_rows = [[p, b, pr] for p, b, pr in app.scale.rows()]
    click.echo(
        table(
            [Column("PHRASE", min_width=12), Column("BAND", min_width=8), Column("P", align=">")], phrase_rows
        )
    )
