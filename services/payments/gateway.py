"""The one module that speaks to Stripe, thin over the official SDK (`stripe.StripeClient`).

Amounts cross this boundary in the currency's minor unit (cents), as Stripe counts them, and
Stripe's objects leave it as plain dicts (the SDK's own objects are not mappings). The
gateway holds no business rule: the service decides, the gateway asks Stripe and hands back
Stripe's objects. Pointing `STRIPE_API_BASE` at localstripe is how the tests reach a real
Stripe-speaking server.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import stripe

from services.errors import AssistantError
from services.settings import Settings

log = logging.getLogger(__name__)


class PaymentGateway(Protocol):
    def create_customer(self, email: str, user_id: int) -> str: ...
    def attach_payment_method(self, customer_id: str, payment_method_id: str) -> dict[str, Any]: ...
    def list_payment_methods(self, customer_id: str) -> list[dict[str, Any]]: ...
    def create_payment_intent(
        self,
        customer_id: str,
        payment_method_id: str,
        method_type: str,
        amount_minor: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str | None,
    ) -> dict[str, Any]: ...
    def payment_method_type(self, payment_method_id: str) -> str: ...
    def refund(
        self, payment_intent_id: str, amount_minor: int, idempotency_key: str | None
    ) -> dict[str, Any]: ...
    def ensure_plan(self, plan: str, amount_minor: int, currency: str) -> str: ...
    def create_subscription(self, customer_id: str, plan_id: str) -> dict[str, Any]: ...
    def change_subscription_plan(self, subscription_id: str, plan_id: str) -> dict[str, Any]: ...
    def cancel_subscription(self, subscription_id: str, at_period_end: bool) -> dict[str, Any]: ...
    def pay_invoice(self, invoice_id: str) -> dict[str, Any]: ...
    def open_invoice(self, subscription_id: str) -> dict[str, Any] | None: ...
    def upcoming_invoice(self, customer_id: str, subscription_id: str) -> dict[str, Any]: ...
    def list_invoices(self, customer_id: str) -> list[dict[str, Any]]: ...


def provider_error(exc: stripe.StripeError) -> AssistantError:
    """Stripe's refusal as our error, with Stripe's own words for a person when it has them."""
    log.warning("stripe refused: %s (http %s)", exc, exc.http_status)
    message = exc.user_message or str(exc) or "the payment provider refused the request"
    return AssistantError("payment_provider_error", f"the payment provider said: {message}")


class StripeGateway:
    """`PaymentGateway` over Stripe's API (or localstripe, when `STRIPE_API_BASE` says so)."""

    def __init__(self, settings: Settings):
        if settings.stripe_api_key is None:
            raise AssistantError(
                "payments_not_configured", "payments are not configured here (no STRIPE_API_KEY)"
            )
        bases = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
        self._client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses=bases or {},
            max_network_retries=1,
        )
        # localstripe predates `proration_behavior` and knows only the older `prorate` flag
        self._proration = (
            {"prorate": True}
            if settings.stripe_legacy_proration
            else {"proration_behavior": "create_prorations"}
        )

    @property
    def v1(self) -> Any:
        return self._client.v1

    def create_customer(self, email: str, user_id: int) -> str:
        customer = self.v1.customers.create(
            params={"email": email, "metadata": {"user_id": str(user_id)}},
            options={"idempotency_key": f"customer-{user_id}"},
        )
        return customer.id

    def attach_payment_method(self, customer_id: str, payment_method_id: str) -> dict[str, Any]:
        method = self.v1.payment_methods.attach(
            payment_method_id, params={"customer": customer_id}
        ).to_dict()
        # subscriptions charge the customer's default method
        self.v1.customers.update(
            customer_id, params={"invoice_settings": {"default_payment_method": method["id"]}}
        )
        return method

    def payment_method_type(self, payment_method_id: str) -> str:
        """card or sepa_debit: a payment intent must name the kind of method it charges."""
        return self.v1.payment_methods.retrieve(payment_method_id).type

    def list_payment_methods(self, customer_id: str) -> list[dict[str, Any]]:
        methods = []
        for kind in ("card", "sepa_debit"):
            try:
                listed = self.v1.payment_methods.list(
                    params={"customer": customer_id, "type": kind}
                )
            except stripe.InvalidRequestError as exc:  # localstripe lists cards only
                log.info("listing %s payment methods is not supported here: %s", kind, exc)
                continue
            methods.extend(m.to_dict() for m in listed.data)
        return methods

    def create_payment_intent(
        self,
        customer_id: str,
        payment_method_id: str,
        method_type: str,
        amount_minor: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        return self.v1.payment_intents.create(
            params={
                "payment_method_types": [method_type],
                "amount": amount_minor,
                "currency": currency,
                "customer": customer_id,
                "payment_method": payment_method_id,
                "confirm": True,
                "metadata": metadata,
            },
            options=options,
        ).to_dict()

    def refund(
        self, payment_intent_id: str, amount_minor: int, idempotency_key: str | None
    ) -> dict[str, Any]:
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        return self.v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount_minor}, options=options
        ).to_dict()

    def ensure_plan(self, plan: str, amount_minor: int, currency: str) -> str:
        """The id of the monthly Stripe plan for `plan` at this price, created on first use (a
        new price is a new id, so a price change never rewrites existing subscriptions)."""
        plan_id = f"ta_{plan}_{currency}_{amount_minor}"
        try:
            self.v1.plans.retrieve(plan_id)
        except stripe.InvalidRequestError:
            self.v1.plans.create(
                params={
                    "id": plan_id,
                    "amount": amount_minor,
                    "currency": currency,
                    "interval": "month",
                    "product": {"name": f"Trading AI Assist {plan}"},
                }
            )
        return plan_id

    def create_subscription(self, customer_id: str, plan_id: str) -> dict[str, Any]:
        return self.v1.subscriptions.create(
            params={"customer": customer_id, "items": [{"plan": plan_id}]}
        ).to_dict()

    def change_subscription_plan(self, subscription_id: str, plan_id: str) -> dict[str, Any]:
        current = self.v1.subscriptions.retrieve(subscription_id)
        item_id = current["items"].data[0].id
        return self.v1.subscriptions.update(
            subscription_id,
            params={"items": [{"id": item_id, "plan": plan_id}], **self._proration},
        ).to_dict()

    def cancel_subscription(self, subscription_id: str, at_period_end: bool) -> dict[str, Any]:
        if at_period_end:
            return self.v1.subscriptions.update(
                subscription_id, params={"cancel_at_period_end": True}
            ).to_dict()
        return self.v1.subscriptions.cancel(subscription_id).to_dict()

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self.v1.invoices.pay(invoice_id).to_dict()

    def list_invoices(self, customer_id: str) -> list[dict[str, Any]]:
        listed = self.v1.invoices.list(params={"customer": customer_id, "limit": 100})
        return [i.to_dict() for i in listed.data]

    def open_invoice(self, subscription_id: str) -> dict[str, Any] | None:
        """The subscription's newest unpaid invoice, if it has one."""
        listed = self.v1.invoices.list(params={"subscription": subscription_id, "limit": 100})
        unpaid = [i.to_dict() for i in listed.data if i.status in ("open", "draft")]
        return max(unpaid, key=lambda i: i["created"]) if unpaid else None

    def upcoming_invoice(self, customer_id: str, subscription_id: str) -> dict[str, Any]:
        """The next invoice as it stands now, prorations of a plan change included."""
        return self.v1.invoices.create_preview(
            params={"customer": customer_id, "subscription": subscription_id}
        ).to_dict()
