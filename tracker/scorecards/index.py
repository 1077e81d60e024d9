"""The index pages: every source in several pre-rendered orders, so sorting needs no JavaScript.

Each column header links to the page sorted by that column. The rows come from the
summaries in the manifest, rendered once per source build, so re-sorting ten thousand
sources is string joining, not template work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.formatting import NONE
from tracker.scorecards.page import Summary

_INF = float("inf")


def _rank(s: Summary) -> tuple[Any, ...]:
    # tracker.scoring.rank_key, stored with None for infinity: thin samples never outrank.
    too_few, brier, minus_n = s.rank
    return (too_few, _INF if brier is None else brier, minus_n)


def _fact_rank(s: Summary) -> tuple[Any, ...]:
    too_few, accuracy, minus_rated = s.fact_rank
    return (too_few, _INF if accuracy is None else accuracy, minus_rated)


def _by_hit(s: Summary) -> tuple[Any, ...]:
    return (s.too_few, s.hit is None, -(s.hit or 0.0), -s.n)


@dataclass(frozen=True, slots=True)
class Ordering:
    """One pre-rendered order of the index: its file, the column it sorts and how."""

    file: str
    column: str
    label: str
    caption: str
    direction: str  # aria-sort value of the column
    key: Callable[[Summary], Any]


ORDERINGS: tuple[Ordering, ...] = (
    Ordering("index.html", "brier", "Brier score", "ranked by Brier score, best first", "ascending", _rank),
    Ordering(
        "index-by-name.html", "name", "Name", "by name", "ascending", lambda s: (s.name.casefold(), s.slug)
    ),
    Ordering(
        "index-by-n.html",
        "n",
        "Scored predictions",
        "by number of scored predictions",
        "descending",
        lambda s: (-s.n, *_rank(s)),
    ),
    Ordering("index-by-hit-rate.html", "hit", "Hit rate", "by hit rate, best first", "descending", _by_hit),
    Ordering(
        "index-by-facts.html",
        "facts",
        "Fact accuracy",
        "by fact accuracy, best first",
        "descending",
        _fact_rank,
    ),
)


class Index:
    """The sources of one build, sorted once by name, ready to be laid out in every order."""

    def __init__(self, summaries: Sequence[tuple[Summary, str]]) -> None:
        # Name first, then each ordering's key: `sorted` is stable, so ties read alphabetically.
        self.by_name = sorted(summaries, key=lambda item: (item[0].name.casefold(), item[0].slug))
        self.rank_of = {summary.slug: NONE for summary, _ in summaries}
        position = 0
        for summary, _ in self.sorted(ORDERINGS[0]):
            if not summary.too_few and summary.brier is not None:
                position += 1
                self.rank_of[summary.slug] = str(position)

    def sorted(self, ordering: Ordering) -> list[tuple[Summary, str]]:
        """The sources in this ordering."""
        return sorted(self.by_name, key=lambda item: ordering.key(item[0]))

    def rows(self, ordering: Ordering) -> Iterator[tuple[str, str]]:
        """(rank, cells) of each row of one index page, in its order, one at a time.

        The cells are the source's row as templates/scorecards/_index_row.html drew it when
        its page was rendered (the manifest keeps them); the rank changes whenever another
        source's figures do, so the index template adds it.
        """
        rank_of = self.rank_of
        for s, cells in self.sorted(ordering):
            yield rank_of[s.slug], cells
