"""The events the platform emits: one typed payload per event type, versioned in its name.

A type reads `com.tradingassist.<subject>.<verb>.v<N>`; a change that breaks consumers gets a
new version and a new payload model beside the old one, never an edit of the old one. Emitters
build events with `new_event(payload, subject=...)`, so the type always matches the payload,
and consumers turn an event back into its payload with `payload_of(event)`.

>>> event = new_event(OrderFilled(order_id=7, user_id=3, account_id=5, symbol="BTCUSD",
...     side="buy", quantity=0.5, filled_quantity=0.5, avg_fill_price=64000.0), subject="orders/7")
>>> event.get_type(), event.get_source(), event.get_subject()
('com.tradingassist.order.filled.v1', '/trading-assist/trading', 'orders/7')
>>> payload_of(event).avg_fill_price
64000.0
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services import clock
from services.errors import AssistantError

PREFIX = "com.tradingassist."
DATA_CONTENT_TYPE = "application/json"


class Payload(BaseModel):
    """Base of every event payload: immutable, and unknown fields refused at the emitter."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class OrderPlaced(Payload):
    order_id: int
    user_id: int
    account_id: int
    symbol: str
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit", "stop"]
    quantity: float = Field(gt=0)
    limit_price: float | None = None


class OrderFilled(Payload):
    order_id: int
    user_id: int
    account_id: int
    symbol: str
    side: Literal["buy", "sell"]
    quantity: float = Field(gt=0, description="Quantity ordered.")
    filled_quantity: float = Field(gt=0, description="Quantity filled so far.")
    avg_fill_price: float = Field(gt=0)


class OrderRejected(Payload):
    order_id: int
    user_id: int
    account_id: int
    symbol: str
    reason: str


class OrderCancelled(Payload):
    order_id: int
    user_id: int
    account_id: int
    symbol: str
    cancelled_by: Literal["customer", "support", "system"]


class AlertFired(Payload):
    alert_id: int
    user_id: int
    symbol: str
    direction: Literal["above", "below"] = Field(description="Which way the price crossed.")
    threshold: float = Field(gt=0, description="The level the customer set.")
    price: float = Field(description="The price that crossed it.")


class PaymentSucceeded(Payload):
    payment_id: int
    user_id: int
    direction: Literal["deposit", "withdrawal"]
    method: str = Field(description="card, sepa_debit, bank_transfer or crypto.")
    amount: float = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    provider_reference: str | None = None


class PaymentFailed(Payload):
    payment_id: int
    user_id: int
    direction: Literal["deposit", "withdrawal"]
    method: str = Field(description="card, sepa_debit, bank_transfer or crypto.")
    amount: float = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    reason: str


class PaymentRefunded(Payload):
    payment_id: int
    refund_id: int
    user_id: int
    amount: float = Field(gt=0, description="Given back by this refund.")
    currency: str = Field(min_length=3, max_length=3)
    remaining: float = Field(ge=0, description="Still refundable on the payment after it.")
    reason: str | None = None


class WithdrawalRequested(Payload):
    payment_id: int
    user_id: int
    account_id: int
    amount: float = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)


class WithdrawalDecided(Payload):
    payment_id: int
    user_id: int
    account_id: int
    decision: Literal["approved", "rejected", "paid"]
    amount: float = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    reviewer_id: int | None = Field(description="The staff member who decided (users.id).")
    reason: str | None = None


class SubscriptionStarted(Payload):
    subscription_id: int
    user_id: int
    plan: str
    monthly_price: float = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    current_period_end: date


class SubscriptionChanged(Payload):
    subscription_id: int
    user_id: int
    previous_plan: str
    plan: str
    monthly_price: float = Field(ge=0, description="The new plan's price; Stripe prorates.")
    currency: str = Field(min_length=3, max_length=3)


class SubscriptionCancelled(Payload):
    subscription_id: int
    user_id: int
    plan: str
    at_period_end: bool = Field(description="True: it runs until effective_on, then ends.")
    effective_on: date = Field(description="The day it ends (or ended).")
    cancelled_by: Literal["customer", "dunning", "stripe"]


class SubscriptionRecovered(Payload):
    subscription_id: int
    user_id: int
    plan: str


class SubscriptionPastDue(Payload):
    subscription_id: int
    user_id: int
    plan: str
    amount: float = Field(ge=0, description="What could not be collected.")
    currency: str = Field(min_length=3, max_length=3)
    grace_until: date = Field(description="Cancelled after this day unless paid.")


class KycSubmitted(Payload):
    verification_id: int
    user_id: int
    level: Literal["basic", "enhanced"]
    document_type: str | None = None
    provider: str = Field(description="manual, stripe_identity or test.")


