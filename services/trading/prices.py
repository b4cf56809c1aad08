"""The latest price of a symbol, behind a protocol so live quotes can replace daily closes."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine, select

from services.db.models import MarketPrice


class PriceSource(Protocol):
    def latest(self, symbol: str) -> float | None:
        """The last known price of `symbol`, or None when there is none."""
        ...


class LatestClose:
    """Default source: the close of the most recent daily bar in `market_prices`."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def latest(self, symbol: str) -> float | None:
        query = (
            select(MarketPrice.close)
            .where(MarketPrice.symbol == symbol)
            .order_by(MarketPrice.price_date.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            close = conn.execute(query).scalar_one_or_none()
        return None if close is None else float(close)
