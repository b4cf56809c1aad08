"""Check an answer's citations against the passages shown, and repair the obvious slips.

Small models answer from the right passage and then cite the wrong number ("[2]" for the first
passage) or quote a figure no passage holds. Both are checked on the text, without a model:
- every number in the answer must appear in a passage it cites; a number that appears in another
  shown passage moves the citation there, a number found in none means the model made it up and
  the answer is not used (as the SQL answer composer refuses a changed figure);
- with no number to go by, a citation whose passage shares far fewer of the answer's words than
  another shown passage moves to that passage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.terms import terms

_MARKERS = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
WORD_MARGIN = 0.25  # how much better another passage must cover the answer's words


def numbers(text: str) -> set[str]:
    """Figures in a text, citation markers aside, thousands separators and trailing zeros
    ignored.

    >>> sorted(numbers("Wires cost $25.00 [2]; cards 1.5% of 1,000"))
    ['1.5', '1000', '25']
    """
    found = set()
    for raw in _NUMBER.findall(_MARKERS.sub(" ", text)):
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add(value)
    return found


def coverage(answer: str, passage: str) -> float:
    """Share of the answer's words (markers aside) that the passage has.

    >>> coverage("International wires cost $25 [1]", "International wire withdrawals cost $25.00")
    0.75
    """
    wanted = set(terms(_MARKERS.sub(" ", answer)))
    return len(wanted & set(terms(passage))) / len(wanted) if wanted else 0.0


def check_citations(
    answer: str, cited: Sequence[int], passages: dict[int, str], question: str = ""
) -> list[int] | None:
    """The citations the answer should carry: `cited` when they hold up, repaired ones when
    another shown passage clearly does, None when a figure of the answer is in no passage
    (figures the question itself gives are the asker's, not the model's).

    >>> shown = {1: "Wires cost $25.00 each.", 2: "Card deposits cost 1.5%."}
    >>> check_citations("Wires cost $25.00 [2].", [2], shown)
    [1]
    >>> check_citations("Wires cost $30.", [1], shown) is None
    True
    >>> check_citations("Card deposits cost 1.5% [2].", [2], shown)
    [2]
    >>> check_citations("On $500, cards cost 1.5% [2].", [2], shown, question="Fee on $500?")
    [2]
    """
    figures = numbers(answer) - numbers(question)
    if figures:
        held = set().union(*(numbers(passages[n]) for n in cited)) if cited else set()
        missing = figures - held
        if not missing:
            return list(cited)
        if missing - set().union(*(numbers(text) for text in passages.values())):
            return None  # a figure no passage holds
        holders = [n for n, text in passages.items() if figures <= numbers(text)]
        if not holders:  # the figures are spread over passages: cite each passage that helps
            holders = [n for n, text in passages.items() if figures & numbers(text)]
        return [max(holders, key=lambda n: coverage(answer, passages[n]))]
    best = max(passages, key=lambda n: coverage(answer, passages[n]))
    best_cover = coverage(answer, passages[best])
    if cited and all(coverage(answer, passages[n]) + WORD_MARGIN < best_cover for n in cited):
        return [best]
    return list(cited)
