"""Idempotent consumers: a second delivery of an event changes nothing.

Every bus delivers at least once (a dispatcher that crashes after the broker accepted an event
but before marking it sends it again; a consumer that fails after its work retries), so a
consumer that writes to the database records the event id in `processed_events` in the same
transaction as its writes: both commit, or neither does, and a duplicate finds the id taken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import IntegrityError

from services import clock
from services.db.models import ProcessedEvent

log = logging.getLogger("events.consumer")
PROCESSED = ProcessedEvent.__table__

DbHandler = Callable[[Connection, CloudEvent], None]


class _Duplicate(Exception):
    """The event id was already recorded for this consumer."""


def consume_once(engine: Engine, consumer_name: str, event: CloudEvent, handler: DbHandler) -> bool:
    """Run `handler(conn, event)` and record the event as processed, in one transaction.

    Returns False, and runs nothing, when this consumer has processed the event before. The
    id is inserted first, so a concurrent duplicate waits on the unique key and then fails
    instead of running the handler a second time; an exception from the handler rolls back
    both its writes and the record, and the bus delivers again later."""
    try:
        with engine.begin() as conn:
            try:
                conn.execute(
                    insert(PROCESSED).values(
                        consumer=consumer_name,
                        event_id=event.get_id(),
                        processed_at=clock.utcnow(),
                    )
                )
            except IntegrityError as exc:
                raise _Duplicate from exc
            handler(conn, event)
    except _Duplicate:
        log.info(
            "%s skips %s %s: already processed", consumer_name, event.get_type(), event.get_id()
        )
        return False
    return True


def idempotent(
    engine: Engine, consumer_name: str, handler: DbHandler
) -> Callable[[CloudEvent], Awaitable[None]]:
    """A bus handler (async) that runs `handler` through `consume_once` off the event loop."""

    async def handle(event: CloudEvent) -> None:
        await asyncio.to_thread(consume_once, engine, consumer_name, event, handler)

    handle.__qualname__ = f"idempotent[{consumer_name}]"
    return handle
