"""Numbers the model may put in a tool call are numbers the person wrote.

A small model asked for "buy AAPL" will happily fill in a quantity of 1; a write built on a
guessed figure is worse than a question back. Any numeric argument that does not appear in the
request (as written, in any language's digits and decimal mark) is dropped, so the tool's own
validation asks for it.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def stated_numbers(text: str) -> set[float]:
    """The numbers written in `text`, reading both `.` and `,` as decimal marks or separators.

    >>> sorted(stated_numbers("Buy 0,5 BTC and 1,250.75 USD of ETH, order #42"))
    [0.5, 42.0, 1250.75]
    """
    found: set[float] = set()
    for token in _NUMBER.findall(text):
        for reading in _readings(token):
            found.add(reading)
    return found


def _readings(token: str) -> list[float]:
    """'1,250.75' is 1250.75; '0,5' is 0.5; '1.250' may be 1.25 or 1250: both are stated."""
    if "," in token and "." in token:
        decimal = "." if token.rfind(".") > token.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        return [float(token.replace(thousands, "").replace(decimal, "."))]
    mark = "," if "," in token else "."
    parts = token.split(mark)
    values = [float(f"{parts[0]}.{parts[1]}")] if len(parts) == 2 else []
    if len(parts) == 1 or all(len(part) == 3 for part in parts[1:]):
        values.append(float("".join(parts)))
    return values


def grounded(arguments: dict[str, Any], request: str) -> tuple[dict[str, Any], list[str]]:
    """`arguments` without the numbers the request never states, and the names dropped.

    >>> grounded({"symbol": "AAPL", "quantity": 1, "limit_price": 150.5}, "buy AAPL at 150.50")
    ({'symbol': 'AAPL', 'limit_price': 150.5}, ['quantity'])
    """
    stated = stated_numbers(request)
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in arguments.items():
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and not any(abs(value - s) <= 1e-9 * max(1.0, abs(s)) for s in stated):
            dropped.append(name)
        else:
            kept[name] = value
    return kept, dropped
