"""Subscriptions: start a plan, move between plans (Stripe prorates), cancel at period end or
at once, and the invoices. Prices come from settings; each price is its own Stripe plan."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import stripe
from sqlalchemy import insert, select, update

from services import audit, clock
from services.db.models import Subscription
from services.identity import Caller
from services.payments import announce
from services.payments.gateway import provider_error
from services.payments.ledger import from_stripe_time, minor
from services.payments.schemas import InvoiceLine, InvoiceOut, Plan, SubscriptionOut

SUBSCRIPTIONS = Subscription.__table__


class Subscriptions:
    """Part of `PaymentService` (engine, settings, gateway, refuse, customer_id, _subject come
    from it)."""

    def price(self, plan: Plan) -> float:
        return getattr(self.settings, f"plan_price_{plan.value}")

    def current_subscription(self, user_id: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                select(SUBSCRIPTIONS)
                .where(SUBSCRIPTIONS.c.user_id == user_id, SUBSCRIPTIONS.c.status != "cancelled")
                .order_by(SUBSCRIPTIONS.c.started_at.desc(), SUBSCRIPTIONS.c.id.desc())
            ).first()

    def _plan_id(self, plan: Plan) -> str:
        return self.gateway.ensure_plan(
            plan.value, minor(self.price(plan)), self.settings.payments_currency
        )

    def subscribe(self, caller: Caller, plan: Plan) -> SubscriptionOut:
        """Start `plan` on the customer's default payment method."""
        user_id = self._subject(caller, None)
        if self.current_subscription(user_id) is not None:
            self.refuse(
                caller,
                "subscribe",
                "invalid_payment",
                "you already have a subscription; change its plan instead",
            )
        customer = self.customer_id(user_id)
        try:
            sub = self.gateway.create_subscription(customer, self._plan_id(plan))
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        now = clock.utcnow()
        with self.engine.begin() as conn:
            sub_id = conn.execute(
                insert(Subscription).values(
                    user_id=user_id,
                    plan=plan.value,
                    status=_sub_status(sub["status"]),
                    monthly_price=self.price(plan),
                    currency=self.settings.payments_currency.upper(),
                    started_at=now,
                    current_period_end=_period_end(sub, now),
                    provider_reference=sub["id"],
                    cancel_at_period_end=False,
                    failed_attempts=0,
                )
            ).inserted_primary_key[0]
            row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == sub_id)).one()
            announce.subscription_started(conn, row)
        audit.record(self.engine, caller, "payments.subscribe", "ok", plan=plan.value)
        return _sub_out(row)

    def _own_subscription(self, caller: Caller, action: str) -> Any:
        row = self.current_subscription(self._subject(caller, None))
        if row is None or not row.provider_reference:
            self.refuse(
                caller, action, "unknown_subscription", "you have no subscription to change"
            )
        return row

    def change_plan(self, caller: Caller, plan: Plan) -> SubscriptionOut:
        """Move to another plan now; Stripe prorates the rest of the period."""
        row = self._own_subscription(caller, "change_plan")
        if row.plan == plan.value:
            self.refuse(
                caller, "change_plan", "invalid_payment", f"you are already on {plan.value}"
            )
        try:
            self.gateway.change_subscription_plan(row.provider_reference, self._plan_id(plan))
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        previous_plan = row.plan
        with self.engine.begin() as conn:
            conn.execute(
                update(Subscription)
                .where(Subscription.id == row.id)
                .values(plan=plan.value, monthly_price=self.price(plan))
            )
            row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == row.id)).one()
            announce.subscription_changed(conn, row, previous_plan)
        audit.record(self.engine, caller, "payments.change_plan", "ok", plan=plan.value)
        return _sub_out(row)

    def cancel(self, caller: Caller, at_period_end: bool = True) -> SubscriptionOut:
        row = self._own_subscription(caller, "cancel")
        try:
            self.gateway.cancel_subscription(row.provider_reference, at_period_end)
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        values: dict[str, Any] = {"cancel_at_period_end": True}
        if not at_period_end:
            values = {"status": "cancelled", "cancelled_at": clock.utcnow(), "next_retry_at": None}
        with self.engine.begin() as conn:
            conn.execute(update(Subscription).where(Subscription.id == row.id).values(**values))
            row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == row.id)).one()
            announce.subscription_cancelled(conn, row, "customer")
        audit.record(self.engine, caller, "payments.cancel", "ok", at_period_end=at_period_end)
        return _sub_out(row)

    def upcoming_invoice(self, caller: Caller) -> InvoiceOut:
        """What the next invoice will charge, a plan change's proration included."""
        row = self._own_subscription(caller, "upcoming_invoice")
        customer = self.customer_id(row.user_id)
        try:
            found = self.gateway.upcoming_invoice(customer, row.provider_reference)
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        return _invoice_out(found)

    def invoices(self, caller: Caller) -> list[InvoiceOut]:
        customer = self.customer_id(self._subject(caller, None))
        try:
            found = self.gateway.list_invoices(customer)
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        return [_invoice_out(i) for i in found]


def _sub_status(status: str) -> str:
    return {"canceled": "cancelled", "unpaid": "past_due", "incomplete": "past_due"}.get(
        status, status
    )


def _period_end(sub: Any, now: datetime) -> datetime:
    end = sub.get("current_period_end") or sub["items"]["data"][0].get("current_period_end")
    return from_stripe_time(end) or now + timedelta(days=30)


def _sub_out(row: Any) -> SubscriptionOut:
    return SubscriptionOut.model_validate(dict(row._mapping))


def _invoice_out(invoice: Any) -> InvoiceOut:
    lines = [
        InvoiceLine(
            description=line.get("description"),
            amount=line["amount"] / 100,
            proration=bool(line.get("proration")),
        )
        for line in invoice["lines"]["data"]
    ]
    return InvoiceOut(
        id=invoice.get("id") or "upcoming",
        status=invoice.get("status"),
        total=invoice["total"] / 100,
        currency=invoice["currency"],
        created=from_stripe_time(invoice.get("created")) or clock.utcnow(),
        lines=lines,
    )
