"""How fast events go from a committed change to a consumer, through the outbox, beside the
same events published straight to the same bus (no outbox) in the same run.

For each bus (the in-process one, and RabbitMQ when it answers) a counting consumer is
subscribed and a dispatcher runs as a task; an emitter thread commits one transaction per
event (the change's event recorded in the outbox, as a domain service does) and wakes the
dispatcher. The clock runs from the first commit to the last delivery; each event's latency
runs from its commit to its delivery. The baseline publishes the same number of events
directly and waits for the same consumer. The ratio (outbox / direct) is the price of
"never lose an event": a database write and a second hop.

    trading-assist bench outbox [--events 2000] [--amqp-url URL] [--json]
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.events.bus.amqp import AmqpBus
from services.events.bus.base import MessageBus
from services.events.bus.memory import MemoryBus
from services.events.catalogue import ModelUsage, new_event
from services.events.dispatcher import Dispatcher
from services.events.outbox import record

CONSUMER = "bench"


class BusResult(BaseModel):
    bus: str
    events: int
    outbox_per_s: float = Field(description="Events/s from first commit to last delivery.")
    direct_per_s: float = Field(description="Events/s published straight to the bus.")
    ratio: float = Field(description="outbox_per_s / direct_per_s.")
    latency_p50_ms: float = Field(description="Median time from an event's commit to delivery.")
    latency_p95_ms: float
    error: str | None = Field(None, description="Why this bus could not be measured.")


class OutboxBenchReport(BaseModel):
    database: str
    batch_size: int
    results: list[BusResult]


def _events(count: int) -> list[CloudEvent]:
    return [
        new_event(
            ModelUsage(
                provider="embedded",
                model="bench",
                prompt_tokens=n,
                completion_tokens=1,
                cost_usd=0,
            ),
            subject=f"bench/{n}",
        )
        for n in range(count)
    ]


class _Counter:
    """The consumer: notes when each event arrived, and says when all have."""

    def __init__(self, expected: int) -> None:
        self.arrived: dict[str, float] = {}
        self.expected = expected
        self.done = asyncio.Event()

    async def __call__(self, event: CloudEvent) -> None:
        self.arrived.setdefault(event.get_id(), time.perf_counter())
        if len(self.arrived) >= self.expected:
            self.done.set()


async def _through_outbox(
    engine: Engine, bus: MessageBus, count: int, batch_size: int, timeout_s: float
) -> tuple[float, list[float]]:
    counter = _Counter(count)
    await bus.subscribe("#", counter, consumer=CONSUMER)
    dispatcher = Dispatcher(engine, bus, batch_size=batch_size, poll_s=0.05)
    loop = asyncio.get_running_loop()
    committed: dict[str, float] = {}

    def emit(events: list[CloudEvent]) -> None:
        for event in events:
            with engine.begin() as conn:
                record(conn, event)
            committed[event.get_id()] = time.perf_counter()
            loop.call_soon_threadsafe(dispatcher.wake)

    events = _events(count)
    dispatcher.start()
    start = time.perf_counter()
    emitter = threading.Thread(target=emit, args=(events,))
    emitter.start()
    try:
        await asyncio.wait_for(counter.done.wait(), timeout_s)
    finally:
        await dispatcher.stop()
        await asyncio.to_thread(emitter.join)
    elapsed = max(counter.arrived.values()) - start
    latencies = [(counter.arrived[i] - committed[i]) * 1000 for i in committed]
    return count / elapsed, latencies


async def _direct(bus: MessageBus, count: int, timeout_s: float) -> float:
    counter = _Counter(count)
    await bus.subscribe("#", counter, consumer=f"{CONSUMER}-direct")
    events = _events(count)
    start = time.perf_counter()
    for event in events:
        await bus.publish(event)
    await asyncio.wait_for(counter.done.wait(), timeout_s)
    return count / (max(counter.arrived.values()) - start)


async def _measure(
    label: str,
    open_bus: Callable[[], MessageBus],
    engine: Engine,
    count: int,
    batch_size: int,
    timeout_s: float,
) -> BusResult:
    bus = open_bus()
    try:
        await bus.ping()
        outbox_rate, latencies = await _through_outbox(engine, bus, count, batch_size, timeout_s)
        direct_rate = await _direct(bus, count, timeout_s)
    except (ConnectionError, TimeoutError) as exc:
        return BusResult(
            bus=label,
            events=count,
            outbox_per_s=0,
            direct_per_s=0,
            ratio=0,
            latency_p50_ms=0,
            latency_p95_ms=0,
            error=str(exc) or type(exc).__name__,
        )
    finally:
        await bus.close()
        if isinstance(bus, AmqpBus):
            await _delete_topology(bus)
    ordered = sorted(latencies)
    return BusResult(
        bus=label,
        events=count,
        outbox_per_s=outbox_rate,
        direct_per_s=direct_rate,
        ratio=outbox_rate / direct_rate,
        latency_p50_ms=statistics.median(ordered),
        latency_p95_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
    )


async def _delete_topology(bus: AmqpBus) -> None:
    """The bench's exchange and queues are its own: leave nothing behind on the broker."""
    import aio_pika

    connection = await aio_pika.connect(bus.url)
    async with connection:
        channel = await connection.channel()
        for consumer in bus.subscribed:
            for name in bus.queues_of(consumer):
                await channel.queue_delete(name)
        await channel.exchange_delete(bus.exchange_name)


def run(
    count: int,
    *,
    amqp_url: str | None,
    batch_size: int = 100,
    timeout_s: float = 300.0,
) -> OutboxBenchReport:
    """Measure each bus on a fresh SQLite database of its own (WAL, as the platform runs)."""
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as folder:
        buses: list[tuple[str, Callable[[], MessageBus]]] = [("memory://", MemoryBus)]
        if amqp_url:
            exchange = f"bench-outbox-{uuid.uuid4().hex[:12]}"
            buses.append(("RabbitMQ", lambda: AmqpBus(amqp_url, exchange=exchange)))
        results = []
        for label, opener in buses:
            engine = make_engine(f"sqlite:///{Path(folder) / f'outbox-{len(results)}.db'}")
            try:
                upgrade(engine)
                results.append(
                    asyncio.run(_measure(label, opener, engine, count, batch_size, timeout_s))
                )
            finally:
                engine.dispose()
        return OutboxBenchReport(
            database="sqlite (temporary file, WAL)", batch_size=batch_size, results=results
        )
