"""`tracker claims ...`: list, show, add and revise claims."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tracker import rules, services, textrules
from tracker.app import App
from tracker.cli.app import pass_app
from tracker.cli.output import emit_json, info
from tracker.cli.params import (
    DATE,
    DAY,
    LONG_TEXT,
    RelativeDay,
    TextType,
    json_option,
    now_option,
    resolve_day,
    resolve_now,
)
from tracker.cli.render import claim_detail, claim_summary, claim_text, claims_table
from tracker.errors import TrackerError
from tracker.estimative import UnknownPhrase
from tracker.models import DEADLINE_KINDS, Appearance, Claim, ClaimKind, ClaimTag, Reviewer, Source


@click.group()
def claims() -> None:
    """Predictions, factual claims and promises."""


@claims.command("list")
@click.option("--source", metavar="SLUG", help="Claims by this source or its members.")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in ClaimKind]),
    help="Only predictions, only facts or only promises.",
)
@click.option(
    "--status",
    type=click.Choice(services.STATUS_FILTERS),
    help="open, resolved, awaiting (a second verdict), disputed, or overdue (open predictions and "
    "promises past their deadline).",
)
@click.option(
    "--due-before",
    type=DAY,
    help="Deadline strictly before this date: YYYY-MM-DD, today, tomorrow, or +Nd (days from --now).",
)
@click.option("--tag", help="Claims with this tag.")
@now_option
@json_option
@pass_app
def list_claims(
    app: App,
    source: str | None,
    kind: str | None,
    status: str | None,
    due_before: dt.date | RelativeDay | None,
    tag: str | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """List claims, soonest deadline first."""
    now = resolve_now(now)
    zone = app.settings.timezone
    due_date = resolve_day(due_before, now, zone)
    with app.begin(write=False) as session:
        found = services.list_claims(
            session,
            source=source,
            kind=kind,
            status=status,
            due_before=due_date,
            tag=tag,
            now=now,
            default_timezone=zone,
        )
        if as_json:
            emit_json([claim_summary(c) for c in found])
        elif found:
            click.echo(claims_table(found, now, zone))
        else:
            click.echo("no claims match")


@claims.command("show")
@click.argument("claim_id", metavar="ID")
@click.option(
    "--as",
    "viewer",
    metavar="HANDLE",
    default=None,
    help="Show it as this reviewer sees it: a blind first verdict is shown to its author only.",
)
@now_option
@json_option
@pass_app
def show(app: App, claim_id: str, viewer: str | None, now: dt.datetime | None, as_json: bool) -> None:
    """Show one claim with its criteria and verdict histories.

    While a claim awaits the second of two verdicts, the first is hidden (blind review)
    unless --as names the reviewer who gave it.
    """
    now = resolve_now(now)
    with app.begin(write=False) as session:
        claim = services.get_claim(session, claim_id)
        if viewer is not None:
            services.get_reviewer(session, viewer)  # a misspelt handle is an error, not a blind view
        if as_json:
            emit_json(claim_detail(claim, now, app.settings.timezone, viewer))
        else:
            click.echo(claim_text(claim, now, app.settings.timezone, viewer))


UNSTATED = "unstated"  # the answer (and the claims file's value) for a prediction with no likelihood

# (option name, flag, prompt) of what `claims add` cannot do without, common ones first.
REQUIRED: list[tuple[str, str, str]] = [
    ("key", "--id", "Claim id (letters, digits, '-')"),
    ("kind", "--kind", "Kind"),
    ("source", "--source", "Source slug"),
    ("statement", "--statement", "Testable statement"),
    ("quote", "--quote", "Verbatim quote"),
    ("made_on", "--made-on", "Made on (YYYY-MM-DD)"),
]
PREDICTION_REQUIRED: list[tuple[str, str, str]] = [
    ("criteria", "--criteria", "Resolution criteria"),
    ("deadline", "--deadline", "Deadline (YYYY-MM-DD)"),
]


def missing_flags(values: dict[str, Any]) -> list[str]:
    """The flags `claims add` still needs, given the values so far."""
    needed = list(REQUIRED)
    if values.get("kind") in (None, *DEADLINE_KINDS):
        needed += PREDICTION_REQUIRED
    missing = [flag for name, flag, _ in needed if values.get(name) in (None, "")]
    if (
        values.get("kind") in (None, ClaimKind.PREDICTION)
        and values["probability"] is None
        and not values["confidence"]
        and not values["unstated"]
    ):
        missing.append("--probability, --confidence or --unstated")
    return missing


def _words(answer: str) -> list[str]:
    """A list typed on one line, separated by commas or spaces."""
    return list(dict.fromkeys(answer.replace(",", " ").split()))


class Prompter:
    """Asks `claims add`'s questions, checking each answer as it is typed.

    A bad answer is asked again with the field's problem (click.prompt shows a
    click.BadParameter and re-asks), so the claim is right by the last question
    instead of refused after it. The checks are the ones `services.add_claim` and
    the claims file apply; lookups each open a short read-only unit of work, so no
    transaction stays open while someone types.
    """

    def __init__(self, app: App, now: dt.datetime, ask: Callable[..., Any] = click.prompt) -> None:
        self.app = app
        self.now = now
        self.ask = ask

    def _lookup(self, find: Callable[[Session], object]) -> None:
        with self.app.begin(dry_run=True) as session:
            try:
                find(session)
            except TrackerError as exc:
                raise click.BadParameter(str(exc)) from None

    def _text(
        self, column: InstrumentedAttribute[Any] | None, *, multiline: bool = False
    ) -> Callable[[str], str]:
        kind = TextType(column, multiline=multiline)

        def check(answer: str) -> str:
            text = kind.convert(answer, None, None).strip()
            if not text:
                raise click.BadParameter("an answer is required")
            return text

        return check

    def _optional(self, check: Callable[[str], Any]) -> Callable[[str], Any]:
        return lambda answer: check(answer) if answer.strip() else None

    def _key(self, answer: str) -> str:
        key = self._text(Claim.key)(answer)
        if problem := rules.check_identifier(key, "id", max_length=textrules.max_length(Claim.key) or 200):
            raise click.BadParameter(problem)

        def unused(session: Session) -> None:
            if session.scalar(select(Claim.id).where(Claim.key == key)) is not None:
                raise TrackerError(f"claim {key!r} already exists")

        self._lookup(unused)
        return key

    def _source(self, answer: str) -> str:
        slug = self._text(Source.slug)(answer)
        self._lookup(lambda session: services.get_source(session, slug))
        return slug

    def _date(self, answer: str) -> dt.date:
        return DATE.convert(answer.strip(), None, None)

    def _made_on(self, answer: str) -> dt.date:
        made_on = self._date(answer)
        if problem := rules.check_not_future(made_on, "made_on", self.now):
            raise click.BadParameter(problem)
        return made_on

    def _deadline(self, made_on: dt.date, window_start: dt.date | None) -> Callable[[str], dt.date]:
        def check(answer: str) -> dt.date:
            deadline = self._date(answer)
            if problem := rules.check_deadline(made_on, deadline, window_start):
                raise click.BadParameter(problem)
            return deadline

        return check

    def _forecast(self, quote: str) -> Callable[[str], float | str]:
        def check(answer: str) -> float | str:
            text = self._text(Claim.confidence)(answer)
            if text.lower() == UNSTATED:
                return UNSTATED
            try:
                return self._probability(float(text))
            except ValueError:
                pass
            try:
                self.app.scale.estimate(text)
            except UnknownPhrase as exc:
                raise click.BadParameter(str(exc)) from None
            if not rules.phrase_in_quote(text, quote):
                raise click.BadParameter(
                    f"{text!r} does not occur in the quote; the words must be the source's"
                )
            return text

        return check

    @staticmethod
    def _probability(probability: float) -> float:
        if problem := rules.check_probability(probability):
            raise click.BadParameter(problem)
        return probability

    def _url(self, answer: str) -> str:
        url = self._text(Appearance.url)(answer)
        if problem := rules.check_url(url):
            raise click.BadParameter(problem)
        return url

    def _tags(self, answer: str) -> list[str]:
        tags = list(dict.fromkeys(t.strip() for t in answer.split(",") if t.strip()))
        for tag in tags:
            if problem := textrules.check_text(tag, ClaimTag.tag) or rules.check_tag(tag):
                raise click.BadParameter(problem)
        return tags

    def _reviewers(self, answer: str) -> list[str]:
        handles = _words(answer)

        def known(session: Session) -> None:
            for handle in handles:
                services.get_reviewer(session, handle)

        self._lookup(known)
        return handles

    def fill(self, values: dict[str, Any]) -> None:
        """Ask for each missing value in turn (the kind decides what else is needed)."""
        ask = self.ask
        checks: dict[str, Callable[[str], Any]] = {
            "key": self._key,
            "kind": lambda a: click.Choice([k.value for k in ClaimKind]).convert(
                a.strip().lower(), None, None
            ),
            "source": self._source,
            "statement": self._text(None, multiline=True),
            "quote": self._text(None, multiline=True),
            "made_on": self._made_on,
        }
        for name, _, text in REQUIRED:
            if values.get(name) in (None, ""):
                values[name] = ask(text, value_proc=checks[name])
        if values["kind"] in DEADLINE_KINDS:
            if values.get("criteria") in (None, ""):
                values["criteria"] = ask("Resolution criteria", value_proc=self._text(None, multiline=True))
            if values.get("deadline") is None:
                check = self._deadline(values["made_on"], values.get("window_start"))
                values["deadline"] = ask("Deadline (YYYY-MM-DD)", value_proc=check)
            # A promise is kept or broken, never forecast: no probability to ask for.
            if (
                values["kind"] == ClaimKind.PREDICTION
                and values["probability"] is None
                and not values["confidence"]
                and not values["unstated"]
            ):
                forecast = ask(
                    "Probability (0-1), the source's words as in the quote (e.g. 'very likely'), "
                    "or 'unstated' when it gave none",
                    value_proc=self._forecast(values["quote"]),
                )
                if forecast == UNSTATED:
                    values["unstated"] = True
                else:
                    values["probability" if isinstance(forecast, float) else "confidence"] = forecast
            if values["probability"] is not None and not values["probability_basis"]:
                values["probability_basis"] = ask(
                    "Where the number comes from (the source's words or figure)",
                    value_proc=self._text(Claim.probability_basis, multiline=True),
                )
        # Optional: an empty answer skips each one.
        if values["url"] is None and not (values["title"] or values["author"] or values["published"]):
            values["url"] = ask(
                "Article URL (empty: none)",
                default="",
                show_default=False,
                value_proc=self._optional(self._url),
            )
            if values["url"] is not None:
                for name, column, text in (
                    ("title", Appearance.title, "Article title"),
                    ("author", Appearance.author, "Article author"),
                ):
                    values[name] = ask(
                        f"{text} (empty: none)",
                        default="",
                        show_default=False,
                        value_proc=self._optional(self._text(column)),
                    )
                values["published"] = ask(
                    "Published on (YYYY-MM-DD; empty: unknown)",
                    default="",
                    show_default=False,
                    value_proc=self._optional(self._date),
                )
        if not values["tags"]:
            values["tags"] = tuple(
                ask(
                    "Tags (commas between; empty: none)",
                    default="",
                    show_default=False,
                    value_proc=self._tags,
                )
            )
        if not values["reviewer_handles"]:
            values["reviewer_handles"] = tuple(
                ask(
                    "Reviewers' handles (commas or spaces between; empty: none)",
                    default="",
                    show_default=False,
                    value_proc=self._reviewers,
                )
            )


@claims.command("add")
@click.option(
    "--id",
    "key",
    type=TextType(Claim.key),
    metavar="ID",
    help="Stable, unique id, e.g. kim-tones-down-after-song-visit.",
)
@click.option("--kind", type=click.Choice([k.value for k in ClaimKind]))
@click.option("--source", type=TextType(Source.slug), metavar="SLUG", help="Who made the claim.")
@click.option("--statement", type=LONG_TEXT, help="The claim, stated so that it can be checked.")
@click.option("--quote", type=LONG_TEXT, help="The source's words, verbatim.")
@click.option("--made-on", type=DATE)
@click.option("--probability", type=float, help="Stated probability, 0 to 1 (predictions).")
@click.option(
    "--probability-basis",
    type=LONG_TEXT,
    metavar="TEXT",
    help="Where a bare --probability comes from (required with it).",
)
@click.option(
    "--unstated",
    is_flag=True,
    help="The source committed to an outcome with no words of likelihood: recorded, never scored.",
)
@click.option(
    "--confidence",
    type=TextType(Claim.confidence),
    metavar="WORDS",
    help="The source's words, mapped through `tracker scale`.",
)
@click.option(
    "--criteria", type=LONG_TEXT, help="How a reviewer decides the outcome (predictions, promises)."
)
@click.option("--deadline", type=DATE, help="Last day the prediction can come true, or the promise be kept.")
@click.option("--window-start", type=DATE, help="First day that counts, when there is a window.")
@click.option(
    "--timezone",
    type=TextType(Claim.timezone),
    help="Timezone the deadline is read in (default: the configured one).",
)
@click.option("--as-of", type=DATE, help="Date a fact is judged at (default: made-on).")
@click.option("--url", type=TextType(Appearance.url), help="Article the claim appeared in.")
@click.option("--title", type=TextType(Appearance.title), help="Article title.")
@click.option("--author", type=TextType(Appearance.author), help="Article author.")
@click.option("--published", type=DATE, help="Article publication date.")
@click.option("--tag", "tags", type=TextType(ClaimTag.tag), multiple=True, help="Tag (repeatable).")
@click.option(
    "--reviewer",
    "reviewer_handles",
    type=TextType(Reviewer.handle),
    multiple=True,
    metavar="HANDLE",
    help="Assign (repeatable).",
)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Prompt for missing fields (default: when stdin is a terminal).",
)
@now_option
@json_option
@pass_app
def add(app: App, /, interactive: bool | None, now: dt.datetime | None, as_json: bool, **values: Any) -> None:
    """Add a claim; prompts for what is missing when run interactively."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    if interactive:
        Prompter(app, resolve_now(now)).fill(values)
    missing = missing_flags(values)
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)}")
    url, title, author, published = (values.pop(k) for k in ("url", "title", "author", "published"))
    if url is None and (title or author or published):
        raise click.UsageError("--title, --author and --published describe an article: give its --url too")
    appearance = {"url": url, "title": title, "author": author, "published": published} if url else None
    with app.begin() as session:
        claim = services.add_claim(
            session,
            source_slug=values.pop("source"),
            appearance=appearance,
            scale=app.scale,
            now=resolve_now(now),
            file_rules=True,  # the claims file's rules: words from the quote, a number's basis
            **values,
        )
        if as_json:
            emit_json(claim_summary(claim))
        else:
            click.echo(f"added {claim.kind} {claim.key}")
        if not claim.reviewers:
            # Allowed (reviewers can be assigned later), but no one would be reminded of it.
            info(
                f"warning: claim {claim.key} has no reviewer, so no one will be reminded of it; "
                f"assign one with `tracker assign {claim.key} HANDLE`"
            )


