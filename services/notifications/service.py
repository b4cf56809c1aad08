"""The notification service: events and staff messages in, rows queued, what is due delivered.

    service = NotificationService.from_settings(settings, engine)
    service.handle_event(event)      # the event bus calls this; returns the ids it created
    service.deliver_due()            # a periodic job calls this; sends email, SMS and push

An event becomes, in one transaction, one row per channel the user has on for its kind, and a
row in `notification_events` whose key is the event id: the same event handled twice (a
redelivery, or two workers at once) fails on that key, rolls back and notifies nobody twice.
In-app rows are sent as written; the others wait for `deliver_due`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from services import audit, clock
from services.db.models import Notification, NotificationEventSeen, User
from services.errors import AssistantError
from services.identity import Caller, Role
from services.notifications.channels import Channel, ChannelName, Recipient
from services.notifications.delivery import PENDING, SENT, Deliverer
from services.notifications.events import NotificationEvent, NotificationKind, kind_of
from services.notifications.preferences import check_own, enabled_channels
from services.notifications.providers import (
    LoggingPushProvider,
    LoggingSmsProvider,
    PushChannel,
    PushProvider,
    SmsChannel,
    SmsProvider,
)
from services.notifications.retry import RetryPolicy
from services.notifications.schemas import DeliveryReport, NotificationOut, StaffMessage
from services.notifications.smtp_email import LoggedEmailChannel, SmtpEmailChannel
from services.notifications.templates import RenderedMessage, TemplateRenderer
from services.settings import Settings

log = logging.getLogger(__name__)

READ = "read"


class _AlreadyHandled(Exception):
    """The event's id is already in notification_events (raised to roll the work back)."""


class NotificationService:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[ChannelName, Channel],
        retry: RetryPolicy,
        renderer: TemplateRenderer | None = None,
    ):
        self.engine = engine
        self._renderer = renderer or TemplateRenderer()
        self._deliverer = Deliverer(engine, channels, retry)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: Engine,
        *,
        sms: SmsProvider | None = None,
        push: PushProvider | None = None,
    ) -> NotificationService:
        """Email over SMTP when SMTP_HOST is set (else into the log); SMS and push through the
        providers given, or the logging ones."""
        email = SmtpEmailChannel(settings) if settings.smtp_host else LoggedEmailChannel()
        channels: dict[ChannelName, Channel] = {
            ChannelName.EMAIL: email,
            ChannelName.SMS: SmsChannel(sms or LoggingSmsProvider()),
            ChannelName.PUSH: PushChannel(push or LoggingPushProvider()),
        }
        return cls(engine, channels, RetryPolicy.from_settings(settings))

    # -- events --

    def handle_event(self, event: NotificationEvent) -> list[int]:
        """Queue the notifications an event causes; ids of the rows created ([] when the type
        notifies nobody or the event was handled before). A template that cannot render raises
        `AssistantError("template_failed")` and nothing is queued."""
        kind = kind_of(event.type)
        if kind is None:
            log.debug("event %s of type %s notifies nobody", event.id, event.type)
            return []
        try:
            with self.engine.begin() as conn:
                recipient = _recipient(conn, event.user_id)
                context = {**event.data, "recipient": {"full_name": recipient.full_name}}
                message = self._renderer.render(kind, context)
                channels = enabled_channels(conn, event.user_id, kind)
                ids = [
                    _queue(conn, event.user_id, channel, kind, message, event.id)
                    for channel in channels
                ]
                try:
                    conn.execute(
                        insert(NotificationEventSeen).values(
                            event_id=event.id,
                            type=event.type,
                            user_id=event.user_id,
                            notifications=len(ids),
                            handled_at=clock.utcnow(),
                        )
                    )
                except IntegrityError as exc:
                    raise _AlreadyHandled from exc
        except _AlreadyHandled:
            log.info("event %s was handled before: nothing more to notify", event.id)
            return []
        log.info(
            "event %s (%s) queued notifications %s on %s",
            event.id,
            kind.value,
            ids,
            [c.value for c in channels],
        )
        return ids

    # -- staff messages --

    def send_notification(
        self, staff_caller: Caller, user_id: int, subject: str, body: str, channel: ChannelName
    ) -> NotificationOut:
        """A message from support or an admin to one user, on the channel they choose."""
        if staff_caller.role is Role.CUSTOMER:
            audit.record(
                self.engine, staff_caller, "notifications.send", "rejected", user_id=user_id
            )
            raise AssistantError(
                "notification_forbidden", "only support staff and admins can send notifications"
            )
        try:
            staff_message = StaffMessage(
                user_id=user_id, subject=subject, body=body, channel=channel
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            log.info("staff notification refused: %s", problems)
            raise AssistantError("invalid_notification", problems) from None
        with self.engine.begin() as conn:
            recipient = _recipient(conn, user_id)
            message = self._renderer.render(
                NotificationKind.STAFF_MESSAGE,
                {
                    "subject": staff_message.subject,
                    "body": staff_message.body,
                    "recipient": {"full_name": recipient.full_name},
                },
            )
            notification_id = _queue(
                conn, user_id, staff_message.channel, NotificationKind.STAFF_MESSAGE, message
            )
            out = _one(conn, notification_id)
        audit.record(
            self.engine,
            staff_caller,
            "notifications.send",
            "ok",
            user_id=user_id,
            notification_id=notification_id,
            channel=staff_message.channel.value,
        )
        return out

    # -- the recipient's view --

    def list(
        self,
        caller: Caller,
        *,
        user_id: int | None = None,
        unread_only: bool = False,
        limit: int = 50,
    ) -> list[NotificationOut]:
        """Newest first. A customer sees their own; staff anyone's (all users when no id)."""
        if caller.role is Role.CUSTOMER:
            user_id = caller.user_id if user_id is None else user_id
            check_own(caller, user_id, "list the notifications")
        query = select(Notification.__table__).order_by(
            Notification.created_at.desc(), Notification.id.desc()
        )
        if user_id is not None:
            query = query.where(Notification.user_id == user_id)
        if unread_only:
            query = query.where(
                Notification.channel == ChannelName.IN_APP.value, Notification.status == SENT
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(1, min(limit, 500)))).all()
        return [_out(row) for row in rows]

    def mark_read(self, caller: Caller, notification_id: int) -> NotificationOut:
        """The recipient marks an in-app message read (again: no change)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(Notification.user_id, Notification.channel).where(
                    Notification.id == notification_id
                )
            ).first()
            if row is None or row.user_id != caller.user_id:
                # someone else's message is reported as missing: its existence is not theirs
                log.info("mark_read refused: %s for user %s", notification_id, caller.user_id)
                raise AssistantError(
                    "unknown_notification", f"you have no notification with id {notification_id}"
                )
            if row.channel != ChannelName.IN_APP.value:
                raise AssistantError(
                    "notification_not_in_app",
                    f"notification {notification_id} went out by {row.channel}; only in-app "
                    "messages are marked read",
                )
            conn.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.status == SENT)
                .values(status=READ)
            )
            return _one(conn, notification_id)

    # -- delivery --

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Send the email, SMS and push notifications whose attempt is due."""
        return self._deliverer.deliver_due(limit)


