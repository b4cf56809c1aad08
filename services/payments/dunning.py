"""Failed renewals: a subscription whose renewal payment fails becomes past_due, is retried on
the days `DUNNING_RETRY_DAYS` names (counted from the first failure), the customer is told, and
after the last failed retry it is cancelled at Stripe and here.

`renewal_failed` and `renewal_paid` run inside the webhook's transaction; `run_dunning` is the
scheduled job (every `DUNNING_EVERY_S` in a serving process, or `trading-assist payments
dunning`). Every change is announced through the event outbox in the transaction that makes it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import stripe
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, select, update

from services import clock
from services.db.models import Subscription
from services.payments import announce
from services.settings import Settings

log = logging.getLogger(__name__)

SUBSCRIPTIONS = Subscription.__table__
CLAIM = timedelta(hours=1)  # how long a retry in progress keeps other jobs off its subscription


class DunningReport(BaseModel):
    retried: int = Field(description="Past-due subscriptions whose renewal was tried again.")
    recovered: int = Field(description="Of those, paid now and active again.")
    cancelled: int = Field(description="Cancelled after their last failed retry.")


def renewal_failed(
    conn: Connection, settings: Settings, sub: Any, amount: float, now: datetime
) -> str:
    """The first failed renewal makes the subscription past_due, schedules the first retry and
    announces it (the customer is told); a later failure report (Stripe's own retries) changes
    nothing, since the retries are ours."""
    if sub.status in ("past_due", "cancelled"):
        return "stale"
    days = settings.dunning_retry_days
    conn.execute(
        update(Subscription)
        .where(Subscription.id == sub.id)
        .values(status="past_due", failed_attempts=1, next_retry_at=now + timedelta(days=days[0]))
    )
    announce.subscription_past_due(conn, sub, amount, now + timedelta(days=days[-1]))
    return "applied"


def renewal_paid(conn: Connection, sub: Any, period_end: datetime | None) -> str:
    """A paid renewal: active again, the dunning state cleared (announced when it was past
    due)."""
    if sub.status == "cancelled":
        return "stale"
    values: dict[str, Any] = {"status": "active", "failed_attempts": 0, "next_retry_at": None}
    if period_end is not None and period_end > sub.current_period_end:
        values["current_period_end"] = period_end
    conn.execute(update(Subscription).where(Subscription.id == sub.id).values(**values))
    if sub.status == "past_due":
        announce.subscription_recovered(conn, sub)
    return "applied"


def run_dunning(service: Any) -> DunningReport:
    """Retry every past-due renewal that is due (`service` is a PaymentService): paid → active;
    failed → the next retry, or cancelled after the last one.

    Each subscription is claimed before Stripe is asked (its next retry moved `CLAIM` ahead,
    only if still due), so jobs running at once in several processes retry it once; a job
    that dies after claiming leaves it to be retried when the claim runs out."""
    now = clock.utcnow()
    days = service.settings.dunning_retry_days
    with service.engine.connect() as conn:
        due = conn.execute(
            select(SUBSCRIPTIONS).where(
                SUBSCRIPTIONS.c.status == "past_due",
                SUBSCRIPTIONS.c.next_retry_at <= now,
                SUBSCRIPTIONS.c.provider_reference.is_not(None),
            )
        ).all()
    retried = recovered = cancelled = 0
    for sub in due:
        if not _claim(service.engine, sub, now):
            continue
        retried += 1
        paid = _retry(service, sub)
        with service.engine.begin() as conn:
            if paid:
                renewal_paid(conn, sub, None)
                recovered += 1
                continue
            attempts = sub.failed_attempts + 1
            if attempts > len(days):
                _cancel(service, sub)
                conn.execute(
                    update(Subscription)
                    .where(Subscription.id == sub.id)
                    .values(
                        status="cancelled",
                        cancelled_at=now,
                        failed_attempts=attempts,
                        next_retry_at=None,
                    )
                )
                announce.subscription_cancelled(conn, _row(conn, sub.id), "dunning")
                cancelled += 1
                log.info("subscription %s cancelled after %s failed renewals", sub.id, attempts)
                continue
            wait = days[attempts - 1] - days[attempts - 2]
            conn.execute(
                update(Subscription)
                .where(Subscription.id == sub.id)
                .values(failed_attempts=attempts, next_retry_at=now + timedelta(days=wait))
            )
    report = DunningReport(retried=retried, recovered=recovered, cancelled=cancelled)
    log.info("dunning: %s", report.model_dump())
    return report


def _claim(engine: Engine, sub: Any, now: datetime) -> bool:
    """Take one due subscription for this job; False when another job took it first."""
    with engine.begin() as conn:
        taken = conn.execute(
            update(Subscription)
            .where(
                Subscription.id == sub.id,
                Subscription.status == "past_due",
                Subscription.failed_attempts == sub.failed_attempts,
                Subscription.next_retry_at <= now,
            )
            .values(next_retry_at=now + CLAIM)
        ).rowcount
    if not taken:
        log.info("subscription %s is being retried by another job", sub.id)
    return bool(taken)


def _row(conn: Connection, sub_id: int) -> Any:
    return conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == sub_id)).one()


def _retry(service: Any, sub: Any) -> bool:
    """Try to collect the open renewal invoice; True when it is paid."""
    try:
        invoice = service.gateway.open_invoice(sub.provider_reference)
        if invoice is None:
            return True  # nothing left to collect: paid elsewhere
        return service.gateway.pay_invoice(invoice["id"]).get("status") == "paid"
    except stripe.CardError as exc:
        log.info("renewal of subscription %s declined again: %s", sub.id, exc.user_message)
        return False
    except stripe.StripeError as exc:
        log.warning("renewal of subscription %s could not be retried: %s", sub.id, exc)
        return False


def _cancel(service: Any, sub: Any) -> None:
    try:
        service.gateway.cancel_subscription(sub.provider_reference, at_period_end=False)
    except stripe.StripeError as exc:  # already cancelled there: ours follows
        log.warning("stripe would not cancel subscription %s: %s", sub.id, exc)
