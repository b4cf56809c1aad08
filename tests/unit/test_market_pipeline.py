"""The vectorised price pipeline ends in the same state as the plain per-event loop: on a replay
of the real sample, and on streams hypothesis makes up; and its trigger rules, one by one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.bench_marketdata import build_replay, find_sample
from services.errors import AssistantError
from services.market.events import INTERVALS, NS_PER_S, Events, Positions, TriggerKind, Triggers
from services.market.pipeline import Pipeline, process_plain, run_vectorised
from services.market.state import MarketState

SAMPLE = find_sample()
MIN = 60 * NS_PER_S


@pytest.fixture(scope="module")
def replay():
    assert SAMPLE is not None, "the public trading sample must be present"
    return build_replay(SAMPLE, 120_000)


@pytest.fixture(scope="module")
def plain(replay) -> MarketState:
    return process_plain(replay.events, replay.triggers, replay.positions)


@pytest.mark.parametrize("batch", [1_000, 65_536, 120_000])
def test_real_replay_ends_like_the_plain_loop(replay, plain, batch):
    vectorised = run_vectorised(replay.events, batch, replay.triggers, replay.positions)
    assert vectorised.differences(plain) == []
    # the replay exercises every part: all intervals, orders and alerts, marked positions
    assert {key[0] for key in plain.bars} == set(INTERVALS)
    kinds = {kind for _, kind, _, _ in plain.fired}
    assert {int(TriggerKind.BUY_LIMIT), int(TriggerKind.ALERT_ABOVE)} <= kinds
    assert len(plain.fired) > 100
    assert sum(not math.isnan(v) for v in plain.position_values) > 100


def test_a_difference_is_reported(plain):
    """The comparison the equivalence rests on does notice a wrong bar or price."""
    other = MarketState(
        quotes=dict(plain.quotes),
        bars=dict(plain.bars),
        fired=list(plain.fired),
        position_values=list(plain.position_values),
    )
    key = next(iter(other.bars))
    o, h, lo, c, v = other.bars[key]
    other.bars[key] = (o, h + 0.01, lo, c, v)
    other.fired[0] = (*other.fired[0][:3], other.fired[0][3] + 1)
    found = other.differences(plain)
    assert any(line.startswith(f"bar {key}") for line in found)
    assert any(line.startswith("fired") for line in found)


@st.composite
def streams(draw):
    n = draw(st.integers(1, 400))
    symbols = draw(st.integers(1, 5))
    sym = draw(st.lists(st.integers(0, symbols - 1), min_size=n, max_size=n))
    # gaps of 0 (ties) up to two hours, so bars of every interval open, extend and close
    gaps = draw(
        st.lists(st.sampled_from([0, 1, 59, 60, 61, 3599, 3600, 7200]), min_size=n, max_size=n)
    )
    ts = np.cumsum(np.array(gaps, dtype=np.int64) * NS_PER_S) + 1_700_000_000 * NS_PER_S
    prices = draw(
        st.lists(st.sampled_from([99.0, 99.5, 100.0, 100.5, 101.0, 102.25]), min_size=n, max_size=n)
    )
    sizes = draw(st.lists(st.floats(0, 1000, allow_nan=False), min_size=n, max_size=n))
    trig = draw(
        st.lists(
            st.tuples(
                st.integers(0, symbols),
                st.sampled_from(list(TriggerKind)),
                st.sampled_from([99.0, 99.75, 100.0, 100.5, 101.5, 103.0]),
            ),
            max_size=30,
        )
    )
    triggers = Triggers.of([(i, s, k, level) for i, (s, k, level) in enumerate(trig)])
    held = draw(st.lists(st.tuples(st.integers(0, symbols), st.floats(-50, 50)), max_size=6))
    positions = Positions.of([h[0] for h in held], [h[1] for h in held])
    batch = draw(st.integers(1, n + 1))
    return Events.of(sym, ts, prices, sizes), triggers, positions, batch


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_made_up_streams_end_like_the_plain_loop(stream):
    events, triggers, positions, batch = stream
    plain = process_plain(events, triggers, positions)
    assert run_vectorised(events, batch, triggers, positions).differences(plain) == []


def _events(*rows: tuple[int, int, float]) -> Events:
    """(symbol, minute, price) rows, size 1."""
    return Events.of(
        [r[0] for r in rows], [r[1] * MIN for r in rows], [r[2] for r in rows], [1.0] * len(rows)
    )


def test_each_trigger_kind_fires_at_its_crossing_and_price():
    triggers = Triggers.of(
        [
            (1, 0, TriggerKind.BUY_LIMIT, 99.0),  # low <= 99: reported at the limit
            (2, 0, TriggerKind.SELL_LIMIT, 101.0),  # high >= 101: at the limit
            (3, 0, TriggerKind.BUY_STOP, 100.5),  # high >= 100.5: at the event's price
            (4, 0, TriggerKind.SELL_STOP, 99.5),  # low <= 99.5: at the event's price
            (5, 0, TriggerKind.ALERT_ABOVE, 200.0),  # never crossed
        ]
    )
    pipeline = Pipeline(triggers)
    result = pipeline.process(_events((0, 0, 100.0), (0, 1, 101.2), (0, 2, 98.7), (0, 3, 100.0)))
    fired = result.fired
    assert list(
        zip(fired.id.tolist(), fired.event.tolist(), fired.price.tolist(), strict=True)
    ) == [(2, 1, 101.0), (3, 1, 101.2), (1, 2, 99.0), (4, 2, 98.7)]
    assert result.fired.orders() == [(2, 101.0), (3, 101.2), (1, 99.0), (4, 98.7)]
    assert pipeline.working.id.tolist() == [5]


def test_an_alert_fires_once_however_often_it_is_crossed():
    pipeline = Pipeline(Triggers.of([(7, 0, TriggerKind.ALERT_ABOVE, 100.0)]))
    first = pipeline.process(_events((0, 0, 99.0), (0, 1, 100.0), (0, 2, 101.0)))
    again = pipeline.process(_events((0, 3, 99.0), (0, 4, 105.0)))
    assert first.fired.alerts() == [(7, MIN, 100.0)]
    assert len(again.fired) == 0
    plain = process_plain(
        _events((0, 0, 99.0), (0, 1, 100.0), (0, 2, 101.0), (0, 3, 99.0), (0, 4, 105.0)),
        Triggers.of([(7, 0, TriggerKind.ALERT_ABOVE, 100.0)]),
        Positions(),
    )
    assert plain.fired == [(1, int(TriggerKind.ALERT_ABOVE), 7, 100.0)]


def test_bars_quotes_and_positions_across_batches():
    pipeline = Pipeline(positions=Positions.of([0, 1], [2.0, 5.0]))
    one = pipeline.process(_events((0, 0, 10.0), (1, 0, 50.0), (0, 1, 12.0)))
    two = pipeline.process(_events((0, 1, 9.0), (0, 61, 11.0)))
    # the first minute bar of symbol 0 is extended by the second batch, then a new hour opens
    minute = {
        (s, t): (o, h, lo, c, v)
        for s, t, o, h, lo, c, v in zip(
            *(
                getattr(two.bars["1m"], f).tolist()
                for f in ("symbol", "start", "open", "high", "low", "close", "volume")
            ),
            strict=True,
        )
    }
    assert minute[(0, MIN)] == (12.0, 12.0, 9.0, 9.0, 2.0)
    assert minute[(0, 61 * MIN)] == (11.0, 11.0, 11.0, 11.0, 1.0)
    day = two.bars["1d"]
    assert (day.open.tolist(), day.high.tolist(), day.low.tolist()) == ([10.0], [12.0], [9.0])
    assert two.quote_price.tolist() == [11.0] and two.quote_volume.tolist() == [4.0]
    assert one.position_index.tolist() == [0, 1]
    assert one.position_value.tolist() == [24.0, 250.0]
    assert two.position_index.tolist() == [0] and two.position_value.tolist() == [22.0]


@pytest.mark.parametrize(
    "events, message",
    [
        (_events((0, 5, 1.0), (0, 4, 1.0)), "go backwards"),
        (_events((0, 5, 0.0)), "not a positive number"),
        (Events.of([0], [0], [1.0], [-1.0]), "negative"),
        (Events.of([0, 1], [0], [1.0], [1.0]), "different lengths"),
    ],
)
def test_a_batch_it_cannot_process_is_refused(events, message):
    pipeline = Pipeline()
    with pytest.raises(AssistantError, match=message) as caught:
        pipeline.process(events)
    assert caught.value.code == "events_invalid"
    assert len(pipeline.process(_events((0, 6, 1.0))).quote_symbol) == 1  # nothing was kept


def test_time_may_not_go_back_across_batches():
    pipeline = Pipeline()
    pipeline.process(_events((0, 10, 1.0)))
    with pytest.raises(AssistantError, match="go backwards"):
        pipeline.process(_events((0, 9, 1.0)))


def test_the_highest_symbol_id_fires_its_own_triggers():
    last = 65_535
    pipeline = Pipeline(
        Triggers.of(
            [(1, last, TriggerKind.ALERT_ABOVE, 10.0), (2, 0, TriggerKind.ALERT_ABOVE, 10.0)]
        )
    )
    fired = pipeline.process(Events.of([last, 0], [0, 1], [11.0, 9.0], [1.0, 1.0])).fired
    assert fired.alerts() == [(1, 0, 11.0)]
