"""What the outbox holds right now: for `trading-assist events status` and the doctor."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select

from services import clock
from services.events.outbox import OUTBOX


class OutboxStatus(BaseModel):
    pending: int = Field(description="Events not yet delivered.")
    retrying: int = Field(description="Of those, events the bus refused at least once.")
    dispatched: int = Field(description="Events delivered and still kept.")
    oldest_pending: datetime | None = Field(description="When the oldest pending event happened.")
    last_error: str | None = Field(description="The latest refusal's error, if any is pending.")

    @property
    def oldest_pending_age_s(self) -> float | None:
        if self.oldest_pending is None:
            return None
        return (clock.utcnow() - self.oldest_pending).total_seconds()


def outbox_status(engine: Engine) -> OutboxStatus:
    pending = OUTBOX.c.dispatched_at.is_(None)
    with engine.connect() as conn:
        counts = conn.execute(
            select(
                func.count().filter(pending),
                func.count().filter(pending, OUTBOX.c.attempts > 0),
                func.count().filter(OUTBOX.c.dispatched_at.is_not(None)),
                func.min(OUTBOX.c.created_at).filter(pending),
            )
        ).one()
        last_error = conn.execute(
            select(OUTBOX.c.last_error)
            .where(pending, OUTBOX.c.last_error.is_not(None))
            .order_by(OUTBOX.c.available_at.desc())
            .limit(1)
        ).scalar()
    return OutboxStatus(
        pending=counts[0],
        retrying=counts[1],
        dispatched=counts[2],
        oldest_pending=counts[3],
        last_error=last_error,
    )
