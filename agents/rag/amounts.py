"""Amounts a question states, and where they fall among the amounts a passage states.

A small model handed "Orders above 250,000 EUR notional are routed to the block desk" and asked
about an order of 400,000 EUR often answers with the rule for smaller orders: it reads the
numbers but does not compare them. The comparison is done here, in code, and shown under the
passage ("400,000 is more than 250,000 and less than 1,000,000"), so the model only has to
match the passage's words to it. Amounts are read from digits, in any language: "75,000",
"1.5", and "12k" or "1.5M" as people write them in chat. Percentages, clock times and
clause numbers ("3.2" opening a line) are not amounts; neither is a four-digit whole number
between 1900 and 2100 in a passage, which reads as a year.
"""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"(?<![\d.,:])(\d+(?:,\d{3})*(?:\.\d+)?)([km](?![^\W\d_]))?(?![\d:])", re.I)
_NOT_AN_AMOUNT = re.compile(r"\s*%")
_CLAUSE_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)+\s")  # "3.2 Orders ..." opening a line
_SCALE = {"k": 1e3, "m": 1e6}
WINDOW = 20  # passage amounts more than 20 times smaller or larger are about something else


def value(raw: str) -> float:
    """
    >>> value("1,000.50")
    1000.5
    """
    return float(raw.replace(",", ""))


def amounts(text: str) -> list[tuple[str, float]]:
    """The amounts a text states, as written and as values. A k or m written right after the
    digits scales them ("12k" is 12,000); "5 min", "5kg", "0.9%" and "14:00" are no amounts.

    >>> amounts("SWIFT fee for 12k or 1.5M? Not 75,000 EUR at 0.9% by 14:00 in 5min")
    [('12k', 12000.0), ('1.5M', 1500000.0), ('75,000', 75000.0), ('5', 5.0)]
    """
    found = []
    for match in _AMOUNT.finditer(text):
        if _NOT_AN_AMOUNT.match(text, match.end()):
            continue
        digits, scale = match.groups()
        found.append((match.group(0), value(digits) * _SCALE.get((scale or "").lower(), 1)))
    return found


def passage_amounts(passage: str) -> set[float]:
    """The amounts a passage states, years and clause numbers aside.

    >>> sorted(passage_amounts("3.2 Since 2024, orders above 250,000 EUR (0.5%) go to the desk."))
    [250000.0]
    """
    found = set()
    for line in passage.splitlines():
        for raw, amount in amounts(_CLAUSE_NUMBER.sub(" ", line)):
            if raw.isdigit() and len(raw) == 4 and 1900 <= amount <= 2100:
                continue  # a year
            found.add(amount)
    return found


def nearby(asked: float, held: set[float]) -> set[float]:
    """The amounts of `held` of the same order of magnitude as `asked` (within `WINDOW` times).

    >>> sorted(nearby(4000, {20.0, 1000.0, 10000.0, 500000.0}))
    [1000.0, 10000.0]
    """
    return {a for a in held if asked / WINDOW <= a <= asked * WINDOW} if asked else set()


def _written(amount: float) -> str:
    return f"{amount:,.2f}".removesuffix(".00")


def comparison(question: str, passage: str) -> str | None:
    """Where each amount of the question falls among the passage's amounts of its order of
    magnitude (within `WINDOW` times): the nearest below and above, or the one it equals.
    None when the question states no amount or the passage none near it.

    >>> text = "3.2 Orders above 250,000 EUR go to the block desk, up to 1,000,000 EUR for Core 50."
    >>> comparison("Where does an order of 400,000 EUR go?", text)
    'Compared with the question: 400,000 is more than 250,000 and less than 1,000,000.'
    >>> comparison("And 180k?", "Orders above 100,000 USD are split (since 2024).")
    'Compared with the question: 180k (180,000) is more than 100,000.'
    >>> comparison("A gift of 500 EUR?", "Gifts above 500 EUR need approval; 15% tax.")
    'Compared with the question: 500 equals 500.'
    >>> comparison("What is the fee?", text) is None
    True
    """
    held = passage_amounts(passage)
    lines = []
    for raw, asked in amounts(question):
        if not (near := nearby(asked, held)):
            continue
        name = raw if raw[-1].isdigit() else f"{raw} ({_written(asked)})"  # "12k (12,000)"
        if asked in near:
            lines.append(f"{name} equals {_written(asked)}")
            continue
        below = [a for a in near if a < asked]
        above = [a for a in near if a > asked]
        parts = ([f"more than {_written(max(below))}"] if below else []) + (
            [f"less than {_written(min(above))}"] if above else []
        )
        lines.append(f"{name} is {' and '.join(parts)}")
    return f"Compared with the question: {'; '.join(lines)}." if lines else None
