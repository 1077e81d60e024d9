"""Agreement of double reviewers: the share, and Cohen's kappa checked against scikit-learn's."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from tracker.scoring.agreement import Kappa, ReviewPair, Share, agreement, cohen_kappa


def _sklearn(first: list[str], second: list[str]) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its 0/0 warning on a single category
        value = float(cohen_kappa_score(first, second))
    return None if math.isnan(value) else value


CASES = [
    (["true", "false", "true", "true"], ["true", "false", "false", "true"]),
    (["true"] * 5 + ["false"] * 5, ["true"] * 4 + ["false"] * 6),
    (["true", "false"], ["false", "true"]),  # always disagree: negative kappa
    (["kept", "broken", "compromise", "kept"], ["kept", "broken", "compromise", "kept"]),  # perfect
    (["true", "mostly-true", "half-true"], ["mostly-true", "mostly-true", "false"]),
]


@pytest.mark.parametrize(("first", "second"), CASES)
def test_kappa_matches_scikit_learn(first: list[str], second: list[str]) -> None:
    ours = cohen_kappa(first, second)
    assert ours is not None
    assert ours == pytest.approx(_sklearn(first, second), abs=1e-12)


def test_a_worked_example() -> None:
    # 4 items: 3 agree (po = .75); raters use true 3/4 and 2/4 -> pe = (3*2 + 1*2) / 16 = .5.
    assert cohen_kappa(["true", "false", "true", "true"], ["true", "false", "false", "true"]) == 0.5


def test_undefined_kappas_are_none_as_scikit_learn_finds_them_undefined() -> None:
    assert cohen_kappa([], []) is None
    one_category = (["true", "true", "true"], ["true", "true", "true"])
    assert cohen_kappa(*one_category) is None
    assert _sklearn(*[list(x) for x in one_category]) is None
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa(["true"], [])


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=40
    )
)
def test_kappa_matches_scikit_learn_on_any_labels(labels: list[tuple[str, str]]) -> None:
    first, second = [a for a, _ in labels], [b for _, b in labels]
    ours, theirs = cohen_kappa(first, second), _sklearn(first, second)
    if theirs is None:
        assert ours is None
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_agreement_per_reviewer_overall_and_per_scale() -> None:
    pairs = [
        ReviewPair("p1", "prediction", "true", "true", "ada", "bob"),
        ReviewPair("p2", "prediction", "true", "false", "ada", "cy"),
        ReviewPair("p3", "prediction", "false", "false", "bob", "cy"),
        ReviewPair("f1", "fact", "half-true", "half-true", "bob", "ada"),
    ]
    result = agreement(pairs, ["prediction", "fact", "promise"])
    assert result.overall == Share(4, 3) and result.overall.share == 0.75
    assert result.reviewers == {"ada": Share(3, 2), "bob": Share(3, 3), "cy": Share(2, 1)}
    # prediction: po = 2/3; first uses true 2, false 1; second true 1, false 2 -> pe = 4/9.
    expected = (2 / 3 - 4 / 9) / (1 - 4 / 9)
    assert result.kappas[0] == Kappa("prediction", 3, pytest.approx(expected))  # type: ignore[arg-type]
    assert result.kappas[0].kappa == pytest.approx(
        _sklearn(["true", "true", "false"], ["true", "false", "false"])
    )
    assert result.kappas[1] == Kappa("fact", 1, None)  # a single category: undefined
    assert len(result.kappas) == 2  # no promise pairs, no promise kappa
    empty = agreement([], ["prediction"])
    assert (empty.overall.share, empty.reviewers, empty.kappas) == (None, {}, ())