@claims.command("revise")
@click.argument("claim_id", metavar="ID")
@click.option("--criteria", type=LONG_TEXT, help="New resolution criteria (default: unchanged).")
@click.option("--deadline", type=DATE, help="New deadline (default: unchanged).")
@click.option("--window-start", type=DATE, help="New window start (default: unchanged).")
@click.option("--timezone", type=TextType(Claim.timezone), help="New timezone (default: unchanged).")
@now_option
@json_option
@pass_app
def revise(
    app: App,
    claim_id: str,
    criteria: str | None,
    deadline: dt.date | None,
    window_start: dt.date | None,
    timezone: str | None,
    now: dt.datetime | None,
    as_json: bool,
) -> None:
    """Record new resolution criteria as a new version; earlier versions stay visible."""
    with app.begin() as session:
        claim = services.get_claim(session, claim_id, lock=True)
        if claim.criteria is None or claim.deadline is None:
            raise TrackerError(f"claim {claim_id!r}: only predictions and promises have resolution criteria")
        entry = services.revise_criteria(
            session,
            claim,
            criteria if criteria is not None else claim.criteria,
            deadline or claim.deadline,
            window_start or claim.window_start,
            timezone or claim.timezone,
            resolve_now(now),
        )
        version = entry.version if entry else len(claim.criteria_versions)
    if as_json:
        emit_json({"key": claim_id, "version": version, "changed": entry is not None})
    elif entry is None:
        info(f"criteria of {claim_id} unchanged (version {version})")
    else:
        click.echo(f"recorded criteria version {version} of {claim_id}")
