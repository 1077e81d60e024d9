"""Fact figures: the verdict distribution and the accuracy index, by hand, against numpy, and as properties."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.scoring import FACT_ACCURACY, FACT_VERDICTS, ScoredFact, accuracy_index, score_facts, slice_facts

MADE = dt.date(2025, 1, 1)


def fact(key: str, verdict: str | None, **kw: object) -> ScoredFact:
    fields: dict[str, object] = {"made_on": MADE} | kw
    return ScoredFact(key, verdict, **fields)  # type: ignore[arg-type]


def test_mapping_is_the_documented_one() -> None:
    assert dict(FACT_ACCURACY) == {
        "true": 1.0,
        "mostly-true": 0.75,
        "half-true": 0.5,
        "mostly-false": 0.25,
        "false": 0.0,
    }
    assert "unverifiable" not in FACT_ACCURACY


def test_distribution_and_accuracy_by_hand() -> None:
    facts = [
        fact("a", "true"),
        fact("b", "true"),
        fact("c", "mostly-false"),
        fact("d", "false"),
        fact("e", "unverifiable"),
        fact("f", None),
    ]
    scores = score_facts(facts)
    assert (scores.total, scores.open, scores.checked, scores.rated, scores.unverifiable) == (6, 1, 5, 4, 1)
    assert [(s.verdict, s.count) for s in scores.distribution] == [
        ("true", 2),
        ("mostly-true", 0),
        ("half-true", 0),
        ("mostly-false", 1),
        ("false", 1),
        ("unverifiable", 1),
    ]
    assert [s.share for s in scores.distribution] == [0.4, 0.0, 0.0, 0.2, 0.2, 0.2]
    # (1 + 1 + 0.25 + 0) / 4: the unverifiable and the unchecked fact are not rated.
    assert scores.accuracy == pytest.approx(0.5625)
    assert scores.too_few and not score_facts(facts, min_sample=4).too_few


def test_nothing_checked() -> None:
    scores = score_facts([fact("a", None), fact("b", "unverifiable")])
    assert scores.accuracy is None and scores.rated == 0 and scores.too_few
    assert score_facts([]).distribution[0].share is None


def test_unresolving_a_fact_rescores_it() -> None:
    facts = [fact("a", "true"), fact("b", "false")]
    assert score_facts(facts).accuracy == 0.5
    reopened = [dataclasses.replace(facts[1], verdict=None), facts[0]]
    scores = score_facts(reopened)
    assert scores.accuracy == 1.0 and scores.open == 1


@pytest.mark.parametrize("seed", range(4))
def test_accuracy_and_shares_match_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    verdicts = [None if v == "open" else str(v) for v in rng.choice([*FACT_VERDICTS, "open"], 300)]
    scores = score_facts([fact(str(i), v) for i, v in enumerate(verdicts)])
    rated = np.array([FACT_ACCURACY[v] for v in verdicts if v is not None and v in FACT_ACCURACY])
    assert scores.accuracy == pytest.approx(rated.mean(), abs=1e-12)
    checked = np.array([v for v in verdicts if v is not None])
    for share in scores.distribution:
        assert share.share == pytest.approx(np.mean(checked == share.verdict), abs=1e-12)


def test_bad_verdict_is_refused() -> None:
    with pytest.raises(ValueError):
        fact("x", "ambiguous")  # a prediction verdict, not on the fact scale


def test_slice_facts() -> None:
    facts = [
        fact("a", "true", tags=("health",)),
        fact("b", "false", made_on=dt.date(2025, 2, 1)),
        fact("c", "true", made_on=dt.date(2025, 3, 1), tags=("health",)),
    ]
    assert [f.key for f in slice_facts(facts, tag="health")] == ["a", "c"]
    assert [f.key for f in slice_facts(facts, made_from=dt.date(2025, 2, 1))] == ["b", "c"]
    assert [f.key for f in slice_facts(facts, made_before=dt.date(2025, 3, 1))] == ["a", "b"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([None, *FACT_VERDICTS]), max_size=50), st.randoms(use_true_random=False))
def test_accuracy_is_bounded_and_order_free(verdicts: list[str | None], rnd: object) -> None:
    index = accuracy_index(verdicts)
    assert index is None or 0.0 <= index <= 1.0
    facts = [fact(str(i), v) for i, v in enumerate(verdicts)]
    shuffled = list(facts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert score_facts(shuffled) == score_facts(facts)
