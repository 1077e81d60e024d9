"""The scoring package as a whole: purity, its verdict lists, its docstring examples, and ranking."""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import tracker
from tracker import scoring
from tracker.models import FactVerdict, PredictionVerdict
from tracker.scoring import (
    MIN_SAMPLE,
    SELECTION_NOTE,
    FactScores,
    ScoredFact,
    ScoredPrediction,
    SourceScores,
    fact_rank_key,
    rank_key,
    score_facts,
    score_source,
)

TODAY = dt.date(2026, 11, 23)
MODULES = ["calibration", "facts", "metrics", "predictions", "records", "sources", "timeline"]


def test_scoring_imports_no_database_code() -> None:
    # A fresh interpreter, so modules other tests imported cannot hide an import.
    code = "import sys, tracker.scoring; bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')]; print(bad)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(tracker.__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_verdict_lists_match_the_models() -> None:
    assert tuple(v.value for v in PredictionVerdict) == scoring.PREDICTION_VERDICTS
    assert tuple(v.value for v in FactVerdict) == scoring.FACT_VERDICTS


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"tracker.scoring.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_api_is_exported() -> None:
    assert sorted(scoring.__all__) == sorted(set(scoring.__all__))
    for name in scoring.__all__:
        assert hasattr(scoring, name), name


def test_public_functions_have_docstrings() -> None:
    for name in scoring.__all__:
        obj = getattr(scoring, name)
        if inspect.isfunction(obj) or dataclasses.is_dataclass(obj):
            assert (obj.__doc__ or "").strip(), name


# --- a whole source, and ranking -------------------------------------------------------------------


def predictions(n: int, p: float, hits: int) -> list[ScoredPrediction]:
    """n predictions at probability p, of which the first `hits` came true."""
    return [
        ScoredPrediction(f"k{i}", p, "true" if i < hits else "false", dt.date(2025, 1, 1)) for i in range(n)
    ]


def source(n: int, p: float, hits: int) -> SourceScores:
    return score_source(predictions(n, p, hits), [], today=TODAY)


def test_score_source_bundles_both() -> None:
    facts = [ScoredFact(f"f{i}", "true", dt.date(2025, 1, 1)) for i in range(MIN_SAMPLE)]
    scores = score_source(predictions(3, 0.8, 2), facts, today=TODAY)
    assert scores.predictions.too_few and not scores.facts.too_few
    assert not scores.too_few
    assert score_source([], [], today=TODAY).too_few
    assert "not sampled" in SELECTION_NOTE


def test_thin_records_never_outrank_sampled_ones() -> None:
    lucky = source(3, 0.97, 3)  # Brier 0.0009 on three predictions
    steady = source(40, 0.75, 30)  # Brier 0.1875 on forty
    poor = source(12, 0.9, 3)  # Brier 0.6 on twelve
    empty = source(0, 0.5, 0)
    ranked = sorted([empty, lucky, poor, steady], key=rank_key)
    assert ranked == [steady, poor, lucky, empty]
    assert lucky.predictions.brier is not None and lucky.predictions.brier < steady.predictions.brier  # type: ignore[operator]


def test_rank_ties_go_to_the_larger_sample() -> None:
    # Always saying 50% scores exactly 0.25 whatever happens: equal Brier, different n.
    small, large = source(10, 0.5, 3), source(20, 0.5, 15)
    assert small.predictions.brier == large.predictions.brier == 0.25
    assert sorted([small, large], key=rank_key) == [large, small]


def test_rank_key_on_prediction_scores() -> None:
    scores = source(12, 0.9, 9)
    too_few, brier, minus_n = rank_key(scores)
    assert rank_key(scores.predictions) == (too_few, brier, minus_n)
    assert (too_few, minus_n) == (False, -12)
    assert brier == pytest.approx(0.21)  # (9 * 0.01 + 3 * 0.81) / 12


def test_fact_rank_key() -> None:
    def facts(n: int, verdict: str) -> FactScores:
        return score_facts([ScoredFact(f"f{i}", verdict, dt.date(2025, 1, 1)) for i in range(n)])

    perfect_few, good, bad = facts(2, "true"), facts(20, "mostly-true"), facts(30, "false")
    assert sorted([perfect_few, bad, good], key=fact_rank_key) == [good, bad, perfect_few]
