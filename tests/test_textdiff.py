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
        Part("same", "Resolves true if the"),
        Part("ins", " policy"),
        Part("same", " rate is lower on "),
        Part("del", "31 March."),
        Part("ins", "30 June."),
    ]


def test_words_added_at_the_end_and_words_taken_out() -> None:
    assert word_diff("on 31 March.", "on 31 March. More words") == [
        Part("same", "on 31 March."),
        Part("ins", " More words"),
    ]
    # Taken out, the word keeps its space: the old text reads "rain in March 2027", not "March2027".
    assert word_diff("rain in March 2027", "rain in March") == [
        Part("same", "rain in March"),
        Part("del", " 2027"),
    ]


def test_rewrapped_lines_are_the_same_words() -> None:
    assert word_diff("one two\nthree", "one two three") == [Part("same", "one two three")]


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
