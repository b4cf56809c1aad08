"""What time it is: the one place every rule that depends on the date asks.

Business rules (market hours, expiries, "today" in a prompt, demo data's build day) read
`now()` or `today()` here and nowhere else, so a test pins the whole platform's day by moving
Python's clock (`time_machine.travel`), and the suite can be run on any day of the week or
year (`TRADING_ASSIST_TODAY=2028-02-29 pytest`, see tests/conftest.py). The database stores
naive UTC times; `utcnow()` is the value to write.

>>> now().tzinfo is not None and today() == now().date()
True
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def utcnow() -> datetime:
    """The current time as the database stores it: naive UTC."""
    return now().replace(tzinfo=None)


def today() -> date:
    """Today's date in UTC."""
    return now().date()
