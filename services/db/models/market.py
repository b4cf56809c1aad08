"""Market data (daily prices, latest quotes, intraday bars) and customers' price alerts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, Price, Quantity, col


class MarketPrice(Base):
    __tablename__ = "market_prices"
    __table_args__ = (
        Index("ix_market_prices_symbol_date", "symbol", "price_date", unique=True),
        {"comment": "Daily price bars per instrument (public market data)."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Row id.")
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    price_date: Mapped[date] = col(Date, comment="Trading day.")
    open: Mapped[float] = col(Price, comment="Opening price.")
    high: Mapped[float] = col(Price, comment="Highest price of the day.")
    low: Mapped[float] = col(Price, comment="Lowest price of the day.")
    close: Mapped[float] = col(Price, comment="Closing price.")
    volume: Mapped[float] = col(Quantity, comment="Units traded that day.")


class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = {"comment": "Latest price of each instrument (public market data)."}

    symbol: Mapped[str] = col(String(20), primary_key=True, comment="Instrument ticker.")
    price: Mapped[float] = col(Price, comment="Last traded price.")
    bid: Mapped[float | None] = col(Price, comment="Best bid, when the feed gives one.")
    ask: Mapped[float | None] = col(Price, comment="Best ask, when the feed gives one.")
    volume: Mapped[float] = col(Quantity, comment="Units traded so far in the current day (UTC).")
    as_of: Mapped[datetime] = col(DateTime, comment="Time of the last trade (UTC).")


class PriceBar(Base):
    __tablename__ = "price_bars"
    __table_args__ = (
        Index("ix_price_bars_symbol_interval_start", "symbol", "interval", "start", unique=True),
        {"comment": "Open-high-low-close bars per instrument at 1 minute, 1 hour and 1 day."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Row id.")
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    interval: Mapped[str] = col(String(3), comment="Bar length: 1m, 1h or 1d.")
    start: Mapped[datetime] = col(DateTime, comment="Start of the bar (UTC), inclusive.")
    open: Mapped[float] = col(Price, comment="First price in the bar.")
    high: Mapped[float] = col(Price, comment="Highest price in the bar.")
    low: Mapped[float] = col(Price, comment="Lowest price in the bar.")
    close: Mapped[float] = col(Price, comment="Last price in the bar (so far, for the open bar).")
    volume: Mapped[float] = col(Quantity, comment="Units traded in the bar.")


class PriceAlert(Base):
    __tablename__ = "price_alerts"
    __table_args__ = (
        Index("ix_price_alerts_status_symbol", "status", "symbol"),
        {"comment": "Customers' price alerts: tell me when a price goes above or below a level."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Alert id.")
    user_id: Mapped[int] = col(
        ForeignKey("users.id"), index=True, comment="Customer who set it (users.id)."
    )
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    direction: Mapped[str] = col(
        String(5), comment="above (fires at or over the threshold) or below (at or under)."
    )
    threshold: Mapped[float] = col(Price, comment="Price level that fires it.")
    status: Mapped[str] = col(
        String(10), comment="active (waiting), fired (went off once) or deleted (by its owner)."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was set (UTC).")
    fired_at: Mapped[datetime | None] = col(
        DateTime, comment="Time of the trade that fired it (UTC); empty until it fires."
    )
    fired_price: Mapped[float | None] = col(
        Price, comment="Price of the trade that fired it; empty until it fires."
    )
