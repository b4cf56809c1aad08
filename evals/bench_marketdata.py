"""How fast the price pipeline runs, beside the plain Python loop over the same events.

The replay is the public sample's real data (read in place): the daily bars of SPY, AAPL, IBM
and BTCUSD, the hourly BTCUSDT bars (each bar as four ticks, see `services.market.loader`) and
the 9,367 real trades as ticks, merged in time order. It is tiled to the asked number of events:
copy k runs k seconds after the real times (`copy_shift_s`) with prices k * 0.001 % higher, and
the copies are merged in time order, as if the same market were quoted by that many venues.
With a shift of 60 s or more every copy's tick falls in a minute bar of its own, the costliest
shape for the roll-ups. (Shifting whole
copies past each other is not possible: 23 years of data times a hundred copies overflows a
nanosecond timestamp.)

Working triggers come from the real trades (each buy a buy limit 2 % under its price, each sell
a sell limit 2 % over, every third one a stop instead), plus price alerts on the bar symbols
spread over their whole replayed price range, so triggers keep firing through the run.

The vectorised pipeline is timed over every event, batch by batch; the plain loop
(`process_plain`) over the first `sample` events, extrapolated per event. Both are run on that
sample with the same inputs and their end states (quotes, bars at each interval, fired triggers
with prices, position values) must be equal.
"""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from services.market.events import NS_PER_S, Events, Positions, SymbolTable, TriggerKind, Triggers
from services.market.loader import load_bar_file
from services.market.pipeline import Pipeline, process_plain, run_vectorised

SAMPLE_NAME = "shared/eval-data/market/trading_sample.sqlite"
OPEN_NS = (14 * 3600 + 30 * 60) * NS_PER_S  # trades carry a date only: they start at 14:30 UTC
PRICE_STEP = 0.00001  # and its prices are k * 0.001 % above the real ones
ALERTS_PER_SYMBOL = 200
POSITIONS = 1000


def find_sample() -> Path | None:
    """The public sample beside the repository (or beside any folder above it)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / SAMPLE_NAME).is_file():
            return folder / SAMPLE_NAME
    return None


class Replay(BaseModel, arbitrary_types_allowed=True):
    events: Events
    triggers: Triggers
    positions: Positions
    symbols: list[str]
    base_events: int = Field(description="Events in one copy of the real data.")
    tiles: int


def read_trades(sample: Path, symbols: SymbolTable) -> tuple[Events, list[tuple]]:
    """The sample's trades as ticks (one second apart within a day) and the raw rows."""
    with sqlite3.connect(f"file:{sample.resolve()}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT trade_time, symbol, side, quantity, price FROM trades "
            "ORDER BY trade_time, trade_id"
        ).fetchall()
    days = np.array([np.datetime64(r[0], "D").astype(np.int64) for r in rows]) * 86400 * NS_PER_S
    first_of_day = np.searchsorted(days, days, side="left")
    ts = days + OPEN_NS + (np.arange(len(rows)) - first_of_day) * NS_PER_S
    events = Events.of(
        [symbols.id(r[1]) for r in rows], ts, [r[4] for r in rows], [r[3] for r in rows]
    )
    return events, rows


def build_replay(sample: Path, events: int, copy_shift_s: int = 1) -> Replay:
    """`events` events of the sample; copy k runs k * `copy_shift_s` seconds late."""
    symbols = SymbolTable()
    parts = [
        load_bar_file(sample, symbols, table="ohlcv_daily"),
        load_bar_file(sample, symbols, table="ohlcv_hourly"),
    ]
    trades, trade_rows = read_trades(sample, symbols)
    parts.append(trades)
    base = Events.concat(parts)
    tiles = max(1, math.ceil(events / len(base)))
    k = np.repeat(np.arange(tiles, dtype=np.int64), len(base))
    tiled = Events.of(
        np.tile(base.symbol, tiles),
        np.tile(base.ts, tiles) + k * copy_shift_s * NS_PER_S,
        np.tile(base.price, tiles) * (1 + PRICE_STEP * k),
        np.tile(base.size, tiles),
    )
    tiled = tiled.take(np.argsort(tiled.ts, kind="stable")[:events])
    return Replay(
        events=tiled,
        triggers=_triggers(tiled, trade_rows, symbols),
        positions=_positions(trade_rows, symbols),
        symbols=symbols.names,
        base_events=len(base),
        tiles=tiles,
    )


