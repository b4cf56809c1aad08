"""Check an answer's citations against the passages shown, and repair the obvious slips.

Small models answer from the right passage and then cite the wrong number ("[2]" for the first
passage) or quote a figure no passage holds. Both are checked on the text, without a model:
- every number in the answer must appear in a passage it cites; a number that appears in another
  shown passage moves the citation there; a number found in none, and not one step of
  arithmetic from a figure of the question and one of the passages ("1.5% of 500 is 7.50"),
  means the model made it up and the answer is not used as it is;
- a citation whose passage shares far fewer of the answer's words than another shown passage
  moves to that passage: among the passages holding the answer's figures (a fee of 1.50 can
  sit in two tables), or among all when the answer states none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import product

from agents.rag.amounts import amounts
from retrieval.terms import terms

_MARKERS = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
WORD_MARGIN = 0.25  # how much better another passage must cover the answer's words
SENTENCE_COVER = 0.75
"""Share of an answer's words one passage sentence must hold for the answer to be that
sentence restated (set on the demo documents' sets, evals/JOURNAL.md)."""


def numbers(text: str) -> set[str]:
    """Figures in a text, citation markers aside, thousands separators and trailing zeros
    ignored; an amount written "12k" is 12 and 12000.

    >>> sorted(numbers("Wires cost $25.00 [2]; cards 1.5% of 1,000; and 12k?"))
    ['1.5', '1000', '12', '12000', '25']
    """
    text = _MARKERS.sub(" ", text)
    found = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add(value)
    found.update(_canonical(value) for raw, value in amounts(text) if not raw[-1].isdigit())
    return found


def coverage(answer: str, passage: str) -> float:
    """Share of the answer's words (markers aside) that the passage has.

    >>> coverage("International wires cost $25 [1]", "International wire withdrawals cost $25.00")
    0.75
    """
    wanted = set(terms(_MARKERS.sub(" ", answer)))
    return len(wanted & set(terms(passage))) / len(wanted) if wanted else 0.0


def computed(stated: set[str], held: set[str]) -> set[str]:
    """Figures one step of arithmetic makes from a figure the question states and one a passage
    holds: a sum, a difference, a product or a percentage (an answer may work out "1.5% of
    500"). Passage figures are not combined with each other: with dozens of them, nearly any
    number would be some sum.

    >>> sorted(computed({"500"}, {"1.5"}), key=float)
    ['7.5', '498.5', '501.5', '750']
    """
    found = set()
    for a, b in product((float(f) for f in stated), [float(f) for f in held]):
        found.update(_canonical(r) for r in (a + b, abs(a - b), a * b, a * b / 100))
    return found


def _canonical(value: float) -> str:
    return format(round(value, 4), "f").rstrip("0").rstrip(".")


def invented(answer: str, passages: dict[int, str], question: str = "") -> set[str]:
    """Figures of the answer that no shown passage holds, the question does not state, and one
    step of arithmetic on a figure of each does not give.

    >>> shown = {1: "Card payouts cost 1.5%; wires cost $25."}
    >>> sorted(invented("On $500 a card payout costs $7.50 [1].", shown, "Fee on $500?"))
    []
    >>> sorted(invented("Wires cost $30 [1].", shown, "Fee on $500?"))
    ['30']
    """
    stated = numbers(question)
    held = set().union(*(numbers(text) for text in passages.values()))
    return numbers(answer) - stated - held - computed(stated, held)


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
    >>> shown = {1: "Options: 1.50 EUR per contract.", 2: "SEPA Instant: 1.50 EUR a payout."}
    >>> check_citations("Options cost 1.50 EUR per contract [2].", [2], shown)
    [1]
    """
    if invented(answer, passages, question):
        return None  # a figure no passage holds
    held_anywhere = set().union(*(numbers(text) for text in passages.values()))
    figures = (numbers(answer) - numbers(question)) & held_anywhere  # computed ones aside
    if not figures:
        return _by_words(answer, cited, list(passages), passages)
    holders = [n for n, text in passages.items() if figures <= numbers(text)]
    if not holders:  # the figures are spread over passages: cite each passage that helps
        holders = [n for n, text in passages.items() if figures & numbers(text)]
    if cited and figures <= set().union(*(numbers(passages[n]) for n in cited)):
        return _by_words(answer, cited, holders, passages)  # the same figure may be elsewhere
    return [max(holders, key=lambda n: coverage(answer, passages[n]))]


def _by_words(
    answer: str, cited: Sequence[int], candidates: list[int], passages: dict[int, str]
) -> list[int]:
    """`cited`, unless one of `candidates` covers the answer's words clearly better than each
    cited passage (a figure like 1.50 can be in two tables; the words tell which is meant)."""
    best = max(candidates, key=lambda n: coverage(answer, passages[n]))
    best_cover = coverage(answer, passages[best])
    if cited and all(coverage(answer, passages[n]) + WORD_MARGIN < best_cover for n in cited):
        return [best]
    return list(cited)


def echoes(answer: str, question: str, cited: Sequence[str]) -> bool:
    """Whether the answer says nothing its cited passages say beyond the question's own words,
    as in "Yes, you can open a joint account [2]" to "Can I open a joint account?" over a
    passage about account types: a small model asked about something the passages do not
    cover often answers by restating the question. An answer the passages support carries at
    least one of their words that the question did not bring, or a figure the question did
    not state (figures are checked on their own: in a passage, or worked out from one), or is
    nearly word for word a sentence of one of them.

    >>> passage = ["One cash account, one margin account and one crypto account per person."]
    >>> echoes("Yes, you can open a joint account [1].", "Can I open a joint account?", passage)
    True
    >>> echoes("One margin account each [1].", "How many margin accounts can I have?", passage)
    False
    >>> fees = ["There is no account maintenance fee."]
    >>> echoes("There is no account maintenance fee [1].", "Is there an account fee?", fees)
    False
    """
    if numbers(answer) - numbers(question):
        return False
    said = set(terms(_MARKERS.sub(" ", answer))) - set(terms(question))
    if said & set().union(*(terms(text) for text in cited)):
        return False
    # "There is no account maintenance fee" adds only "no" to its question, a word `terms`
    # drops; it is still what a cited sentence says, nearly word for word
    return all(coverage(answer, s) < SENTENCE_COVER for text in cited for s in sentences(text))


def sentences(text: str) -> list[str]:
    """Sentences and lines of a passage, headings and table markup aside; a sentence wrapped
    over lines (as Markdown is often written) is joined first.

    >>> sentences("## Fees\\nWires cost $25. Cards are\\nfree.\\n- Plan: Pro; Price: $29")
    ['Wires cost $25.', 'Cards are free.', 'Plan: Pro; Price: $29']
    """
    found = []
    for line in _unwrapped(text):
        line = line.lstrip("-*").strip()
        if line and not line.startswith(("#", "|")):
            found.extend(_split(line))
    return found


def _split(line: str) -> list[str]:
    """A line's sentences: a stop, then a capital letter (in any alphabet) or a digit.

    >>> _split("Bis 150 EUR frei. Über 500 EUR z.B. mit Zustimmung. 3 Tage.")
    ['Bis 150 EUR frei.', 'Über 500 EUR z.B. mit Zustimmung.', '3 Tage.']
    """
    found: list[str] = []
    for piece in _SENTENCE_END.split(line):
        if found and piece and not (piece[0].isupper() or piece[0].isdigit()):
            found[-1] = f"{found[-1]} {piece}"
        elif piece:
            found.append(piece)
    return found


def _unwrapped(text: str) -> list[str]:
    """The text's lines, a line that goes on with the sentence of the one before (which neither
    ends one nor is a heading or table row) joined to it."""
    lines: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        before = lines[-1] if lines else ""
        goes_on = before and not before.endswith(_ENDS) and not before.startswith(("#", "|"))
        if line and goes_on and not _NEW_LINE.match(line):
            lines[-1] = f"{before} {line}"
        else:
            lines.append(line)
    return lines


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ENDS = (".", "!", "?", ":", ";")
_NEW_LINE = re.compile(r"[-*#|]|\d+(?:\.\d+)+\s")  # an item, heading, table row or clause
