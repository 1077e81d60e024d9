"""The promise tally (tracker.scoring.promises): counts on the meter, and never a score."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.scoring import (
    PROGRESS_STATUSES,
    PROMISE_VERDICTS,
    PromiseTally,
    ScoredFact,
    ScoredPrediction,
    TalliedPromise,
    score_source,
    tally_promises,
)

TODAY = dt.date(2027, 1, 1)
MADE = dt.date(2026, 1, 1)


def test_the_tally_counts_verdicts_and_where_open_promises_stand() -> None:
    promises = [
        TalliedPromise("a", "kept", "in-the-works", MADE),  # progress no longer counts once rated
        TalliedPromise("b", "compromise", None, MADE),
        TalliedPromise("c", "broken", None, MADE),
        TalliedPromise("d", "broken", None, MADE),
        TalliedPromise("e", None, "in-the-works", MADE, deadline=dt.date(2026, 12, 31)),
        TalliedPromise("f", None, "stalled", MADE, deadline=TODAY),
        TalliedPromise("g", None, None, MADE, deadline=dt.date(2026, 6, 30)),
    ]
    tally = tally_promises(promises, today=TODAY)
    assert tally == PromiseTally(
        total=7, kept=1, compromise=1, broken=2, in_the_works=1, stalled=1, not_yet_rated=1, overdue=2
    )
    assert (tally.open, tally.rated) == (3, 4)
    assert tally_promises([], today=TODAY) == PromiseTally()


@pytest.mark.parametrize(("verdict", "progress"), [("true", None), (None, "done")])
def test_a_bad_record_is_a_bug_in_the_caller(verdict: str | None, progress: str | None) -> None:
    with pytest.raises(ValueError, match="is not a"):
        TalliedPromise("x", verdict, progress, MADE)


PROMISES = st.lists(
    st.builds(
        TalliedPromise,
        key=st.just("m"),
        verdict=st.sampled_from([None, *PROMISE_VERDICTS]),
        progress=st.sampled_from([None, *PROGRESS_STATUSES]),
        made_on=st.just(MADE),
        deadline=st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2028, 1, 1)),
    ),
    max_size=30,
)


@given(PROMISES)
def test_promises_never_change_a_score(promises: list[TalliedPromise]) -> None:
    predictions = [
        ScoredPrediction("p1", 0.8, "true", MADE, dt.date(2026, 6, 30), dt.date(2026, 7, 1)),
        ScoredPrediction("p2", 0.3, "true", MADE, dt.date(2026, 6, 30), dt.date(2026, 7, 1)),
        ScoredPrediction("p3", 0.6, None, MADE, dt.date(2026, 6, 30)),
    ]
    facts = [ScoredFact("f1", "half-true", MADE), ScoredFact("f2", None, MADE)]
    without = score_source(predictions, facts, today=TODAY)
    with_promises = score_source(predictions, facts, promises, today=TODAY)
    assert (with_promises.predictions, with_promises.facts) == (without.predictions, without.facts)
    assert with_promises.too_few == without.too_few
    tally = with_promises.promises
    assert tally.total == len(promises) == tally.rated + tally.open