def _triggers(events: Events, trade_rows: list[tuple], symbols: SymbolTable) -> Triggers:
    rows: list[tuple[int, int, TriggerKind, float]] = []
    for i, (_day, symbol, side, _qty, price) in enumerate(trade_rows, start=1):
        stop = i % 3 == 0
        if side == "buy":
            kind, level = (
                (TriggerKind.BUY_STOP, price * 1.02)
                if stop
                else (TriggerKind.BUY_LIMIT, price * 0.98)
            )
        else:
            kind, level = (
                (TriggerKind.SELL_STOP, price * 0.98)
                if stop
                else (TriggerKind.SELL_LIMIT, price * 1.02)
            )
        rows.append((i, symbols.id(symbol), kind, round(level, 2)))
    alert_id = 0
    for name in symbols.names:
        prices = events.price[events.symbol == symbols.id(name)]
        if not len(prices):
            continue
        levels = np.quantile(prices, np.linspace(0.01, 0.99, ALERTS_PER_SYMBOL))
        for j, level in enumerate(levels.tolist()):
            alert_id += 1
            kind = TriggerKind.ALERT_ABOVE if j % 2 else TriggerKind.ALERT_BELOW
            rows.append((alert_id, symbols.id(name), kind, round(level, 2)))
    return Triggers.of(rows)


def _positions(trade_rows: list[tuple], symbols: SymbolTable) -> Positions:
    """Holdings for the mark to market: the trades' quantities, cycled over every symbol."""
    quantities = [r[3] for r in trade_rows[:POSITIONS]]
    ids = [i % len(symbols) for i in range(len(quantities))]
    return Positions.of(ids, quantities)


class BenchReport(BaseModel):
    events: int
    base_events: int = Field(description="Events in one copy of the real data.")
    tiles: int
    symbols: int
    triggers: int
    batch: int
    copy_shift_s: int
    batches: int
    seconds: float
    events_per_s: float
    batch_p50_ms: float
    batch_p99_ms: float
    fired: int = Field(description="Triggers the vectorised run fired over all events.")
    bars: int = Field(description="Bar updates the vectorised run emitted over all events.")
    plain_events: int = Field(description="Events of the sample the plain loop ran.")
    plain_seconds: float
    plain_events_per_s: float
    plain_extrapolated_s: float = Field(description="The plain loop's time for every event.")
    ratio: float = Field(description="Vectorised events/s over plain events/s.")
    target_events_per_s: float
    meets_target: bool
    same_end_state: bool
    differences: list[str]
    sample_fired: int
    sample_bars: int


def run(
    sample: Path,
    *,
    events: int,
    batch: int,
    plain_events: int,
    target: float,
    copy_shift_s: int = 1,
) -> BenchReport:
    replay = build_replay(sample, events, copy_shift_s)
    pipeline = Pipeline(replay.triggers, replay.positions)
    latencies: list[float] = []
    fired = bars = 0
    for part in replay.events.batches(batch):
        start = time.perf_counter()
        result = pipeline.process(part)
        latencies.append(time.perf_counter() - start)
        fired += len(result.fired)
        bars += sum(len(b) for b in result.bars.values())
    seconds = sum(latencies)

    head = replay.events.slice(0, min(plain_events, events))
    start = time.perf_counter()
    plain = process_plain(head, replay.triggers, replay.positions)
    plain_seconds = time.perf_counter() - start
    vectorised = run_vectorised(head, batch, replay.triggers, replay.positions)
    differences = vectorised.differences(plain)

    lat_ms = np.array(latencies) * 1000
    rate = len(replay.events) / seconds
    plain_rate = len(head) / plain_seconds
    return BenchReport(
        events=len(replay.events),
        base_events=replay.base_events,
        tiles=replay.tiles,
        symbols=len(replay.symbols),
        triggers=len(replay.triggers),
        batch=batch,
        copy_shift_s=copy_shift_s,
        batches=len(latencies),
        seconds=seconds,
        events_per_s=rate,
        batch_p50_ms=float(np.percentile(lat_ms, 50)),
        batch_p99_ms=float(np.percentile(lat_ms, 99)),
        fired=fired,
        bars=bars,
        plain_events=len(head),
        plain_seconds=plain_seconds,
        plain_events_per_s=plain_rate,
        plain_extrapolated_s=len(replay.events) / plain_rate,
        ratio=rate / plain_rate,
        target_events_per_s=target,
        meets_target=rate >= target,
        same_end_state=not differences,
        differences=differences,
        sample_fired=len(plain.fired),
        sample_bars=len(plain.bars),
    )
