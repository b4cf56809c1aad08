"""Currencies named by people and written as codes by documents, in the platform's languages."""

from __future__ import annotations

from agents.rag.currencies import codes_named, names_written
from agents.rag.subject_check import unknown_words

RATES = [
    "Conversions pay a spread on the amount converted.",
    "| Pair | Tier | Spread |\n| EUR/PLN | 2 | 0.40% |\n| EUR/TRY | 3 | 0.90% |",
]


def held_names(passages: list[str]) -> set[str]:
    return set().union(*map(names_written, passages))


def test_a_currency_a_passage_writes_as_its_code_is_held_by_its_names():
    named = held_names(RATES)
    question = "Which spread applies to Polish zloty and Turkish lira?"
    assert unknown_words(question, RATES) == ["zloty", "lira"]
    assert unknown_words(question, RATES, named) == []
    assert unknown_words("And what spread to Hungarian forint?", RATES, named) == ["forint"]


def test_a_word_that_is_also_a_code_names_no_currency_in_lower_case():
    assert held_names(["You can try converting any amount."]) == set()


def test_a_question_names_a_currency_in_any_language_of_the_platform():
    for question in [
        "Spread to Turkish lira?",
        "Quel écart pour la livre turque ?",
        "Welcher Aufschlag gilt für Türkische Lira?",
        "¿Qué diferencial tiene la lira turca?",
    ]:
        assert "TRY" in codes_named(question), question


def test_a_word_many_currencies_share_names_none_alone():
    assert codes_named("How many dollars or francs is that?") == []
    assert codes_named("Send Swiss francs and Canadian dollars") == ["CAD", "CHF"]
