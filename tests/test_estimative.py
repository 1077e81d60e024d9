"""The estimative scale: ICD 203 bands, the phrase table, normalisation and overrides."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.errors import TrackerError
from tracker.estimative import (
    DEFAULT_PHRASES,
    ICD_203_BANDS,
    UNSCORED,
    EstimativeScale,
    UnknownPhrase,
    normalise,
)

SCALE = EstimativeScale()
BANDS = {band.name: band for band in ICD_203_BANDS}

# ICD 203 ranges (FIELD.md), and the midpoints tracker scores them at.
MIDPOINTS = {
    "almost no chance": 0.03,
    "very unlikely": 0.125,
    "unlikely": 0.325,
    "roughly even chance": 0.5,
    "likely": 0.675,
    "very likely": 0.875,
    "almost certain": 0.97,
}


@pytest.mark.parametrize(("band", "midpoint"), MIDPOINTS.items())
def test_band_names_map_to_their_midpoints(band: str, midpoint: float) -> None:
    estimate = SCALE.estimate(band)
    assert estimate.probability == pytest.approx(midpoint)
    assert estimate.band == band


def test_bands_are_the_icd_203_scale() -> None:
    assert [b.name for b in ICD_203_BANDS] == list(MIDPOINTS)
    assert (ICD_203_BANDS[0].low, ICD_203_BANDS[-1].high) == (0.01, 0.99)


def test_bands_are_contiguous_and_within_unit_interval() -> None:
    for band in ICD_203_BANDS:
        assert 0.0 <= band.low < band.high <= 1.0
    for lower, upper in itertools.pairwise(ICD_203_BANDS):
        assert lower.high == upper.low


def test_every_phrase_maps_to_a_band_or_unscored() -> None:
    unknown = {
        phrase: target for phrase, target in DEFAULT_PHRASES.items() if target not in {*BANDS, UNSCORED}
    }
    assert unknown == {}


def test_phrases_are_stored_normalised() -> None:
    # A phrase whose key is not in normal form could never be looked up.
    assert [p for p in DEFAULT_PHRASES if normalise(p) != p] == []


@pytest.mark.parametrize("hedge", ["may", "might", "could", "May", "possibly", "cannot rule out"])
def test_hedges_are_unscored(hedge: str) -> None:
    estimate = SCALE.estimate(hedge)
    assert (estimate.probability, estimate.band) == (None, None)
    assert estimate.words == hedge


@pytest.mark.parametrize(
    ("words", "band"),
    [
        ("  LIKELY. ", "likely"),
        ("We  Think!", "likely"),
        ("\u201cprobably\u201d", "likely"),  # curly double quotes are punctuation too
        ("won\u2019t", "almost no chance"),  # curly apostrophe
        ("\u2018remote\u2019", "almost no chance"),
        ('"Almost\tCertain"', "almost certain"),
        ("probably not?", "unlikely"),
    ],
)
def test_words_are_normalised_before_lookup(words: str, band: str) -> None:
    assert SCALE.estimate(words).band == band


def test_unknown_phrase_suggests_the_nearest() -> None:
    with pytest.raises(
        UnknownPhrase, match=r"'likley' is not on the estimative scale; did you mean 'likely'\?"
    ):
        SCALE.estimate("likley")


def test_unknown_phrase_without_a_near_match_points_to_the_readme() -> None:
    with pytest.raises(UnknownPhrase, match="see README 'Estimative scale'"):
        SCALE.estimate("xyzzy plugh")


def test_unknown_phrase_is_a_tracker_error() -> None:
    assert issubclass(UnknownPhrase, TrackerError)


def test_override_with_a_band_name() -> None:
    scale = EstimativeScale.with_overrides({"Odds-On": "Likely"})
    assert scale.estimate("odds-on").band == "likely"
    assert scale.estimate("odds-on").probability == pytest.approx(MIDPOINTS["likely"])
    assert scale.estimate("probably").band == "likely"  # the defaults stay


@pytest.mark.parametrize("value", ["0.6", 0.6])
def test_override_with_a_number(value: str | float) -> None:
    estimate = EstimativeScale.with_overrides({"sixty-forty": value}).estimate("sixty-forty")  # type: ignore[dict-item]
    assert (estimate.probability, estimate.band) == (0.6, None)


def test_override_can_unscore_a_default_phrase() -> None:
    scale = EstimativeScale.with_overrides({"will": "unscored"})
    assert scale.estimate("will").probability is None
    assert SCALE.estimate("will").band == "almost certain"  # the shared default is untouched


def test_override_with_an_invalid_value_names_the_phrase() -> None:
    with pytest.raises(TrackerError, match="estimative_phrases: 'odds-on': 'sorta' is not a band"):
        EstimativeScale.with_overrides({"odds-on": "sorta"})


@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_override_with_a_number_out_of_range(value: str) -> None:
    with pytest.raises(TrackerError, match=r"outside \[0, 1\]"):
        EstimativeScale.with_overrides({"odds-on": value})


def test_rows_list_every_phrase_once_sorted() -> None:
    rows = SCALE.rows()
    phrases = [phrase for phrase, _band, _probability in rows]
    assert phrases == sorted({*DEFAULT_PHRASES, *BANDS})
    assert ("may", UNSCORED, "-") in rows
    assert ("likely", "likely", "0.675") in rows


_DECORATIONS = st.sampled_from(["", " ", ".", "!", "?", '"', "'", "\u201c", "\t"])


@given(
    phrase=st.sampled_from(sorted({*DEFAULT_PHRASES, *BANDS})),
    upper=st.booleans(),
    before=_DECORATIONS,
    after=_DECORATIONS,
)
def test_any_known_phrase_lands_in_its_band_or_is_unscored(
    phrase: str, upper: bool, before: str, after: str
) -> None:
    words = before + (phrase.upper() if upper else phrase) + after
    estimate = SCALE.estimate(words)
    target = DEFAULT_PHRASES.get(phrase, phrase)
    if target == UNSCORED:
        assert estimate.probability is None
    else:
        band = BANDS[target]
        assert estimate.band == band.name
        assert estimate.probability is not None
        assert band.low <= estimate.probability <= band.high


def test_read_words_says_the_band_its_range_and_the_score_or_why_not() -> None:
    from tracker.estimative import read_words

    scale = EstimativeScale.with_overrides({"a safe bet": "0.9"})
    likely = read_words(scale, "Likely")
    assert (likely.scored, likely.probability, likely.text) == (
        True,
        0.675,
        "'Likely' \u2192 likely, 55%\u201380%, scored as 68%",
    )
    assert read_words(scale, "may").text == "'may' is a hedge: it will not be scored"
    assert read_words(scale, "a safe bet").text == "'a safe bet': 90% (this deployment's own phrase)"
    unknown = read_words(scale, "probablee")
    assert (unknown.known, unknown.scored) == (False, False) and "did you mean 'probable'" in unknown.text
