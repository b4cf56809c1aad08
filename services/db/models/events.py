"""The transactional outbox and the events each consumer has already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, col


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_due", "dispatched_at", "available_at"),
        {
            "comment": "Domain events written in the same transaction as the change they "
            "describe, kept until the dispatcher has delivered them to the message bus."
        },
    )

    id: Mapped[str] = col(
        String(36), primary_key=True, comment="Event id (CloudEvents id, a uuid)."
    )
    type: Mapped[str] = col(
        String(120), comment="CloudEvents type, e.g. com.tradingassist.order.filled.v1."
    )
    source: Mapped[str] = col(
        String(200), comment="CloudEvents source, e.g. /trading-assist/trading."
    )
    subject: Mapped[str | None] = col(
        String(200), comment="What the event is about, e.g. orders/42."
    )
    data: Mapped[str] = col(Text, comment="The event's payload as JSON text.")
    created_at: Mapped[datetime] = col(
        DateTime, comment="When the event happened and was recorded (UTC); its CloudEvents time."
    )
    available_at: Mapped[datetime] = col(
        DateTime, comment="Earliest time of the next delivery attempt (UTC)."
    )
    attempts: Mapped[int] = col(Integer, comment="Failed delivery attempts so far.")
    dispatched_at: Mapped[datetime | None] = col(
        DateTime, comment="When the bus accepted it (UTC); empty while still to deliver."
    )
    last_error: Mapped[str | None] = col(Text, comment="Why the last delivery attempt failed.")
    claimed_by: Mapped[str | None] = col(
        String(100), comment="Dispatcher currently delivering it; empty when unclaimed."
    )
    claimed_until: Mapped[datetime | None] = col(
        DateTime, comment="End of that dispatcher's lease (UTC); after it another may claim."
    )


class ProcessedEvent(Base):
    __tablename__ = "processed_events"
    __table_args__ = (
        UniqueConstraint("consumer", "event_id"),
        {"comment": "Events each consumer has handled, so a second delivery changes nothing."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Row id.")
    consumer: Mapped[str] = col(String(100), comment="Name of the consumer that handled it.")
    event_id: Mapped[str] = col(String(100), comment="Event id (CloudEvents id).")
    processed_at: Mapped[datetime] = col(DateTime, comment="When it was handled (UTC).")
