"""Stripe's webhook: verify, record once, apply.

Each event is checked against `STRIPE_WEBHOOK_SECRET` (a bad or missing signature changes
nothing), recorded by id in `stripe_events` in the same transaction as its effect (a replay
finds the id and changes nothing), and applied by state, not by arrival order: a succeeded
payment never moves back, a cancelled subscription never comes back, a failure that arrives
after the success is stale. Unknown event types and unknown objects are acknowledged and
logged with nothing written, so Stripe stops resending them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import stripe
from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from services import clock
from services.db.models import Payment, StripeEvent, Subscription
from services.errors import AssistantError
from services.payments import announce
from services.payments.dunning import renewal_failed, renewal_paid
from services.payments.ledger import from_stripe_time, settle
from services.payments.service import PaymentService

log = logging.getLogger(__name__)

PAYMENTS = Payment.__table__
SUBSCRIPTIONS = Subscription.__table__
SETTLED = ("succeeded", "partially_refunded", "refunded")
# outcomes whose event id is kept; an unknown object or type writes nothing at all
RECORDED = ("applied", "stale")


class WebhookOutcome(BaseModel):
    event_id: str = Field(description="Stripe event id.")
    type: str = Field(description="Stripe event type.")
    outcome: str = Field(
        description="applied, stale (older than the state held), ignored (a type this platform "
        "does not use), unknown (no such payment or subscription here) or replay."
    )


# What the KYC service offers the webhook: apply(conn, session id, result, reason) for an
# identity verification session's result, inside the webhook's transaction; returns the outcome
# (applied, stale, ignored, unknown).
IdentityResults = Callable[[Connection, str, str, str], str]


class StripeWebhooks:
    def __init__(self, payments: PaymentService, identity: IdentityResults | None = None):
        self.payments = payments
        self.engine = payments.engine
        self.settings = payments.settings
        self.identity = identity

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event as a dict, or `bad_webhook_signature` when it does not verify."""
        secret = self.settings.stripe_webhook_secret
        if secret is None:
            raise AssistantError(
                "webhook_not_configured", "Stripe webhooks are not configured (no secret)"
            )
        if not signature:
            log.warning("stripe webhook without a Stripe-Signature header refused")
            raise AssistantError("bad_webhook_signature", "the Stripe-Signature header is missing")
        try:
            event = stripe.Webhook.construct_event(
                payload.decode("utf-8"), signature, secret.get_secret_value()
            )
        except (ValueError, stripe.SignatureVerificationError) as exc:
            log.warning("stripe webhook refused: %s", exc)
            raise AssistantError(
                "bad_webhook_signature", "the webhook's signature does not verify"
            ) from None
        return event.to_dict()

    def handle(self, payload: bytes, signature: str | None) -> WebhookOutcome:
        """Verify and apply one delivery; the event's id is stored with its effect."""
        event = self.verify(payload, signature)
        try:
            with self.engine.begin() as conn:
                seen = conn.scalar(
                    select(StripeEvent.event_id).where(StripeEvent.event_id == event["id"])
                )
                outcome = "replay" if seen is not None else self._apply(conn, event)
                if outcome in RECORDED:
                    conn.execute(
                        insert(StripeEvent).values(
                            event_id=event["id"],
                            type=event["type"],
                            outcome=outcome,
                            received_at=clock.utcnow(),
                        )
                    )
        except IntegrityError:  # the same event delivered twice at once: the other one won
            outcome = "replay"
        log.info("stripe event %s (%s): %s", event["id"], event["type"], outcome)
        return WebhookOutcome(event_id=event["id"], type=event["type"], outcome=outcome)

    def _apply(self, conn: Connection, event: Any) -> str:
        obj = event["data"]["object"]
        kind = event["type"]
        if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            return self._payment_intent(conn, obj, kind.endswith("succeeded"))
        if kind in ("invoice.payment_failed", "invoice.paid", "invoice.payment_succeeded"):
            return self._invoice(conn, obj, kind != "invoice.payment_failed")
        if kind in ("customer.subscription.updated", "customer.subscription.deleted"):
            return self._subscription(conn, obj, kind.endswith("deleted"))
        if kind.startswith("identity.verification_session.") and self.identity is not None:
            result = kind.rsplit(".", 1)[1]
            reason = _identity_reason(obj)
            return self.identity(conn, obj["id"], result, reason)
        log.info("stripe event %s of type %s is not used here", event["id"], kind)
        return "ignored"

    def _payment_intent(self, conn: Connection, intent: Any, succeeded: bool) -> str:
        row = conn.execute(
            select(PAYMENTS).where(PAYMENTS.c.provider_reference == intent["id"])
        ).first()
        if row is None:
            log.warning("stripe payment intent %s matches no payment here", intent["id"])
            return "unknown"
        if row.status in SETTLED or (not succeeded and row.status == "failed"):
            return "stale"  # never move a succeeded payment back, nor fail one twice
        reason = None if succeeded else _intent_failure(intent)
        status = "succeeded" if succeeded else "failed"
        settle(conn, row.id, status, reason, clock.utcnow())
        return "applied"

    def _invoice(self, conn: Connection, invoice: Any, paid: bool) -> str:
        sub = _subscription_row(conn, invoice.get("subscription"))
        if sub is None:
            log.warning("stripe invoice %s matches no subscription here", invoice["id"])
            return "unknown"
        if paid:
            period_end = None
            lines = (invoice.get("lines") or {}).get("data") or []
            if lines:
                period_end = from_stripe_time((lines[0].get("period") or {}).get("end"))
            return renewal_paid(conn, sub, period_end)
        amount = (invoice.get("amount_due") or invoice.get("total") or 0) / 100
        return renewal_failed(conn, self.settings, sub, amount, clock.utcnow())

    def _subscription(self, conn: Connection, obj: Any, deleted: bool) -> str:
        sub = _subscription_row(conn, obj["id"])
        if sub is None:
            log.warning("stripe subscription %s matches no subscription here", obj["id"])
            return "unknown"
        if sub.status == "cancelled":
            return "stale"  # a cancelled subscription never comes back
        if deleted or obj.get("status") == "canceled":
            values: dict[str, Any] = {
                "status": "cancelled",
                "cancelled_at": clock.utcnow(),
                "next_retry_at": None,
            }
        else:
            values = {"cancel_at_period_end": bool(obj.get("cancel_at_period_end"))}
            end = from_stripe_time(obj.get("current_period_end"))
            if end is not None and end > sub.current_period_end:
                values["current_period_end"] = end
            if obj.get("status") in ("active", "trialing") and sub.status != "past_due":
                values["status"] = obj.get("status")  # past_due ends by our dunning, not here
        conn.execute(update(Subscription).where(Subscription.id == sub.id).values(**values))
        if values.get("status") == "cancelled":
            announce.subscription_cancelled(conn, _subscription_row(conn, obj["id"]), "stripe")
        return "applied"


def _subscription_row(conn: Connection, reference: str | None) -> Any:
    if not reference:
        return None
    return conn.execute(
        select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.provider_reference == reference)
    ).first()


def _intent_failure(intent: Any) -> str:
    error = intent.get("last_payment_error") or {}
    return (error.get("message") or error.get("code") or "the payment was declined")[:200]


def _identity_reason(session: Any) -> str:
    error = session.get("last_error") or {}
    return (error.get("reason") or error.get("code") or "")[:300]
