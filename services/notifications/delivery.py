"""Sending what is due: pending notifications whose next attempt time has come.

Each row is claimed with a conditional UPDATE (still pending, still due at the time we read)
that counts the attempt and pushes its next attempt time one lease ahead, then sent outside any
transaction. Two workers never send the same row, on SQLite or PostgreSQL, and no lock is held
while an SMTP server thinks; a worker that dies mid-send leaves the row to be retried once the
lease runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select, update

from services import clock
from services.db.models import Notification, User
from services.notifications.channels import (
    Channel,
    ChannelName,
    DeliveryError,
    OutgoingMessage,
    Recipient,
)
from services.notifications.retry import RetryPolicy
from services.notifications.schemas import DeliveryReport

log = logging.getLogger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"
REASON_MAX_CHARS = 500  # notifications.last_error is String(500)


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[ChannelName, Channel],
        retry: RetryPolicy,
        lease_s: float = 300.0,
    ):
        self._engine = engine
        self._channels = channels
        self._retry = retry
        self._lease = timedelta(seconds=lease_s)

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Try each due notification once (oldest due first, at most `limit`)."""
        now = clock.utcnow()
        with self._engine.connect() as conn:
            due = conn.execute(
                select(Notification.id, Notification.next_attempt_at)
                .where(
                    Notification.status == PENDING,
                    Notification.channel != ChannelName.IN_APP.value,
                    or_(
                        Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now
                    ),
                )
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(limit)
            ).all()
        counts = {SENT: 0, PENDING: 0, FAILED: 0}
        for notification_id, due_at in due:
            claimed = self._claim(notification_id, due_at, now)
            if claimed is not None:
                counts[self._attempt(*claimed)] += 1
        report = DeliveryReport(sent=counts[SENT], retrying=counts[PENDING], failed=counts[FAILED])
        if due:
            log.info("notifications delivered: %s", report)
        return report

    def _claim(
        self, notification_id: int, due_at: datetime | None, now: datetime
    ) -> tuple[int, str, int, OutgoingMessage] | None:
        """Take the row for this worker; None when another worker took it first."""
        with self._engine.begin() as conn:
            taken = conn.execute(
                update(Notification)
                .where(
                    Notification.id == notification_id,
                    Notification.status == PENDING,
                    Notification.next_attempt_at.is_not_distinct_from(due_at),
                )
                .values(attempts=Notification.attempts + 1, next_attempt_at=now + self._lease)
            ).rowcount
            if not taken:
                return None
            row = conn.execute(
                select(
                    Notification.channel,
                    Notification.attempts,
                    Notification.subject,
                    Notification.body,
                    Notification.body_html,
                    User.id,
                    User.full_name,
                    User.email,
                    User.phone,
                )
                .join(User, User.id == Notification.user_id)
                .where(Notification.id == notification_id)
            ).one()
        message = OutgoingMessage(
            notification_id=notification_id,
            recipient=Recipient(
                user_id=row.id, full_name=row.full_name, email=row.email, phone=row.phone
            ),
            subject=row.subject,
            text=row.body,
            html=row.body_html,
        )
        return notification_id, row.channel, row.attempts, message

    def _attempt(
        self, notification_id: int, channel_name: str, attempts: int, message: OutgoingMessage
    ) -> str:
        """Send once and record the outcome; returns the row's new status."""
        channel = self._channels.get(ChannelName(channel_name))
        try:
            if channel is None:
                raise DeliveryError(f"no {channel_name} channel is configured", permanent=True)
            channel.send(message)
        except DeliveryError as exc:
            return self._failed(notification_id, attempts, exc)
        except Exception as exc:  # a provider's bug must not stop the rest of the queue
            log.exception("notification %s: %s channel raised", notification_id, channel_name)
            return self._failed(
                notification_id, attempts, DeliveryError(f"{type(exc).__name__}: {exc}")
            )
        with self._engine.begin() as conn:
            conn.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(status=SENT, sent_at=clock.utcnow(), next_attempt_at=None, last_error=None)
            )
        log.info("notification %s sent by %s (attempt %s)", notification_id, channel_name, attempts)
        return SENT

    def _failed(self, notification_id: int, attempts: int, exc: DeliveryError) -> str:
        reason = exc.reason[:REASON_MAX_CHARS]
        if exc.permanent or self._retry.gives_up_after(attempts):
            status, next_at = FAILED, None
            log.warning(
                "notification %s failed for good after %s attempts: %s",
                notification_id,
                attempts,
                reason,
            )
        else:
            status = PENDING
            next_at = clock.utcnow() + timedelta(seconds=self._retry.delay_s(attempts))
            log.warning(
                "notification %s attempt %s failed, retry at %s: %s",
                notification_id,
                attempts,
                next_at.isoformat(timespec="seconds"),
                reason,
            )
        with self._engine.begin() as conn:
            conn.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(status=status, next_attempt_at=next_at, last_error=reason)
            )
        return status