def _recipient(conn: Connection, user_id: int) -> Recipient:
    row = conn.execute(
        select(User.id, User.full_name, User.email, User.phone).where(User.id == user_id)
    ).first()
    if row is None:
        log.warning("notification for unknown user %s", user_id)
        raise AssistantError("unknown_user", f"there is no user with id {user_id}")
    return Recipient(user_id=row.id, full_name=row.full_name, email=row.email, phone=row.phone)


def _queue(
    conn: Connection,
    user_id: int,
    channel: ChannelName,
    kind: NotificationKind,
    message: RenderedMessage,
    event_id: str | None = None,
) -> int:
    """One notifications row: in-app is delivered by being written, the rest are due now."""
    now = clock.utcnow()
    in_app = channel is ChannelName.IN_APP
    values: dict[str, Any] = {
        "user_id": user_id,
        "channel": channel.value,
        "kind": kind.value,
        "event_id": event_id,
        "subject": message.subject,
        "body": message.text,
        "body_html": None if in_app else message.html,
        "status": SENT if in_app else PENDING,
        "created_at": now,
        "sent_at": now if in_app else None,
        "attempts": 0,
        "next_attempt_at": None if in_app else now,
    }
    return conn.execute(insert(Notification).values(**values)).inserted_primary_key[0]


def _one(conn: Connection, notification_id: int) -> NotificationOut:
    table = Notification.__table__
    return _out(conn.execute(select(table).where(table.c.id == notification_id)).one())


def _out(row: Row) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        user_id=row.user_id,
        channel=ChannelName(row.channel),
        kind=row.kind,
        subject=row.subject,
        body=row.body,
        status=row.status,
        created_at=row.created_at,
        sent_at=row.sent_at,
        attempts=row.attempts,
        last_error=row.last_error,
    )
