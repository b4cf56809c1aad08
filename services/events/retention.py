"""Forgetting what is no longer needed: delivered outbox rows, and old deduplication records.

A delivered row is kept a while for inspection ("was order 42's fill announced, and when?");
a `processed_events` record only has to outlive any redelivery of its event, which brokers
make within minutes or hours, never weeks. Rows still to deliver are never touched.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import Engine, delete

from services import clock
from services.db.models import ProcessedEvent
from services.events.outbox import OUTBOX

log = logging.getLogger("events.retention")
PROCESSED = ProcessedEvent.__table__


class Purged(BaseModel):
    dispatched: int
    processed: int


def purge(engine: Engine, older_than: timedelta) -> Purged:
    """Delete outbox rows delivered, and consumer records made, more than `older_than` ago."""
    cutoff = clock.utcnow() - older_than
    with engine.begin() as conn:
        dispatched = conn.execute(
            delete(OUTBOX).where(
                OUTBOX.c.dispatched_at.is_not(None), OUTBOX.c.dispatched_at < cutoff
            )
        ).rowcount
        processed = conn.execute(
            delete(PROCESSED).where(PROCESSED.c.processed_at < cutoff)
        ).rowcount
    log.info(
        "purged %d delivered events and %d consumer records before %s",
        dispatched,
        processed,
        cutoff,
    )
    return Purged(dispatched=dispatched, processed=processed)
