"""The instruments the firm lists (the `instruments` table): what customers may trade, halted
ones included, by the tickers orders name them with.

>>> from sqlalchemy import create_engine
>>> from services.db.models import Instrument
>>> engine = create_engine("sqlite://")
>>> Instrument.__table__.create(engine)
>>> with engine.begin() as conn:
...     _ = conn.execute(Instrument.__table__.insert(), [
...         {"symbol": "BTCUSD", "asset_class": "crypto", "tradable": True, "currency": "USD"},
...         {"symbol": "AAPL", "asset_class": "equity", "tradable": False, "currency": "USD"}])
>>> listed_symbols(engine)
['AAPL', 'BTCUSD']
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from services.db.models import Instrument


def listed_symbols(engine: Engine) -> list[str]:
    """Every listed instrument's symbol, sorted. Raises SQLAlchemy's error when the database
    has no `instruments` table (no schema yet)."""
    table = Instrument.__table__
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.symbol).order_by(table.c.symbol)).scalars())
