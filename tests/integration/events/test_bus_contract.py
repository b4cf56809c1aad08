"""The contract every message bus keeps, run on the in-process bus and on the real RabbitMQ:
topic patterns, retries with backoff, dead letters after the last attempt."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aio_pika
import pytest
from cloudevents.core.v1.event import CloudEvent

from services.events.bus.base import MessageBus
from services.events.bus.memory import MemoryBus
from tests.integration.events.helpers import (
    FAST_RETRY,
    RABBIT_URL,
    payment,
    rabbit_bus,
    registrations,
)

pytestmark = pytest.mark.timeout(60)


@asynccontextmanager
async def open_test_bus(kind: str) -> AsyncIterator[MessageBus]:
    if kind == "memory":
        bus = MemoryBus(FAST_RETRY)
        try:
            yield bus
        finally:
            await bus.close()
    else:
        async with rabbit_bus(FAST_RETRY) as bus:
            yield bus


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


BUSES = pytest.mark.parametrize("kind", ["memory", "amqp"])


@BUSES
async def test_each_subscriber_gets_the_types_its_pattern_matches(kind):
    seen: dict[str, list[str]] = defaultdict(list)

    def recorder(consumer: str):
        async def handle(event: CloudEvent) -> None:
            seen[consumer].append(event.get_id())

        return handle

    async with open_test_bus(kind) as bus:
        await bus.subscribe("#.payment.*.v1", recorder("payments"), consumer="payments")
        await bus.subscribe(
            "com.tradingassist.user.registered.v1", recorder("users"), consumer="users"
        )
        await bus.subscribe("#", recorder("everything"), consumer="everything")
        pays, users = [payment(1), payment(2)], registrations(2)
        for event in [pays[0], users[0], pays[1], users[1]]:
            await bus.publish(event)
        await wait_until(lambda: sum(len(ids) for ids in seen.values()) >= 8)
        await asyncio.sleep(0.3)  # time for a wrong extra delivery to show

    assert sorted(seen["payments"]) == sorted(e.get_id() for e in pays)
    assert sorted(seen["users"]) == sorted(e.get_id() for e in users)
    assert sorted(seen["everything"]) == sorted(e.get_id() for e in pays + users)


@BUSES
async def test_a_failing_handler_is_retried_with_backoff_until_it_succeeds(kind):
    attempts: list[float] = []
    done: list[CloudEvent] = []

    async def flaky(event: CloudEvent) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise RuntimeError(f"temporary failure {len(attempts)}")
        done.append(event)

    event = payment(7)
    async with open_test_bus(kind) as bus:
        await bus.subscribe("#", flaky, consumer="flaky")
        await bus.publish(event)
        await wait_until(lambda: bool(done))
        await asyncio.sleep(0.3)
        assert await bus.dead_letters("flaky") == []

    assert [e.get_id() for e in done] == [event.get_id()]
    assert done[0].get_data() == event.get_data()
    assert len(attempts) == 3
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    # FAST_RETRY waits 0.05 s, then 0.1 s (small slack for timer granularity)
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09


@BUSES
async def test_an_event_is_dead_lettered_after_the_last_attempt(kind):
    calls: list[str] = []

    async def broken(event: CloudEvent) -> None:
        calls.append(event.get_id())
        raise ValueError("cannot handle this payment")

    async def fine(event: CloudEvent) -> None:
        calls.append(f"fine:{event.get_id()}")

    event = payment(9)
    async with open_test_bus(kind) as bus:
        await bus.subscribe("#.payment.#", broken, consumer="broken")
        await bus.subscribe("#.payment.#", fine, consumer="fine")
        await bus.publish(event)

        async def dead() -> list:
            return await bus.dead_letters("broken")

        deadline = time.monotonic() + 10
        letters = await dead()
        while not letters and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            letters = await dead()
        await asyncio.sleep(0.3)  # no further attempt after dead-lettering
        letters_again = await dead()  # reading dead letters leaves them in place
        fine_dead = await bus.dead_letters("fine")

    assert calls.count(event.get_id()) == FAST_RETRY.max_attempts
    assert calls.count(f"fine:{event.get_id()}") == 1  # the other consumer is unaffected
    assert len(letters) == 1 and letters == letters_again
    letter = letters[0]
    assert (letter.event_id, letter.event_type) == (event.get_id(), event.get_type())
    assert letter.attempts == FAST_RETRY.max_attempts
    assert "cannot handle this payment" in letter.error
    assert fine_dead == []


async def test_rabbitmq_keeps_a_consumers_events_while_it_is_away_and_shares_its_work():
    """A consumer's queue is durable and shared: events published while no process of it runs
    wait for it, and two processes of one consumer split the events between them."""
    got: dict[str, list[str]] = defaultdict(list)

    def process(label: str):
        async def handle(event: CloudEvent) -> None:
            got[label].append(event.get_id())
            await asyncio.sleep(0.01)

        return handle

    async with rabbit_bus(FAST_RETRY) as first:
        await first.subscribe("#", process("first"), consumer="ledger")
        await first.close()  # the consumer's only process stops; its queue stays
        waiting, later = registrations(20), registrations(40, start=100)
        async with rabbit_bus(FAST_RETRY, exchange=first.exchange_name) as publisher:
            for event in waiting:
                await publisher.publish(event)
            async with rabbit_bus(FAST_RETRY, exchange=first.exchange_name) as second:
                await second.subscribe("#", process("second"), consumer="ledger")
                await publisher.subscribe("#", process("third"), consumer="ledger")
                for event in later:
                    await publisher.publish(event)
                await wait_until(lambda: len(got["second"]) + len(got["third"]) >= 60)
                await asyncio.sleep(0.3)

    shared = got["second"] + got["third"]
    assert got["first"] == [] and sorted(shared) == sorted(e.get_id() for e in waiting + later)
    assert got["second"] and got["third"]  # both processes took part


async def test_rabbitmq_dead_letters_a_message_that_is_not_a_cloudevent_at_once():
    handled: list[str] = []

    async def handle(event: CloudEvent) -> None:
        handled.append(event.get_id())

    async with rabbit_bus(FAST_RETRY) as bus:
        await bus.subscribe("#", handle, consumer="ledger")
        connection = await aio_pika.connect(RABBIT_URL)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(bus.exchange_name)
            await exchange.publish(
                aio_pika.Message(b"garbage", message_id="junk-1"),
                routing_key="com.tradingassist.user.registered.v1",
            )
        letters = []
        for _ in range(100):
            letters = await bus.dead_letters("ledger")
            if letters:
                break
            await asyncio.sleep(0.05)

    assert [(d.event_id, d.attempts) for d in letters] == [("junk-1", 1)]
    assert "not a CloudEvent" in letters[0].error and handled == []
