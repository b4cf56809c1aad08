"""The document answers' figure checks: facts stated (right) and figures no cited passage holds
(invented), as `eval rag` counts them."""

from __future__ import annotations

import doctest

import pytest

from evals import answer_facts
from evals.answer_facts import figures, invented_figures, states_facts

RATE_ROW = "| 10,000.00 to 49,999.99 | 3.00 | 20.00 | not available |"
CUSTODY = (
    "3.1 At least 95% of client crypto-assets ... 3.2 no single hot wallet above USD 2,000,000."
)


@pytest.mark.parametrize(
    ("answer", "facts", "right"),
    [
        ("It costs 3.00 EUR [1].", ["3"], True),
        ("It costs 3 EUR.", ["3.00"], True),
        ("It costs 20.00 EUR [1].", ["3"], False),  # the wrong column of the right row
        ("At least 95 % is kept offline.", ["95%"], True),
        ("0.07% per trade", ["0.07%"], True),
        ("0.7% per trade", ["0.07%"], False),
        ("The limit is 150,000 EUR.", ["150,000"], True),
        ("The limit is 150000 EUR.", ["150,000"], True),
        ("Two approvals are needed.", ["2"], True),
        ("Up to USD 2 million.", ["2,000,000|2 million"], True),
        ("The Head of Client Services decides.", ["head of client services"], True),
        ("The Head of Payments decides.", ["Head of Payments", "Finance Controller"], False),
        ("It is not available for that amount.", ["not available|cannot"], True),
        ("It is available.", ["not available|cannot"], False),
        ("Cards are free of charge.", ["free"], True),
        ("The fee is freely set.", ["free"], False),  # whole words only
        ("By 14:00 CET.", ["14:00|2 pm"], True),
    ],
)
def test_states_facts(answer, facts, right):
    assert states_facts(answer, facts) is right


def test_a_figure_from_the_cited_passage_is_not_invented():
    assert invented_figures("A 25,000 EUR SEPA withdrawal costs 3.00 EUR [1].", [RATE_ROW], "") == [
        "25,000"
    ]
    assert (
        invented_figures(
            "A 25,000 EUR SEPA withdrawal costs 3.00 EUR [1].", [RATE_ROW], "SEPA 25,000 EUR?"
        )
        == []
    )


def test_a_figure_in_no_cited_passage_is_invented():
    answer = "About 98% of client crypto is in cold storage [1], insured for USD 150 million."
    assert invented_figures(answer, [CUSTODY], "What share is in cold storage?") == [
        "98",
        "150 million",
    ]
    assert invented_figures("At least 95% [1] ; at most USD 2 million [1].", [CUSTODY], "") == []
    assert invented_figures("Nothing cited says 95%.", [], "") == ["95"]


def test_citation_marks_and_number_words():
    assert figures("See [1], [2, 3].") == []
    assert [written for written, _ in figures("two of five, 3-of-5")] == ["two", "five", "3", "5"]
    assert not invented_figures("Three of five key holders sign [1].", ["3-of-5 signing"], "")
    assert invented_figures("Four of six key holders sign [1].", ["3-of-5 signing"], "") == [
        "Four",
        "six",
    ]


def test_docstring_examples():
    assert doctest.testmod(answer_facts).failed == 0
