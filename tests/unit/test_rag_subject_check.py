"""The words of a question the passages must hold before the model is asked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agents.rag.subject_check import related, unknown_words

FEES = [
    "Crypto trades pay a taker fee of 0.25% and a maker fee of 0.10%.",
    "Withdrawals are processed after the Money Laundering Reporting Officer's review.",
]


def test_a_rare_word_no_passage_holds_is_named():
    assert unknown_words("What staking reward do you pay?", FEES) == ["staking"]
    assert unknown_words("Is there a fee on fractional shares or staking?", FEES) == [
        "fractional",
        "staking",
    ]


def test_everyday_words_inflections_and_acronyms_are_not():
    assert unknown_words("How much does a crypto trade cost me?", FEES) == []
    assert unknown_words("What are the maker fees?", FEES) == []
    assert unknown_words("Who reviews withdrawals, the MLRO?", FEES) == []


def test_a_question_in_another_language_is_not_checked():
    assert unknown_words("Welche Gebühren zahle ich beim Staking?", FEES) == []


@given(st.lists(st.sampled_from(" ".join(FEES).split()), min_size=1, max_size=12))
def test_a_question_made_of_the_passages_words_lacks_none(picked):
    assert unknown_words(" ".join(picked) + "?", FEES) == []


@given(st.text(alphabet="abcdefghijklmnop", min_size=5, max_size=12))
def test_a_word_is_related_to_itself_and_its_suffixed_forms(word):
    assert related(word, word) and related(word, word + "ed") and related(word + "s", word)
