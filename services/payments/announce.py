"""The payment domain's events, written to the outbox on the connection that makes the change,
so a deposit settled, a refund, a withdrawal asked for or decided, and a subscription started,
changed, past due, recovered or cancelled are announced exactly when they are committed (and a
rolled-back change announces nothing). Notifications follow from these events through the bus.

Each function takes the row as it reads after the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection

from services.events.catalogue import (
    Payload,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
    SubscriptionCancelled,
    SubscriptionChanged,
    SubscriptionPastDue,
    SubscriptionRecovered,
    SubscriptionStarted,
    WithdrawalDecided,
    WithdrawalRequested,
    new_event,
)
from services.events.outbox import record


def _payment(conn: Connection, payment: Any, payload: Payload) -> None:
    record(conn, new_event(payload, subject=f"payments/{payment.id}"))


def _subscription(conn: Connection, sub: Any, payload: Payload) -> None:
    record(conn, new_event(payload, subject=f"subscriptions/{sub.id}"))


def _money(row: Any) -> dict[str, Any]:
    return {"amount": float(row.amount), "currency": row.currency.upper()}


def settled(conn: Connection, payment: Any, reason: str | None) -> None:
    """payment.succeeded or payment.failed (by the payment's status): a deposit Stripe settled,
    or a withdrawal staff paid out or rejected."""
    common = {
        "payment_id": payment.id,
        "user_id": payment.user_id,
        "direction": payment.direction,
        "method": payment.method,
        **_money(payment),
    }
    if payment.status in ("succeeded", "paid"):
        event: Payload = PaymentSucceeded(**common, provider_reference=payment.provider_reference)
    else:
        event = PaymentFailed(**common, reason=reason or "the payment was declined")
    _payment(conn, payment, event)


def refunded(
    conn: Connection,
    payment: Any,
    refund_id: int,
    amount: float,
    remaining: float,
    reason: str | None,
) -> None:
    _payment(
        conn,
        payment,
        PaymentRefunded(
            payment_id=payment.id,
            refund_id=refund_id,
            user_id=payment.user_id,
            amount=amount,
            currency=payment.currency.upper(),
            remaining=remaining,
            reason=reason,
        ),
    )


def withdrawal_requested(conn: Connection, payment: Any) -> None:
    _payment(
        conn,
        payment,
        WithdrawalRequested(
            payment_id=payment.id,
            user_id=payment.user_id,
            account_id=payment.account_id,
            **_money(payment),
        ),
    )


def withdrawal_decided(conn: Connection, payment: Any, reason: str | None) -> None:
    """withdrawal.decided; a payout or a rejection also settles the payment (the customer is
    told through payment.succeeded or payment.failed)."""
    _payment(
        conn,
        payment,
        WithdrawalDecided(
            payment_id=payment.id,
            user_id=payment.user_id,
            account_id=payment.account_id,
            decision=payment.status,
            reviewer_id=payment.reviewed_by,
            reason=payment.failure_reason if payment.status == "rejected" else reason,
            **_money(payment),
        ),
    )
    if payment.status in ("paid", "rejected"):
        settled(conn, payment, payment.failure_reason)


def subscription_started(conn: Connection, sub: Any) -> None:
    _subscription(
        conn,
        sub,
        SubscriptionStarted(
            subscription_id=sub.id,
            user_id=sub.user_id,
            plan=sub.plan,
            monthly_price=float(sub.monthly_price),
            currency=sub.currency.upper(),
            current_period_end=sub.current_period_end.date(),
        ),
    )


def subscription_changed(conn: Connection, sub: Any, previous_plan: str) -> None:
    _subscription(
        conn,
        sub,
        SubscriptionChanged(
            subscription_id=sub.id,
            user_id=sub.user_id,
            previous_plan=previous_plan,
            plan=sub.plan,
            monthly_price=float(sub.monthly_price),
            currency=sub.currency.upper(),
        ),
    )


def subscription_cancelled(
    conn: Connection, sub: Any, by: Literal["customer", "dunning", "stripe"]
) -> None:
    """A cancellation now (the row is cancelled) or at the period's end (the row says so)."""
    at_period_end = sub.status != "cancelled"
    ends = sub.current_period_end if at_period_end else sub.cancelled_at
    _subscription(
        conn,
        sub,
        SubscriptionCancelled(
            subscription_id=sub.id,
            user_id=sub.user_id,
            plan=sub.plan,
            at_period_end=at_period_end,
            effective_on=ends.date(),
            cancelled_by=by,
        ),
    )


def subscription_past_due(conn: Connection, sub: Any, amount: float, grace_until: datetime) -> None:
    _subscription(
        conn,
        sub,
        SubscriptionPastDue(
            subscription_id=sub.id,
            user_id=sub.user_id,
            plan=sub.plan,
            amount=amount,
            currency=sub.currency.upper(),
            grace_until=grace_until.date(),
        ),
    )


def subscription_recovered(conn: Connection, sub: Any) -> None:
    _subscription(
        conn,
        sub,
        SubscriptionRecovered(subscription_id=sub.id, user_id=sub.user_id, plan=sub.plan),
    )
