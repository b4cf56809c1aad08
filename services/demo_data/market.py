"""Demo market prices: real daily bars replayed onto the recent calendar.

The public sample (`shared/eval-data/market/trading_sample.sqlite`) ends years ago, while the demo
trades over the last twelve months. Each real series keeps its own path and order; only its dates
move, bar by bar, onto the most recent trading days (weekdays for equities, every day for
crypto). Symbols the sample lacks get a seeded random walk so every traded instrument has prices.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REAL_SERIES = {"SPY": "USA", "AAPL": "USA", "IBM": "USA", "BTCUSD": "coinbase"}
SYNTHETIC_START = {"MSFT": 310.0, "NVDA": 95.0, "TSLA": 210.0, "ETHUSD": 2400.0, "SOLUSD": 140.0}
CRYPTO = {"BTCUSD", "ETHUSD", "SOLUSD"}
SYMBOLS: tuple[str, ...] = (*REAL_SERIES, *SYNTHETIC_START)
"""Every symbol the demo prices, each of which it lists in `instruments` (`generator`)."""
HISTORY_DAYS = 400


@dataclass(frozen=True)
class Bar:
    symbol: str
    day: date
    open: float
    high: float
    low: float
    close: float
    volume: float


def trading_days(symbol: str, end: date, count: int) -> list[date]:
    """The last `count` trading days up to `end`, oldest first."""
    days: list[date] = []
    day = end
    while len(days) < count:
        if symbol in CRYPTO or day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def load_bars(sample: Path | None, end: date, rng: random.Random) -> list[Bar]:
    bars: list[Bar] = []
    real = _real_series(sample) if sample and sample.exists() else {}
    for symbol in REAL_SERIES:
        series = real.get(symbol)
        if series:
            series = series[-HISTORY_DAYS:]
            for day, row in zip(trading_days(symbol, end, len(series)), series, strict=True):
                bars.append(Bar(symbol, day, *row))
        else:
            bars.extend(_random_walk(symbol, 100.0, end, rng))
    for symbol, start in SYNTHETIC_START.items():
        bars.extend(_random_walk(symbol, start, end, rng))
    return bars


def _real_series(sample: Path) -> dict[str, list[tuple[float, float, float, float, float]]]:
    uri = f"file:{sample.resolve()}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        out: dict[str, list[tuple[float, float, float, float, float]]] = {}
        for symbol, venue in REAL_SERIES.items():
            rows = conn.execute(
                "SELECT open, high, low, close, volume FROM ohlcv_daily "
                "WHERE symbol = ? AND venue = ? ORDER BY bar_date",
                (symbol, venue),
            ).fetchall()
            out[symbol] = [tuple(float(v) for v in row) for row in rows]
    return out


def _random_walk(symbol: str, start: float, end: date, rng: random.Random) -> list[Bar]:
    vol = 0.04 if symbol in CRYPTO else 0.018
    price = start
    bars = []
    for day in trading_days(symbol, end, HISTORY_DAYS):
        open_ = price
        close = max(0.5, open_ * (1 + rng.gauss(0.0004, vol)))
        high = max(open_, close) * (1 + abs(rng.gauss(0, vol / 3)))
        low = min(open_, close) * (1 - abs(rng.gauss(0, vol / 3)))
        volume = round(rng.uniform(2e5, 5e6) if symbol not in CRYPTO else rng.uniform(1e3, 5e4))
        bars.append(Bar(symbol, day, *(round(v, 2) for v in (open_, high, low, close)), volume))
        price = close
    return bars
