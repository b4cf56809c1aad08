"""The stream hub routes quotes by symbol and everything else by user, across threads, and ends
the stream of a subscriber that falls too far behind."""

from __future__ import annotations

import asyncio
import threading

import pytest

from services.market.hub import StreamEvent, StreamHub, StreamLagging


async def _drain(sub, timeout: float = 0.2) -> list[StreamEvent]:
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(sub.next(), timeout))
        except TimeoutError:
            return got


async def test_quotes_by_symbol_and_own_events_by_user_from_another_thread():
    hub = StreamHub(max_queue=100)
    alice = hub.subscribe(1, {"AAPL"})
    bob = hub.subscribe(2, {"MSFT"})
    operator = hub.subscribe(None, {"AAPL"})

    def publish() -> None:  # the pipeline applies its batches in a worker thread
        hub.publish_quote(StreamEvent(kind="quote", symbol="AAPL", data={"price": 1}))
        hub.publish_quote(StreamEvent(kind="quote", symbol="MSFT", data={"price": 2}))
        hub.publish_to_user(1, StreamEvent(kind="fill", data={"order_id": 10}))
        hub.publish_to_user(2, StreamEvent(kind="fill", data={"order_id": 20}))

    thread = threading.Thread(target=publish)
    thread.start()
    thread.join()
    to_alice, to_bob, to_operator = await _drain(alice), await _drain(bob), await _drain(operator)
    assert [(e.kind, e.symbol, e.data) for e in to_alice] == [
        ("quote", "AAPL", {"price": 1}),
        ("fill", None, {"order_id": 10}),
    ]
    assert [(e.kind, e.symbol, e.data) for e in to_bob] == [
        ("quote", "MSFT", {"price": 2}),
        ("fill", None, {"order_id": 20}),
    ]
    assert [e.kind for e in to_operator] == ["quote"]  # nobody's fills reach a user-less stream

    hub.unsubscribe(alice)
    hub.publish_to_user(1, StreamEvent(kind="fill", data={"order_id": 11}))
    assert await _drain(alice) == []


async def test_a_subscriber_too_far_behind_is_told_after_what_it_has():
    hub = StreamHub(max_queue=2)
    slow = hub.subscribe(1, set())
    for order_id in range(4):
        hub.publish_to_user(1, StreamEvent(kind="fill", data={"order_id": order_id}))
    await asyncio.sleep(0.05)  # deliveries run on the subscriber's loop
    assert slow.lagging
    assert [(await slow.next()).data["order_id"] for _ in range(2)] == [0, 1]
    with pytest.raises(StreamLagging, match="more than 2 events behind"):
        await slow.next()
