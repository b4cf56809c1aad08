"""Messages to customers, their delivery preferences and the events already notified."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, col


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_due", "status", "next_attempt_at"),
        {"comment": "Messages sent to customers by email, SMS, push or in the app."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Notification id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Recipient (users.id).")
    channel: Mapped[str] = col(String(10), comment="email, sms, push or in_app.")
    subject: Mapped[str] = col(String(200), comment="Subject line.")
    body: Mapped[str] = col(Text, comment="Message text.")
    status: Mapped[str] = col(
        String(10),
        comment="pending (queued, not yet delivered), sent, failed (given up, see last_error) "
        "or read (an in-app message the user opened).",
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was queued (UTC).")
    sent_at: Mapped[datetime | None] = col(DateTime, comment="When it was delivered (UTC).")
    # -- notifications: delivery --
    kind: Mapped[str | None] = col(
        String(40),
        comment="What it is about: order_filled, order_rejected, price_alert_fired, "
        "payment_succeeded, payment_failed, subscription_past_due, kyc_decided, kyc_expiring "
        "or staff_message; empty for older rows.",
    )
    event_id: Mapped[str | None] = col(
        String(200),
        index=True,
        internal=True,
        comment="Id of the domain event that caused it, if any.",
    )
    body_html: Mapped[str | None] = col(
        Text, internal=True, comment="HTML version of the body, for email."
    )
    attempts: Mapped[int] = col(
        Integer, default=0, server_default="0", comment="Delivery attempts made so far."
    )
    next_attempt_at: Mapped[datetime | None] = col(
        DateTime,
        internal=True,
        comment="When the next delivery attempt is due (UTC); empty once settled.",
    )
    last_error: Mapped[str | None] = col(
        String(500), comment="Why the last delivery attempt failed; empty after success."
    )


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "channel"),
        {
            "comment": "A user's choice to receive, or not, one kind of notification on one "
            "channel; without a row the platform's default for the channel applies."
        },
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Preference id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), comment="User it belongs to (users.id).")
    kind: Mapped[str] = col(
        String(40),
        comment="Kind of notification, e.g. order_filled, payment_failed, kyc_decided.",
    )
    channel: Mapped[str] = col(String(10), comment="email, sms, push or in_app.")
    enabled: Mapped[bool] = col(Boolean, comment="True: send this kind on this channel.")
    updated_at: Mapped[datetime] = col(DateTime, comment="When it was last changed (UTC).")


class NotificationEventSeen(Base):
    __tablename__ = "notification_events"
    __table_args__ = {
        "comment": "Domain events the notification service has handled, one row per event id; "
        "its key is what makes a redelivered event notify only once."
    }

    event_id: Mapped[str] = col(
        String(200), primary_key=True, comment="The event's id (CloudEvents id), unique."
    )
    type: Mapped[str] = col(String(200), comment="The event's type, e.g. ...order.filled.v1.")
    user_id: Mapped[int] = col(Integer, comment="User the event was about (users.id).")
    notifications: Mapped[int] = col(Integer, comment="How many notifications it created.")
    handled_at: Mapped[datetime] = col(DateTime, comment="When it was handled (UTC).")
