"""The domain events that notify someone, and what kind of notification each one is.

The event outbox publishes CloudEvents; the notification service only needs a few of their
fields, so it takes this small model and the bus adapter maps one onto the other. Events of a
type not listed here are not for notifications and are ignored.

>>> kind_of("com.tradingassist.order.filled.v1"), kind_of("com.tradingassist.order.created.v1")
(<NotificationKind.ORDER_FILLED: 'order_filled'>, None)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, Field


class NotificationKind(StrEnum):
    """What a notification is about; each kind has its own template folder."""

    ORDER_FILLED = "order_filled"
    ORDER_REJECTED = "order_rejected"
    PRICE_ALERT_FIRED = "price_alert_fired"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    SUBSCRIPTION_PAST_DUE = "subscription_past_due"
    KYC_DECIDED = "kyc_decided"
    KYC_EXPIRING = "kyc_expiring"
    STAFF_MESSAGE = "staff_message"  # written by support or an admin, not caused by an event


EVENT_KINDS: dict[str, NotificationKind] = {
    "com.tradingassist.order.filled.v1": NotificationKind.ORDER_FILLED,
    "com.tradingassist.order.rejected.v1": NotificationKind.ORDER_REJECTED,
    "com.tradingassist.alert.fired.v1": NotificationKind.PRICE_ALERT_FIRED,
    "com.tradingassist.payment.succeeded.v1": NotificationKind.PAYMENT_SUCCEEDED,
    "com.tradingassist.payment.failed.v1": NotificationKind.PAYMENT_FAILED,
    "com.tradingassist.subscription.past_due.v1": NotificationKind.SUBSCRIPTION_PAST_DUE,
    "com.tradingassist.kyc.decided.v1": NotificationKind.KYC_DECIDED,
    "com.tradingassist.kyc.expiring.v1": NotificationKind.KYC_EXPIRING,
}

# The kinds a user can switch on and off per channel (staff messages always arrive).
EVENT_DRIVEN_KINDS = tuple(EVENT_KINDS.values())


class NotificationEvent(BaseModel, frozen=True):
    """A domain event as the notification service reads it."""

    id: str = Field(min_length=1, max_length=200, description="Event id, unique per event.")
    type: str = Field(
        min_length=1, max_length=200, description="e.g. com.tradingassist.order.filled.v1."
    )
    subject: str | None = Field(None, description="What the event is about, e.g. order/123.")
    user_id: int = Field(description="The user to notify (users.id).")
    data: dict[str, Any] = Field(
        default_factory=dict, description="The event's fields, shown through its template."
    )


def kind_of(event_type: str) -> NotificationKind | None:
    """The notification kind of an event type; None when the type notifies nobody."""
    return EVENT_KINDS.get(event_type)


def from_domain_event(event: CloudEvent) -> NotificationEvent | None:
    """A domain event as the notification service reads it; None when it notifies nobody
    (a type with no notification, or one about no user).

    >>> from services.events.catalogue import OrderCancelled, new_event
    >>> cancel = OrderCancelled(order_id=1, user_id=2, account_id=3, symbol="AAPL",
    ...     cancelled_by="customer")
    >>> from_domain_event(new_event(cancel, subject="orders/1")) is None
    True
    """
    data = event.get_data() or {}
    if kind_of(event.get_type()) is None or not isinstance(data.get("user_id"), int):
        return None
    return NotificationEvent(
        id=event.get_id(),
        type=event.get_type(),
        subject=event.get_subject(),
        user_id=data["user_id"],
        data=data,
    )
