"""Checks of a document answer's figures, without a judge model: is it right, did it invent any.

An answer is *right* when it states every fact its golden line lists. A fact that is a number
("25,000", "0.07%", "3.00") is found by value among the numbers the answer writes, so "25000",
"25,000.00" and "twenty-five thousand" are not needed to match letter for letter (number words up
to twenty and the tens are read; "2 million" counts as 2 and as 2,000,000); any other fact is
found case-insensitively as whole words. A fact may list ways of saying it, separated by "|".

A figure is *invented* when the answer writes a number that none of the passages it cites holds,
nor the question itself (an answer may repeat the amount it was asked about). Citation marks
([1], [2]) are not figures. This is the issue's "an answer number in no cited passage": it is
deterministic and strict (a figure computed from cited ones, such as 8 EUR from "0.01% of 80,000",
counts as invented), so it over-counts rather than misses one.

>>> states_facts("A SEPA withdrawal of 25,000 EUR costs 3.00 EUR [1].", ["3"])
True
>>> states_facts("It costs 15 EUR [1].", ["3|0.01%"])
False
>>> invented_figures("It costs 3.00 EUR [2].", ["| 10,000.00 to 49,999.99 | 3.00 | 20.00 |"], "")
[]
>>> invented_figures("Two approvals above 250,000 USD [1].", ["above USD 100,000 two ..."], "")
['250,000']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

_CITATION = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s*(million|billion|thousand|mn|bn|m|k)\b)?",
    re.IGNORECASE,
)
_SCALES = {
    "thousand": 1_000,
    "k": 1_000,
    "million": 1_000_000,
    "mn": 1_000_000,
    "m": 1_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
}
_WORDS = {
    word: number
    for number, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
_WORDS |= {"ninety": 90, "hundred": 100, "twice": 2, "double": 2, "half": Decimal("0.5")}
_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_NUMERIC_FACT = re.compile(r"^\s*[-+]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*%?\s*$")


def _value(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def figures(text: str) -> list[tuple[str, set[Decimal]]]:
    """Each number written in `text` (citation marks left out), with the values it may stand
    for: its own, and its value times the scale word after it ("2 million").

    >>> [(t, sorted(map(str, v))) for t, v in figures("Up to USD 2 million [1], 0.07% or two.")]
    [('2 million', ['2', '2E+6']), ('0.07', ['0.07']), ('two', ['2'])]
    """
    text = _CITATION.sub(" ", text)
    found: list[tuple[int, str, set[Decimal]]] = []
    for match in _NUMBER.finditer(text):
        value = _value(match.group(1))
        if value is None:
            continue
        values = {value}
        if match.group(2):
            values.add((value * _SCALES[match.group(2).lower()]).normalize())
        found.append((match.start(), match.group(0).strip(), values))
    for match in _WORD.finditer(text):
        found.append(
            (match.start(), match.group(0), {Decimal(_WORDS[match.group(0).lower()]).normalize()})
        )
    return [(written, values) for _, written, values in sorted(found, key=lambda f: f[0])]


def _values(texts: Iterable[str]) -> set[Decimal]:
    return {value for text in texts for _, values in figures(text) for value in values}


def invented_figures(answer: str, passages: Sequence[str], question: str) -> list[str]:
    """The numbers `answer` writes that no passage of `passages` holds and `question` does not
    state, as written in the answer."""
    known = _values([*passages, question])
    return [written for written, values in figures(answer) if not values & known]


def _states(answer: str, numbers: set[Decimal], way: str) -> bool:
    if _NUMERIC_FACT.match(way):
        value = _value(way.strip().rstrip("%").strip())
        return value is not None and value in numbers
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, way.split())) + r"(?!\w)"
    return re.search(pattern, answer, re.IGNORECASE) is not None


def states_facts(answer: str, facts: Sequence[str]) -> bool:
    """Whether `answer` states every fact (one of its "|"-separated ways each).

    >>> states_facts("Head of Client Services decides [1].", ["head of client services"])
    True
    >>> states_facts("2,000,000 USD", ["2 million"]), states_facts("2 million", ["2,000,000"])
    (False, True)
    """
    numbers = _values([answer])
    return all(
        any(_states(answer, numbers, way.strip()) for way in fact.split("|") if way.strip())
        for fact in facts
    )
