"""The pipeline's inputs as arrays: price events, symbols, working triggers and positions.

Events are a struct of arrays (one numpy array per field) so a batch is processed with a few
vectorised passes instead of a Python step per event. A symbol is a small integer id handed out
by a `SymbolTable`; bar intervals are nanosecond lengths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from services.errors import AssistantError

NS_PER_S = 1_000_000_000
# Bar intervals the pipeline rolls up, by the name the API and the database use.
INTERVALS: dict[str, int] = {"1m": 60 * NS_PER_S, "1h": 3600 * NS_PER_S, "1d": 86400 * NS_PER_S}
MAX_SYMBOLS = 65_536  # ids fit uint16, which numpy sorts by radix (linear time)


class SymbolTable:
    """Ticker <-> dense id; ids are handed out in order of first sight and never reused.

    >>> table = SymbolTable(["SPY"])
    >>> table.id("AAPL"), table.id("SPY"), table.name(1)
    (1, 0, 'AAPL')
    """

    def __init__(self, names: list[str] | None = None):
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        for name in names or []:
            self.id(name)

    def id(self, name: str) -> int:
        """The id of `name`, assigning the next one if it is new."""
        found = self._ids.get(name)
        if found is None:
            if len(self._names) >= MAX_SYMBOLS:
                raise AssistantError("too_many_symbols", f"more than {MAX_SYMBOLS} symbols")
            found = self._ids[name] = len(self._names)
            self._names.append(name)
        return found

    def name(self, symbol_id: int) -> str:
        return self._names[symbol_id]

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass(frozen=True)
class Events:
    """Price events in time order: ticks, or bars expanded into ticks (see `loader`)."""

    symbol: np.ndarray  # uint16 symbol ids
    ts: np.ndarray  # int64 nanoseconds since the epoch, UTC
    price: np.ndarray  # float64 trade price
    size: np.ndarray  # float64 units traded

    @classmethod
    def of(cls, symbol, ts, price, size) -> Events:  # noqa: ANN001 - anything array-like
        return cls(
            np.ascontiguousarray(symbol, dtype=np.uint16),
            np.ascontiguousarray(ts, dtype=np.int64),
            np.ascontiguousarray(price, dtype=np.float64),
            np.ascontiguousarray(size, dtype=np.float64),
        )

    @classmethod
    def concat(cls, parts: list[Events]) -> Events:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def __len__(self) -> int:
        return len(self.ts)

    def slice(self, start: int, stop: int) -> Events:
        return Events(*(getattr(self, f)[start:stop] for f in _FIELDS))

    def take(self, index: np.ndarray) -> Events:
        return Events(*(getattr(self, f)[index] for f in _FIELDS))

    def batches(self, size: int):
        """Consecutive slices of at most `size` events (views, nothing copied)."""
        for start in range(0, len(self), size):
            yield self.slice(start, start + size)

    def check(self, after_ns: int) -> None:
        """Refuse a batch the pipeline cannot process correctly: ragged arrays, time going
        backwards (bars already emitted would be wrong), prices that are not positive and
        finite, or negative sizes."""
        n = len(self.ts)
        if not (len(self.symbol) == len(self.price) == len(self.size) == n):
            raise AssistantError("events_invalid", "event arrays have different lengths")
        if n == 0:
            return
        if self.ts[0] < after_ns:
            raise AssistantError(
                "events_invalid",
                f"event timestamps go backwards: the events start at {_iso(self.ts[0])}, before "
                f"the last price already processed ({_iso(after_ns)})",
            )
        if n > 1 and bool(np.any(self.ts[1:] < self.ts[:-1])):
            raise AssistantError("events_invalid", "event timestamps go backwards")
        if not bool(np.all(np.isfinite(self.price) & (self.price > 0))):
            raise AssistantError("events_invalid", "an event price is not a positive number")
        if not bool(np.all(np.isfinite(self.size) & (self.size >= 0))):
            raise AssistantError("events_invalid", "an event size is negative or not a number")


_FIELDS = ("symbol", "ts", "price", "size")


def _iso(ns: int) -> str:
    return f"{np.datetime64(int(ns), 'ns').astype('datetime64[s]')}Z"


class TriggerKind(IntEnum):
    """What a working trigger is and which way the price must cross its level."""

    BUY_LIMIT = 0  # fires when price <= level, reported at the level
    SELL_LIMIT = 1  # fires when price >= level, reported at the level
    BUY_STOP = 2  # fires when price >= level, reported at the crossing event's price
    SELL_STOP = 3  # fires when price <= level, reported at the crossing event's price
    ALERT_ABOVE = 4  # a price alert: fires when price >= level, at the event's price
    ALERT_BELOW = 5  # fires when price <= level, at the event's price

    @classmethod
    def for_order(cls, side: str, order_type: str) -> TriggerKind:
        return cls[f"{side.upper()}_{order_type.upper()}"]


UPWARD_KINDS = np.array(
    [TriggerKind.SELL_LIMIT, TriggerKind.BUY_STOP, TriggerKind.ALERT_ABOVE], dtype=np.int8
)
# A limit order is reported at its limit: the price it is guaranteed. A stop becomes a market
# order and an alert reports what the market did, so both take the crossing event's price.
AT_LEVEL_KINDS = np.array([TriggerKind.BUY_LIMIT, TriggerKind.SELL_LIMIT], dtype=np.int8)


@dataclass(frozen=True)
class Triggers:
    """Working limit/stop orders and active price alerts. `id` is the order's or the alert's
    row id; the kind says which table it belongs to."""

    id: np.ndarray  # int64
    symbol: np.ndarray  # uint16
    kind: np.ndarray  # int8 TriggerKind
    level: np.ndarray  # float64 limit, stop or alert threshold

    @classmethod
    def of(cls, rows: list[tuple[int, int, TriggerKind, float]]) -> Triggers:
        """From (id, symbol id, kind, level) rows."""
        ids, symbols, kinds, levels = zip(*rows, strict=True) if rows else ((), (), (), ())
        return cls(
            np.array(ids, dtype=np.int64),
            np.array(symbols, dtype=np.uint16),
            np.array([int(k) for k in kinds], dtype=np.int8),
            np.array(levels, dtype=np.float64),
        )

    @classmethod
    def empty(cls) -> Triggers:
        return cls.of([])

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class Positions:
    """Holdings to mark to market: position i holds `quantity[i]` units of `symbol[i]`."""

    symbol: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint16))
    quantity: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))

    @classmethod
    def of(cls, symbol, quantity) -> Positions:  # noqa: ANN001 - anything array-like
        return cls(np.asarray(symbol, dtype=np.uint16), np.asarray(quantity, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.symbol)
