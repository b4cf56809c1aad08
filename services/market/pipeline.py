"""The price pipeline: batches of events in, quotes, bars, position values and fired triggers out.

`Pipeline.process` handles a whole batch with vectorised numpy: one stable radix sort groups the
batch by symbol (time order is kept inside each symbol), and every result is then a reduction
over contiguous runs (`reduceat`) or a gather, never a Python step per event. What must survive
from one batch to the next (the open bar of each interval, the last price, the working
triggers) lives in arrays indexed by symbol id.

`process_plain` is the same semantics written as the obvious per-event loop. It is the
reference: the benchmark times both and the tests check that they end in the same state.

Semantics, shared by both:
- a quote is the symbol's last event (price, time) and the volume of its current day bar;
- a bar of interval I starting at S holds the events with S <= ts < S + I (S = ts // I * I);
- a position's value is quantity * the symbol's last price;
- a trigger fires at the first event of its symbol, in time order, that crosses its level
  (`TriggerKind` says which way), once; it is then dropped from the working set. A limit
  order is reported at its limit (the price it is guaranteed), a stop and an alert at the
  crossing event's price (a stop becomes a market order; a gap fills it worse).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from services.market.events import (
    AT_LEVEL_KINDS,
    INTERVALS,
    UPWARD_KINDS,
    Events,
    Positions,
    TriggerKind,
    Triggers,
)
from services.market.state import BarKey, MarketState

NO_BAR = np.iinfo(np.int64).min
_BAR_FIELDS = ("open", "high", "low", "volume")  # kept per symbol for each interval's open bar


@dataclass(frozen=True)
class _Runs:
    """Consecutive runs of a batch sorted by symbol: single events, or bars of the previous
    interval; `new_sym` marks the first run of each symbol."""

    sym: np.ndarray
    start: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    new_sym: np.ndarray


@dataclass(frozen=True)
class Bars:
    """Bars of one interval touched by a batch, as they stand at its end (the last of each
    symbol may still be open and will be sent again when a later batch extends it)."""

    symbol: np.ndarray
    start: np.ndarray  # int64 ns
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.symbol)


@dataclass(frozen=True)
class Fired:
    """Triggers a batch crossed, in event order: `event` is the crossing event's sequence
    number in the whole stream, `price` the price reported (see `AT_LEVEL_KINDS`)."""

    id: np.ndarray
    kind: np.ndarray
    event: np.ndarray
    ts: np.ndarray
    price: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    def orders(self) -> list[tuple[int, float]]:
        """(order id, price) of the orders among them, for the trading service."""
        mask = self.kind < TriggerKind.ALERT_ABOVE
        return list(zip(self.id[mask].tolist(), self.price[mask].tolist(), strict=True))

    def alerts(self) -> list[tuple[int, int, float]]:
        """(alert id, ts ns, price) of the alerts among them."""
        mask = self.kind >= TriggerKind.ALERT_ABOVE
        return list(
            zip(
                self.id[mask].tolist(),
                self.ts[mask].tolist(),
                self.price[mask].tolist(),
                strict=True,
            )
        )


@dataclass(frozen=True)
class BatchResult:
    """What one batch changed."""

    quote_symbol: np.ndarray  # symbols that traded in the batch
    quote_price: np.ndarray
    quote_ts: np.ndarray
    quote_volume: np.ndarray  # the volume of each symbol's current day bar
    bars: dict[str, Bars]
    position_index: np.ndarray  # positions whose symbol traded
    position_value: np.ndarray
    fired: Fired
    events: int


class Pipeline:
    """Vectorised processing of event batches; state between batches in per-symbol arrays."""

    def __init__(self, triggers: Triggers | None = None, positions: Positions | None = None):
        self._capacity = 0
        self.last_price = np.empty(0)
        self.last_ts = np.empty(0, dtype=np.int64)
        self._bar: dict[str, dict[str, np.ndarray]] = {
            name: {"start": np.empty(0, np.int64), **{f: np.empty(0) for f in _BAR_FIELDS}}
            for name in INTERVALS
        }
        self._seen = 0  # events processed so far: the next event's sequence number
        self._after = NO_BAR  # the last event's time
        self.positions = positions or Positions()
        self.set_triggers(triggers or Triggers.empty())

    # -- configuration -------------------------------------------------------------------
    def set_triggers(self, triggers: Triggers) -> None:
        """Replace the working set (orders placed or cancelled, alerts created or deleted)."""
        self.triggers = triggers
        self._active = np.ones(len(triggers), dtype=bool)
        self._upward = np.isin(triggers.kind, UPWARD_KINDS)
        self._index_triggers()

    def resume(
        self,
        quotes: list[tuple[int, float, int]],
        open_bars: list[tuple[str, int, int, float, float, float, float]],
    ) -> None:
        """Start from stored state: (symbol, last price, its time) and (interval, symbol, start,
        open, high, low, volume) of the bars the next events may extend."""
        width = max([s for s, _, _ in quotes] + [b[1] for b in open_bars], default=-1) + 1
        self._grow(width)
        for symbol, price, ts in quotes:
            self.last_price[symbol] = price
            self.last_ts[symbol] = ts
            self._after = max(self._after, ts)
        for name, symbol, start, open_, high, low, volume in open_bars:
            state = self._bar[name]
            state["start"][symbol] = start
            state["open"][symbol], state["high"][symbol] = open_, high
            state["low"][symbol], state["volume"][symbol] = low, volume

    def set_positions(self, positions: Positions) -> None:
        self.positions = positions

    @property
    def after(self) -> int:
        """The time of the last event processed: the next batch may not start before it."""
        return self._after

    @property
    def working(self) -> Triggers:
        """The triggers not fired yet."""
        keep = self._active
        t = self.triggers
        return Triggers(t.id[keep], t.symbol[keep], t.kind[keep], t.level[keep])

    # -- processing ----------------------------------------------------------------------
    def process(self, events: Events) -> BatchResult:
        events.check(self._after)
        n = len(events)
        self._grow(max(_width(events.symbol), _width(self.positions.symbol)))
        if n == 0:
            return self._result(np.empty(0, np.uint16), {}, _no_fired(), 0)

        order = np.argsort(events.symbol, kind="stable")  # radix sort on uint16
        sym = events.symbol[order]
        ts = events.ts[order]
        price = events.price[order]
        new_sym = np.empty(n, dtype=bool)
        new_sym[0] = True
        np.not_equal(sym[1:], sym[:-1], out=new_sym[1:])

        fired = self._fire(sym, ts, price, new_sym, order)
        # each interval is rolled up from the previous one's runs (1m from the events, 1h from
        # the 1m runs, 1d from the 1h runs), since every interval divides the next
        runs = _Runs(sym, ts, price, price, price, price, events.size[order], new_sym)
        bars = {}
        for name, length in INTERVALS.items():
            bars[name], runs = self._roll(name, length, runs)

        last = np.append(np.flatnonzero(new_sym[1:]), n - 1)  # each symbol's last event
        touched = sym[last]
        self.last_price[touched] = price[last]
        self.last_ts[touched] = ts[last]
        self._seen += n
        self._after = int(events.ts[-1])
        return self._result(touched, bars, fired, n)

    def _result(
        self, touched: np.ndarray, bars: dict[str, Bars], fired: Fired, n: int
    ) -> BatchResult:
        traded = np.zeros(self._capacity, dtype=bool)
        traded[touched] = True
        held = np.flatnonzero(traded[self.positions.symbol])
        values = self.positions.quantity[held] * self.last_price[self.positions.symbol[held]]
        return BatchResult(
            quote_symbol=touched,
            quote_price=self.last_price[touched],
            quote_ts=self.last_ts[touched],
            quote_volume=self._bar["1d"]["volume"][touched],
            bars=bars,
            position_index=held,
            position_value=values,
            fired=fired,
            events=n,
        )

    def _roll(self, name: str, length: int, runs: _Runs) -> tuple[Bars, _Runs]:
        """Bars of one interval over runs sorted by symbol (time order kept within each),
        merged with the bar each symbol had open before the batch. Also returns the batch's own
        bars of this interval (before that merge), the runs the next interval is built from."""
        n = len(runs.sym)
        bucket = runs.start // length
        new_group = runs.new_sym.copy()
        new_group[1:] |= bucket[1:] != bucket[:-1]
        starts = np.flatnonzero(new_group)
        ends = np.append(starts[1:], n) - 1
        first = runs.new_sym[starts]  # each symbol's first group may extend its open bar
        own = _Runs(
            runs.sym[starts],
            bucket[starts] * length,
            runs.open[starts],
            np.maximum.reduceat(runs.high, starts),
            np.minimum.reduceat(runs.low, starts),
            runs.close[ends],
            np.add.reduceat(runs.volume, starts),
            first,
        )
        g_sym, g_start = own.sym, own.start
        g_open, g_high, g_low, g_volume = own.open, own.high, own.low, own.volume
        state = self._bar[name]
        cont = first & (state["start"][g_sym] == g_start)
        if cont.any():
            g_open, g_high, g_low, g_volume = (a.copy() for a in (g_open, g_high, g_low, g_volume))
            s = g_sym[cont]
            g_open[cont] = state["open"][s]
            g_high[cont] = np.maximum(g_high[cont], state["high"][s])
            g_low[cont] = np.minimum(g_low[cont], state["low"][s])
            g_volume[cont] = state["volume"][s] + g_volume[cont]

        lastg = np.append(first[1:], True)  # each symbol's last group stays open
        s = g_sym[lastg]
        state["start"][s] = g_start[lastg]
        state["open"][s] = g_open[lastg]
        state["high"][s] = g_high[lastg]
        state["low"][s] = g_low[lastg]
        state["volume"][s] = g_volume[lastg]
        return Bars(g_sym, g_start, g_open, g_high, g_low, own.close, g_volume), own

    # -- triggers ------------------------------------------------------------------------
    def _index_triggers(self) -> None:
        """Per symbol, the loosest level of its working triggers in each direction, so that one
        comparison per event finds the few events that can fire anything; and the working
        triggers of each direction sorted by symbol, to find a symbol's own with a search."""
        t, up = self.triggers, self._upward
        width = max(self._capacity, _width(t.symbol))
        self._grow(width)
        self._index = {}
        for upward, mask in ((True, up & self._active), (False, ~up & self._active)):
            idx = np.flatnonzero(mask)
            idx = idx[np.argsort(t.symbol[idx], kind="stable")]
            bound = np.full(self._capacity, np.inf if upward else -np.inf)
            if upward:
                np.minimum.at(bound, t.symbol[idx], t.level[idx])
            else:
                np.maximum.at(bound, t.symbol[idx], t.level[idx])
            self._index[upward] = (idx, t.symbol[idx], bound)

    def _fire(
        self,
        sym: np.ndarray,
        ts: np.ndarray,
        price: np.ndarray,
        new_sym: np.ndarray,
        order: np.ndarray,
    ) -> Fired:
        """Triggers crossed by a batch sorted by symbol; `order` maps back to time order."""
        found: list[tuple[np.ndarray, np.ndarray]] = []
        for upward, (idx, idx_sym, bound) in self._index.items():
            if not len(idx):
                continue
            limit = bound[sym]
            cand = np.flatnonzero(price >= limit if upward else price <= limit)
            if not len(cand):
                continue
            cut = np.flatnonzero(sym[cand[1:]] != sym[cand[:-1]]) + 1
            for run in np.split(cand, cut):  # one step per symbol that came near a level
                s = int(sym[run[0]])  # a Python int: s + 1 must not wrap at 65,535
                lo, hi = np.searchsorted(idx_sym, [s, s + 1])
                mine = idx[lo:hi]
                levels = self.triggers.level[mine]
                if upward:
                    k = np.searchsorted(np.maximum.accumulate(price[run]), levels, side="left")
                else:
                    k = np.searchsorted(-np.minimum.accumulate(price[run]), -levels, side="left")
                hit = k < len(run)
                found.append((mine[hit], run[k[hit]]))
        if not found:
            return _no_fired()
        trig = np.concatenate([f[0] for f in found])
        pos = np.concatenate([f[1] for f in found])
        t = self.triggers
        seq = order[pos]  # the crossing event's place in time order
        by_time = np.lexsort((t.id[trig], t.kind[trig], seq))
        trig, pos, seq = trig[by_time], pos[by_time], seq[by_time]
        kind = t.kind[trig]
        fired_price = np.where(np.isin(kind, AT_LEVEL_KINDS), t.level[trig], price[pos])
        self._active[trig] = False
        self._index_triggers()
        return Fired(t.id[trig], kind, seq + self._seen, ts[pos], fired_price)

    def _grow(self, width: int) -> None:
        if width <= self._capacity:
            return
        extra = width - self._capacity
        self.last_price = np.append(self.last_price, np.full(extra, np.nan))
        self.last_ts = np.append(self.last_ts, np.full(extra, NO_BAR, dtype=np.int64))
        for name, old in self._bar.items():
            self._bar[name] = {
                "start": np.append(old["start"], np.full(extra, NO_BAR, dtype=np.int64)),
                **{f: np.append(old[f], np.zeros(extra)) for f in _BAR_FIELDS},
            }
        if hasattr(self, "_index"):
            for upward, (idx, idx_sym, bound) in self._index.items():
                fill = np.inf if upward else -np.inf
                self._index[upward] = (idx, idx_sym, np.append(bound, np.full(extra, fill)))
        self._capacity = width