class KycDecided(Payload):
    verification_id: int
    user_id: int
    level: Literal["basic", "enhanced"]
    decision: Literal["approved", "rejected", "requires_input"]
    reason: str | None = None


class KycExpiring(Payload):
    verification_id: int
    user_id: int
    expires_on: date


class KycExpired(Payload):
    verification_id: int
    user_id: int
    expired_on: date


class UserRegistered(Payload):
    user_id: int
    country: str = Field(min_length=2, max_length=2)
    role: Literal["customer", "support", "admin"]


class ModelUsage(Payload):
    provider: str
    model: str
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    cost_usd: float | None = Field(
        ge=0, description="What the provider charged; 0 for local models, None if unreported."
    )
    user_id: int | None = Field(
        None, description="Whose turn it was (users.id); None for a service or the operator."
    )


@dataclass(frozen=True)
class EventKind:
    """One entry of the catalogue: the payload model, its type name and where it comes from."""

    name: str  # e.g. order.filled
    version: int
    payload: type[Payload]
    source: str

    @property
    def type(self) -> str:
        return f"{PREFIX}{self.name}.v{self.version}"


CATALOGUE: tuple[EventKind, ...] = (
    EventKind("order.placed", 1, OrderPlaced, "/trading-assist/trading"),
    EventKind("order.filled", 1, OrderFilled, "/trading-assist/trading"),
    EventKind("order.rejected", 1, OrderRejected, "/trading-assist/trading"),
    EventKind("order.cancelled", 1, OrderCancelled, "/trading-assist/trading"),
    EventKind("alert.fired", 1, AlertFired, "/trading-assist/trading"),
    EventKind("payment.succeeded", 1, PaymentSucceeded, "/trading-assist/payments"),
    EventKind("payment.failed", 1, PaymentFailed, "/trading-assist/payments"),
    EventKind("payment.refunded", 1, PaymentRefunded, "/trading-assist/payments"),
    EventKind("withdrawal.requested", 1, WithdrawalRequested, "/trading-assist/payments"),
    EventKind("withdrawal.decided", 1, WithdrawalDecided, "/trading-assist/payments"),
    EventKind("subscription.started", 1, SubscriptionStarted, "/trading-assist/payments"),
    EventKind("subscription.changed", 1, SubscriptionChanged, "/trading-assist/payments"),
    EventKind("subscription.cancelled", 1, SubscriptionCancelled, "/trading-assist/payments"),
    EventKind("subscription.past_due", 1, SubscriptionPastDue, "/trading-assist/payments"),
    EventKind("subscription.recovered", 1, SubscriptionRecovered, "/trading-assist/payments"),
    EventKind("kyc.submitted", 1, KycSubmitted, "/trading-assist/kyc"),
    EventKind("kyc.decided", 1, KycDecided, "/trading-assist/kyc"),
    EventKind("kyc.expiring", 1, KycExpiring, "/trading-assist/kyc"),
    EventKind("kyc.expired", 1, KycExpired, "/trading-assist/kyc"),
    EventKind("user.registered", 1, UserRegistered, "/trading-assist/users"),
    EventKind("model.usage", 1, ModelUsage, "/trading-assist/llm"),
)
BY_TYPE: dict[str, EventKind] = {kind.type: kind for kind in CATALOGUE}
BY_PAYLOAD: dict[type[Payload], EventKind] = {kind.payload: kind for kind in CATALOGUE}


def kind_of(event_type: str) -> EventKind:
    """The catalogue entry of a type; an unknown type is refused, never sent on a guess."""
    try:
        return BY_TYPE[event_type]
    except KeyError:
        raise AssistantError(
            "unknown_event_type", f"{event_type!r} is not an event type of the catalogue"
        ) from None


def new_event(
    payload: Payload,
    *,
    subject: str,
    event_id: str | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    """A CloudEvent for a payload: its type and source from the catalogue, a fresh uuid, and
    the time from the platform's clock."""
    kind = BY_PAYLOAD.get(type(payload))
    if kind is None:
        raise AssistantError(
            "unknown_event_type", f"{type(payload).__name__} is not a payload of the catalogue"
        )
    return CloudEvent(
        {
            "id": event_id or str(uuid.uuid4()),
            "type": kind.type,
            "source": kind.source,
            "subject": subject,
            "time": time or clock.now(),
            "datacontenttype": DATA_CONTENT_TYPE,
        },
        payload.model_dump(mode="json"),
    )


def payload_of(event: CloudEvent) -> Payload:
    """The event's data validated against its type's payload model."""
    kind = kind_of(event.get_type())
    try:
        return kind.payload.model_validate(event.get_data())
    except ValidationError as exc:
        raise AssistantError(
            "event_invalid", f"{event.get_type()} {event.get_id()}: {exc.errors()[0]['msg']}"
        ) from None
