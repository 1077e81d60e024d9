"""Estimative language: from a source's own words to the probability they imply.

The bands are the US Intelligence Community's ICD 203 scale. A phrase maps to a band
and gets the band's midpoint; hedges that name no probability ("may", "could",
"might") are recorded but unscored rather than guessed. Deployments can add or
override phrases with the `estimative_phrases` setting.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tracker.errors import TrackerError
from tracker.formatting import interval, percent


@dataclass(frozen=True)
class Band:
    """One band of the scale, with its probability range."""

    name: str
    low: float
    high: float

    @property
    def midpoint(self) -> float:
        return round((self.low + self.high) / 2, 4)


# ICD 203 (2015), "Analytic Standards", section D.6.e(2)(a).
ICD_203_BANDS: tuple[Band, ...] = (
    Band("almost no chance", 0.01, 0.05),
    Band("very unlikely", 0.05, 0.20),
    Band("unlikely", 0.20, 0.45),
    Band("roughly even chance", 0.45, 0.55),
    Band("likely", 0.55, 0.80),
    Band("very likely", 0.80, 0.95),
    Band("almost certain", 0.95, 0.99),
)

UNSCORED = "unscored"

# What analysts and pundits actually write, mapped onto the bands. ICD 203 also
# lists its own synonyms (remote, highly improbable, improbable, probable, highly
# probable, nearly certain); the rest are the commonest phrasings in commentary.
DEFAULT_PHRASES: dict[str, str] = {
    # almost no chance
    "remote": "almost no chance",
    "no chance": "almost no chance",
    "will not": "almost no chance",
    "won't": "almost no chance",
    "certainly not": "almost no chance",
    "almost certainly not": "almost no chance",
    # very unlikely
    "highly improbable": "very unlikely",
    "highly unlikely": "very unlikely",
    "very doubtful": "very unlikely",
    # unlikely
    "improbable": "unlikely",
    "probably not": "unlikely",
    "doubt": "unlikely",
    "we doubt": "unlikely",
    "doubtful": "unlikely",
    "not likely": "unlikely",
    # roughly even chance
    "roughly even odds": "roughly even chance",
    "even chance": "roughly even chance",
    "chances about even": "roughly even chance",
    "toss-up": "roughly even chance",
    "fifty-fifty": "roughly even chance",
    # likely
    "probable": "likely",
    "probably": "likely",
    "we believe": "likely",
    "we think": "likely",
    "we expect": "likely",
    "expect": "likely",
    "will likely": "likely",
    "we assess": "likely",
    "should": "likely",
    # very likely
    "highly probable": "very likely",
    "highly likely": "very likely",
    "we are confident": "very likely",
    "very probably": "very likely",
    # almost certain
    "nearly certain": "almost certain",
    "will": "almost certain",
    "certainly": "almost certain",
    "definitely": "almost certain",
    "certain": "almost certain",
    "no doubt": "almost certain",
    "is going to": "almost certain",
    # Hedges: they name no probability, so scoring them would be a guess.
    "may": UNSCORED,
    "might": UNSCORED,
    "could": UNSCORED,
    "possibly": UNSCORED,
    "perhaps": UNSCORED,
    "maybe": UNSCORED,
    "it is possible": UNSCORED,
    "cannot rule out": UNSCORED,
    "we'll see": UNSCORED,
}


_STRAIGHT_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalise(words: str) -> str:
    """Lower-case, straighten quotes, collapse spaces and drop surrounding punctuation."""
    words = words.translate(_STRAIGHT_QUOTES).lower()
    words = re.sub(r"\s+", " ", words)
    return words.strip(" \t\"'.,;:!?")


@dataclass(frozen=True)
class Estimate:
    """What a phrase implies: a probability and its band, or unscored (probability None)."""

    words: str
    probability: float | None
    band: str | None


class UnknownPhrase(TrackerError):
    """The words are not on the estimative scale."""


@dataclass(frozen=True)
class EstimativeScale:
    """Bands plus a phrase table; `estimate()` turns words into an Estimate."""

    bands: tuple[Band, ...] = ICD_203_BANDS
    phrases: Mapping[str, str | float] = field(default_factory=lambda: dict(DEFAULT_PHRASES))

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, str]) -> EstimativeScale:
        """The default scale with phrases added or replaced (values: band, number or unscored)."""
        bands = {b.name: b for b in ICD_203_BANDS}
        phrases: dict[str, str | float] = dict(DEFAULT_PHRASES)
        for raw_phrase, raw_value in overrides.items():
            value = normalise(str(raw_value))
            if value in bands or value == UNSCORED:
                phrases[normalise(raw_phrase)] = value
                continue
            try:
                number = float(str(raw_value).strip())  # before normalising, which would eat ".5"'s dot
            except ValueError:
                raise TrackerError(
                    f"estimative_phrases: {raw_phrase!r}: {raw_value!r} is not a band, "
                    f"a probability or {UNSCORED!r}"
                ) from None
            if not 0.0 <= number <= 1.0:
                raise TrackerError(f"estimative_phrases: {raw_phrase!r}: {number} is outside [0, 1]")
            phrases[normalise(raw_phrase)] = number
        return cls(bands=ICD_203_BANDS, phrases=phrases)

    def _table(self) -> dict[str, str | float]:
        table: dict[str, str | float] = {b.name: b.name for b in self.bands}
        table.update(self.phrases)
        return table

    def estimate(self, words: str) -> Estimate:
        """Map the source's words to an Estimate, or raise UnknownPhrase with a suggestion."""
        key = normalise(words)
        table = self._table()
        if key not in table:
            close = difflib.get_close_matches(key, table.keys(), n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]!r}?" if close else "; see README 'Estimative scale'"
            raise UnknownPhrase(f"{words!r} is not on the estimative scale{hint}")
        target = table[key]
        if isinstance(target, float):
            return Estimate(words=words, probability=target, band=None)
        if target == UNSCORED:
            return Estimate(words=words, probability=None, band=None)
        band = next(b for b in self.bands if b.name == target)
        return Estimate(words=words, probability=band.midpoint, band=band.name)

    def rows(self) -> list[tuple[str, str, str]]:
        """(phrase, band, probability) for documentation and `tracker scale`."""
        out: list[tuple[str, str, str]] = []
        for phrase, target in sorted(self._table().items(), key=lambda kv: kv[0]):
            if isinstance(target, float):
                out.append((phrase, "-", f"{target:.3g}"))
            elif target == UNSCORED:
                out.append((phrase, UNSCORED, "-"))
            else:
                band = next(b for b in self.bands if b.name == target)
                out.append((phrase, band.name, f"{band.midpoint:.3g}"))
        return out


@dataclass(frozen=True)
class Reading:
    """What a form says about the words as they are typed: scored or not, and why, in one line."""

    words: str
    scored: bool
    probability: float | None
    text: str  # "'likely' -> likely, 55%-80%, scored as 68%" (an en dash), or why it is not scored
    known: bool = True  # False: not on the scale (the text says so, with a suggestion)


def read_words(scale: EstimativeScale, words: str) -> Reading:
    """The one-line reading of `words` on `scale`, for the add form and its live preview."""
    try:
        found = scale.estimate(words)
    except UnknownPhrase as exc:
        return Reading(words, False, None, str(exc), known=False)
    if found.probability is None:
        return Reading(words, False, None, f"{words.strip()!r} is a hedge: it will not be scored")
    if found.band is None:
        text = f"{words.strip()!r}: {percent(found.probability)} (this deployment's own phrase)"
        return Reading(words, True, found.probability, text)
    band = next(b for b in scale.bands if b.name == found.band)
    range_text = interval(band.low, band.high, "pct")
    text = f"{words.strip()!r} \u2192 {band.name}, {range_text}, scored as {percent(found.probability)}"
    return Reading(words, True, found.probability, text)