def _width(symbols: np.ndarray) -> int:
    """How many symbol slots the ids in `symbols` need."""
    return int(symbols.max()) + 1 if len(symbols) else 0


def _no_fired() -> Fired:
    return Fired(
        np.empty(0, np.int64),
        np.empty(0, np.int8),
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.empty(0),
    )


def run_vectorised(
    events: Events, batch: int, triggers: Triggers, positions: Positions
) -> MarketState:
    """The whole stream through `Pipeline` in batches of `batch`, folded into one end state."""
    pipeline = Pipeline(triggers, positions)
    state = MarketState(position_values=[math.nan] * len(positions))
    for part in events.batches(batch):
        state.record(pipeline.process(part))
    return state


def process_plain(events: Events, triggers: Triggers, positions: Positions) -> MarketState:
    """The reference: one Python step per event over plain lists and dicts. Each symbol's
    working triggers are kept sorted by level per direction, so an event finds the ones it
    crosses with a binary search (as a careful plain implementation would)."""
    syms, stamps = events.symbol.tolist(), events.ts.tolist()
    prices, sizes = events.price.tolist(), events.size.tolist()
    upward = {int(k) for k in UPWARD_KINDS}
    at_level = {int(k) for k in AT_LEVEL_KINDS}
    # symbol -> direction -> (sorted levels, the (kind, id, level) at each)
    book: dict[int, dict[bool, tuple[list[float], list[tuple[int, int, float]]]]] = {}
    rows = sorted(
        zip(
            triggers.level.tolist(),
            triggers.kind.tolist(),
            triggers.id.tolist(),
            triggers.symbol.tolist(),
            strict=True,
        )
    )
    for level, kind, tid, s in rows:
        side = book.setdefault(s, {True: ([], []), False: ([], [])})[kind in upward]
        side[0].append(level)
        side[1].append((kind, tid, level))
    lengths = list(INTERVALS.items())
    state = MarketState()
    open_bar: dict[tuple[str, int], list] = {}
    bars: dict[BarKey, list] = {}
    quotes = state.quotes
    for i in range(len(stamps)):
        s, ts, p, z = syms[i], stamps[i], prices[i], sizes[i]
        for name, length in lengths:
            start = ts // length * length
            bar = open_bar.get((name, s))
            if bar is None or bar[0] != start:
                bar = open_bar[(name, s)] = bars[(name, s, start)] = [start, p, p, p, p, z]
            else:
                if p > bar[2]:
                    bar[2] = p
                if p < bar[3]:
                    bar[3] = p
                bar[4] = p
                bar[5] += z
        quotes[s] = (p, ts, open_bar[("1d", s)][5])
        sides = book.get(s)
        if sides:
            up_levels, up_items = sides[True]
            j = bisect_right(up_levels, p)  # levels at or under the price: crossed upward
            crossed = up_items[:j]
            del up_levels[:j], up_items[:j]
            down_levels, down_items = sides[False]
            j = bisect_left(down_levels, p)  # levels at or over the price: crossed downward
            crossed += down_items[j:]
            del down_levels[j:], down_items[j:]
            for kind, tid, level in sorted(crossed):
                state.fired.append((i, kind, tid, level if kind in at_level else p))
    state.bars = {key: tuple(bar[1:]) for key, bar in bars.items()}
    last = {s: q[0] for s, q in state.quotes.items()}
    state.position_values = [
        q * last[s] if s in last else math.nan
        for s, q in zip(positions.symbol.tolist(), positions.quantity.tolist(), strict=True)
    ]
    return state
