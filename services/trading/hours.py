"""When an instrument can be traded: equities in New York's regular session, crypto always.

The regular session is 09:30-16:00 America/New_York, Monday to Friday (exchange holidays are
not modelled). The time comes from `services.clock`, so tests pin it with `time_machine`.

>>> from datetime import datetime, UTC
>>> market_open("equity", datetime(2026, 12, 7, 15, 0, tzinfo=UTC))   # Monday 10:00 New York
True
>>> market_open("equity", datetime(2026, 12, 5, 15, 0, tzinfo=UTC))   # Saturday
False
>>> market_open("crypto", datetime(2026, 12, 5, 15, 0, tzinfo=UTC))
True
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
SESSION_OPEN = time(9, 30)
SESSION_CLOSE = time(16, 0)


def market_open(asset_class: str, when: datetime) -> bool:
    """True when `asset_class` trades at the aware time `when`."""
    if asset_class == "crypto":
        return True
    local = when.astimezone(NEW_YORK)
    return local.weekday() < 5 and SESSION_OPEN <= local.time() < SESSION_CLOSE
