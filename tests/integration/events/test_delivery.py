"""Delivery end to end over the real RabbitMQ: several dispatchers over one outbox, a broker
outage, redelivery; the idempotent consumer sees every event exactly once."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from services import clock
from services.db.models import OutboxEvent, ProcessedEvent
from services.events.bus.amqp import AmqpBus
from services.events.consumer import consume_once, idempotent
from services.events.dispatcher import Dispatcher, DispatchReport
from services.events.outbox import record
from tests.integration.events.helpers import (
    DATABASES,
    DEAD_RABBIT_URL,
    RABBIT_URL,
    database,
    handled_counts,
    rabbit_bus,
    registrations,
    write_handled,
)

pytestmark = pytest.mark.timeout(180)
OUTBOX = OutboxEvent.__table__


async def wait_for_handled(engine, ids: set[str], timeout: float = 30.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts = await asyncio.to_thread(handled_counts, engine)
        if set(counts) >= ids or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.1)


def record_all(engine, events) -> None:
    for event in events:
        with engine.begin() as conn:
            record(conn, event)


def undispatched(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(OUTBOX).where(OUTBOX.c.dispatched_at.is_(None))
        ).scalar_one()


@DATABASES
def test_two_dispatchers_over_one_outbox_send_each_event_once(kind, tmp_path):
    """Two dispatcher threads, each with its own loop and broker connection, race over the
    same outbox; a raw queue on the exchange counts what the broker received."""
    events = registrations(400)
    exchange = f"test-events-{uuid.uuid4().hex[:12]}"
    reports: dict[str, DispatchReport] = {}

    async def count_on_broker(stop: threading.Event) -> Counter:
        import aio_pika

        connection = await aio_pika.connect(RABBIT_URL)
        async with connection:
            channel = await connection.channel()
            ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
            queue = await channel.declare_queue(exclusive=True)
            await queue.bind(ex, routing_key="#")
            stop.set()  # bound: the dispatchers may start
            seen: Counter = Counter()
            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < 2.0:
                message = await queue.get(no_ack=True, fail=False, timeout=5)
                if message is None:
                    await asyncio.sleep(0.05)
                    continue
                seen[message.message_id] += 1
                quiet_since = time.monotonic()
            await channel.exchange_delete(exchange)
            return seen

    with database(kind, tmp_path) as engine:
        record_all(engine, events)
        bound = threading.Event()
        seen: Counter = Counter()

        def broker_side():
            seen.update(asyncio.run(count_on_broker(bound)))

        ready = threading.Barrier(2)

        def dispatcher_side(name: str):
            async def run():
                bus = AmqpBus(RABBIT_URL, exchange=exchange, timeout_s=5)
                try:
                    await bus.ping()  # connected: the race starts when both are
                    ready.wait(30)
                    reports[name] = await Dispatcher(engine, bus, name=name, batch_size=25).drain()
                finally:
                    await bus.close()

            asyncio.run(run())

        counter = threading.Thread(target=broker_side)
        counter.start()
        assert bound.wait(10)
        workers = [threading.Thread(target=dispatcher_side, args=(n,)) for n in ("d1", "d2")]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        counter.join(120)
        left = undispatched(engine)

    assert sorted(seen) == sorted(e.get_id() for e in events)
    assert set(seen.values()) == {1}
    assert reports["d1"].delivered + reports["d2"].delivered == len(events)
    assert reports["d1"].delivered > 0 and reports["d2"].delivered > 0  # both took part
    assert left == 0


async def test_a_broker_outage_delays_events_and_loses_none(tmp_path):
    """Changes made while the broker is unreachable wait in the outbox; once it is back every
    event reaches the idempotent consumer exactly once, also those sent twice."""
    consumer = "notifications"
    with database("sqlite", tmp_path) as engine:
        async with rabbit_bus(consumers=(consumer,)) as bus:
            await bus.subscribe("#", idempotent(engine, consumer, write_handled), consumer=consumer)

            # 1. the broker is unreachable: every round fails, nothing is lost
            down = AmqpBus(DEAD_RABBIT_URL, exchange=bus.exchange_name, timeout_s=2)
            before, during = registrations(5), registrations(5, start=100)
            record_all(engine, before)
            failing = Dispatcher(engine, down, backoff_s=30, publish_timeout_s=2, lease_s=10)
            first = await failing.dispatch_once()
            record_all(engine, during)
            second = await failing.dispatch_once()
            await down.close()
            with engine.connect() as conn:
                errors = (
                    conn.execute(
                        select(OUTBOX.c.last_error).where(OUTBOX.c.last_error.is_not(None))
                    )
                    .scalars()
                    .all()
                )
            assert (first.failed, first.delivered, second.failed, second.claimed) == (5, 0, 5, 5)
            assert undispatched(engine) == 10
            assert len(errors) == 10 and all("ConnectionError" in e for e in errors)

            # 2. the broker is back: the events backing off are delivered once they are due
            restored = Dispatcher(engine, bus)
            early = await restored.drain()
            with time_machine.travel(clock.now() + timedelta(seconds=60)):  # past the 30 s backoff
                late = await restored.drain()
            ids = {e.get_id() for e in before + during}
            counts = await wait_for_handled(engine, ids)
            assert early.delivered == 0 and late.delivered == 10  # not before the backoff
            assert counts == dict.fromkeys(ids, 1)

            # 3. the connection is closed (a restart): the bus reconnects on the next publish
            await bus.close()
            after = registrations(3, start=200)
            record_all(engine, after)
            reconnected = Dispatcher(engine, bus)
            report = await reconnected.drain()
            await bus.subscribe("#", idempotent(engine, consumer, write_handled), consumer=consumer)

            # 4. a dispatcher that died between the broker's confirm and its mark sends again
            with engine.begin() as conn:
                conn.execute(update(OUTBOX).values(dispatched_at=None, available_at=clock.utcnow()))
            resent = await Dispatcher(engine, bus).drain()
            ids |= {e.get_id() for e in after}
            counts = await wait_for_handled(engine, ids)
            await asyncio.sleep(1.0)  # duplicates in flight would land now
            counts = handled_counts(engine)
            with engine.connect() as conn:
                processed = conn.execute(
                    select(func.count()).select_from(ProcessedEvent.__table__)
                ).scalar_one()

    assert report.delivered == 3
    assert resent.delivered == 13
    assert counts == dict.fromkeys(ids, 1)
    assert processed == 13


@DATABASES
def test_consume_once_runs_the_handler_once_per_consumer(kind, tmp_path):
    event = registrations(1)[0]
    calls = []

    def handler(conn, e):
        calls.append(e.get_id())
        write_handled(conn, e)

    def failing(conn, e):
        write_handled(conn, e)
        raise RuntimeError("handler failed after writing")

    with database(kind, tmp_path) as engine:
        with pytest.raises(RuntimeError):
            consume_once(engine, "first", event, failing)
        assert handled_counts(engine) == {}  # its write rolled back with the record
        assert consume_once(engine, "first", event, handler) is True
        assert consume_once(engine, "first", event, handler) is False
        assert consume_once(engine, "second", event, handler) is True
        counts = handled_counts(engine)

    assert calls == [event.get_id(), event.get_id()]
    assert counts == {event.get_id(): 2}


@DATABASES
def test_two_deliveries_at_once_run_the_handler_once(kind, tmp_path):
    """Two workers of one consumer get the same event at the same moment (a redelivery racing
    the first): the second waits on the first's unique key, then skips."""
    event = registrations(1)[0]
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def slow_handler(conn, e):
        time.sleep(0.3)  # the other delivery arrives while this one is still open
        write_handled(conn, e)

    def deliver():
        barrier.wait()
        results.append(consume_once(engine, "notifications", event, slow_handler))

    with database(kind, tmp_path) as engine:
        workers = [threading.Thread(target=deliver) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        counts = handled_counts(engine)

    assert sorted(results) == [False, True]
    assert counts == {event.get_id(): 1}
