"""Word diffs of criteria: what a template marks as removed and added."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from tracker.textdiff import Part, word_diff

TEXT = st.text(alphabet=st.sampled_from(["a", "b", "c", " ", "\n", "é", "\u202e"]), max_size=40)


def test_a_changed_word_and_an_added_one() -> None:
    old = "Resolves true if the rate is lower on 31 March."
    new = "Resolves true if the policy rate is lower on 30 June."
    assert word_diff(old, new) == [
        Part("same", "Resolves true if the "),
        Part("ins", "policy "),
        Part("same", "rate is lower on "),
        Part("del", "31 March."),
        Part("ins", "30 June."),
    ]


def test_a_word_that_only_gained_a_space_is_the_same_word() -> None:
    assert word_diff("on 31 March.", "on 31 March. More words") == [
        Part("same", "on 31 March. "),
        Part("ins", "More words"),
    ]


def test_nothing_changed_and_everything_changed() -> None:
    assert word_diff("a b", "a b") == [Part("same", "a b")]
    assert word_diff("", "a b") == [Part("ins", "a b")]
    assert word_diff("a b", "") == [Part("del", "a b")]


@given(TEXT, TEXT)
def test_the_new_text_is_what_stays_and_what_came_in_and_the_old_words_are_what_stayed_and_went(
    old: str, new: str
) -> None:
    parts = word_diff(old, new)
    assert "".join(p.text for p in parts if p.op != "del") == new
    assert "".join(p.text for p in parts if p.op != "ins").split() == old.split()
    assert all(a.op != b.op for a, b in itertools.pairwise(parts))  # runs are merged
