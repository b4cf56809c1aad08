"""The sentence of a passage that states the rule for an amount of the question.

Policies write thresholds as a ladder of sentences: "A correction that costs less than 1,000
EUR is approved by the desk head. From 1,000 EUR up to 10,000 EUR it needs the Head of Trading
Operations. Above 10,000 EUR the Chief Risk Officer approves." Told that 4,000 is more than
1,000 and less than 10,000 (`agents.rag.amounts.comparison`), the small model still often
answers with the first rung. Which rung holds the amount is read here from the digits alone,
so it holds in any language, the way `agents.rag.tables` picks a table's row:
- the one sentence stating both the nearest amount below and the nearest above is the range
  the amount falls in ("from 1,000 up to 10,000");
- above every amount, the top rung: the one sentence stating the nearest amount below and no
  smaller one ("above 10,000", not "from 1,000 up to 10,000");
- below every amount, the bottom rung, the same way round.
Anything else (the bounds in different sentences, several sentences alike, an amount equal
to a bound, where only the words say which side it falls on) gives no rule: the comparison
alone stays.
"""

from __future__ import annotations

from agents.rag.amounts import amounts, nearby, passage_amounts
from agents.rag.citation_check import sentences


def rule_for(asked: float, passage: str) -> str | None:
    """The sentence of `passage` whose amounts bound `asked`, or None when the digits do not
    single one out.

    >>> ladder = ("A correction under 1,000 EUR is approved by the desk head. From 1,000 EUR "
    ...     "up to 10,000 EUR it needs the Head of Operations. Above 10,000 EUR the CRO approves.")
    >>> rule_for(4000, ladder)
    'From 1,000 EUR up to 10,000 EUR it needs the Head of Operations.'
    >>> rule_for(25000, ladder)
    'Above 10,000 EUR the CRO approves.'
    >>> rule_for(600, ladder)
    'A correction under 1,000 EUR is approved by the desk head.'
    >>> rule_for(1000, ladder) is None  # on a bound: the words decide, not the digits
    True
    """
    stated = [(sentence, passage_amounts(sentence)) for sentence in sentences(passage)]
    stated = [(sentence, own) for sentence, own in stated if nearby(asked, own)]
    held = set().union(*(own for _, own in stated))
    if len(stated) < 2 or asked in held:  # one sentence is a rule, not a ladder of them
        return None
    held = nearby(asked, held)
    below = max((a for a in held if a < asked), default=None)
    above = min((a for a in held if a > asked), default=None)
    if below is not None and above is not None:
        found = [s for s, own in stated if below in own and above in own]
    elif below is not None:  # the rung that starts at `below`, no lower bound beside it
        found = [s for s, own in stated if below in own and min(nearby(below, own)) == below]
    else:
        found = [s for s, own in stated if above in own and max(nearby(above, own)) == above]
    return found[0] if len(found) == 1 else None


def rules(question: str, passage: str) -> list[tuple[str, str]]:
    """Each amount the question states, as written, with the passage's rule for it.

    >>> rules("Can I accept a gift of 800 EUR?", "Gifts up to 150 EUR are free. A gift worth "
    ...     "more than 150 EUR and up to 500 EUR needs the line manager. A gift worth more than "
    ...     "500 EUR needs Compliance.")
    [('800', 'A gift worth more than 500 EUR needs Compliance.')]
    """
    found = []
    for raw, asked in amounts(question):
        if (rule := rule_for(asked, passage)) is not None:
            found.append((raw, rule))
    return found
