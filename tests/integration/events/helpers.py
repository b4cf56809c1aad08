"""What the event tests share: migrated databases, RabbitMQ buses on throw-away names, and a
consumer whose writes show how often it ran."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aio_pika
import pytest
from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import Connection, Engine, func, insert, select

from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import AuditLog, OutboxEvent
from services.events.bus import open_bus
from services.events.bus.amqp import AmqpBus
from services.events.bus.base import RetryPolicy
from services.events.catalogue import PaymentSucceeded, UserRegistered, new_event
from services.events.dispatcher import Dispatcher, DispatchReport
from services.notifications.service import NotificationService
from services.settings import Settings
from services.workers import subscribe_notifications
from tests.integration import postgres

RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEAD_RABBIT_URL = "amqp://guest:guest@127.0.0.1:1/"  # nothing listens on port 1
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_s=0.05, backoff_max_s=0.2)
# the databases an outbox test runs on; PostgreSQL's runs carry the suite's `postgres` marker
DATABASES = pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)


def sqlite_engine(folder: Path) -> Engine:
    engine = make_engine(f"sqlite:///{folder / 'events.db'}")
    upgrade(engine)
    return engine


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    name = postgres.create_database()
    engine = make_engine(postgres.url(name))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        postgres.drop_database(name)


@contextmanager
def database(kind: str, folder: Path) -> Iterator[Engine]:
    if kind == "postgresql":
        with postgres_engine() as engine:
            yield engine
    else:
        engine = sqlite_engine(folder)
        try:
            yield engine
        finally:
            engine.dispose()


@asynccontextmanager
async def rabbit_bus(
    retry: RetryPolicy = FAST_RETRY, exchange: str | None = None, consumers: tuple[str, ...] = ()
) -> AsyncIterator[AmqpBus]:
    """An AmqpBus on an exchange of its own; the exchange and every queue of the consumers
    named (and of those it subscribed) are deleted afterwards."""
    exchange = exchange or f"test-events-{uuid.uuid4().hex[:12]}"
    bus = AmqpBus(RABBIT_URL, exchange=exchange, retry=retry, timeout_s=5)
    try:
        yield bus
    finally:
        await bus.close()
        await delete_topology(bus, consumers)


async def delete_topology(bus: AmqpBus, consumers: tuple[str, ...] = ()) -> None:
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        for consumer in {*consumers, *bus.subscribed}:
            for name in bus.queues_of(consumer):
                await channel.queue_delete(name)
        await channel.exchange_delete(bus.exchange_name)


def registrations(count: int, start: int = 1) -> list[CloudEvent]:
    return [
        new_event(UserRegistered(user_id=n, country="DE", role="customer"), subject=f"users/{n}")
        for n in range(start, start + count)
    ]


def payment(n: int) -> CloudEvent:
    return new_event(
        PaymentSucceeded(
            payment_id=n,
            user_id=n,
            direction="deposit",
            method="card",
            amount=10.0 * n,
            currency="EUR",
        ),
        subject=f"payments/{n}",
    )


def write_handled(conn: Connection, event: CloudEvent) -> None:
    """A consumer's own write: one audit row per event it handled."""
    conn.execute(
        insert(AuditLog).values(
            occurred_at=event.get_time().replace(tzinfo=None),
            actor_user_id=None,
            actor_role="system",
            action="event.handled",
            outcome="ok",
            detail=json.dumps({"event_id": event.get_id()}),
        )
    )


def handled_counts(engine: Engine) -> dict[str, int]:
    """How many times the consumer's write happened, per event id."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditLog.detail, func.count())
            .where(AuditLog.action == "event.handled")
            .group_by(AuditLog.detail)
        ).all()
    return {json.loads(detail)["event_id"]: count for detail, count in rows}


async def deliver_to_notifications(settings: Settings, engine: Engine) -> DispatchReport:
    """What a serving process does with the outbox, once: the dispatcher delivers every due
    event to the configured bus (memory:// in these tests), whose notifications consumer turns
    them into notifications. Returns when every delivery has been handled."""
    bus = open_bus(settings)
    try:
        await subscribe_notifications(bus, NotificationService.from_settings(settings, engine))
        return await Dispatcher.from_settings(settings, engine, bus).drain()
    finally:
        await bus.close()  # the in-process bus lets the deliveries in flight finish first


def outbox_types(engine: Engine) -> list[str]:
    """The types of the events in the outbox, sorted, as `payment.succeeded` (events of one
    transaction share their time, so the order they were recorded in is not kept)."""
    with engine.connect() as conn:
        types = conn.scalars(select(OutboxEvent.type)).all()
    return sorted(t.removeprefix("com.tradingassist.").rsplit(".", 1)[0] for t in types)
