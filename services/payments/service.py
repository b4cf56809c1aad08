"""The payment domain: deposits, refunds, withdrawals and subscriptions for one database.

Rules live here, Stripe calls in `gateway`. Every change is one database transaction; a call to
Stripe happens before it (with the caller's idempotency key, so a retried confirmation never
charges twice) and a refusal writes nothing but an audit row. Money and ledger move together:
a succeeded deposit credits the account's cash and writes its `deposit` transaction in the
same transaction that marks it succeeded.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from sqlalchemy import Engine, insert, select, update

from services import audit, clock
from services.db.models import Payment, StripeCustomer, User
from services.db.models import Refund as RefundRow
from services.errors import AssistantError
from services.identity import Caller, Role
from services.payments import announce
from services.payments.gateway import PaymentGateway, StripeGateway, provider_error
from services.payments.ledger import ACCOUNTS, PAYMENTS, minor, move_cash, payment_out, settle
from services.payments.schemas import PaymentMethodOut, PaymentOut, RefundOut
from services.payments.subscriptions import Subscriptions
from services.payments.withdrawals import Withdrawals
from services.settings import Settings

log = logging.getLogger(__name__)

STAFF = (Role.SUPPORT, Role.ADMIN)


class PaymentService(Withdrawals, Subscriptions):
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        gateway: PaymentGateway | None = None,
    ):
        self.engine = engine
        self.settings = settings
        self._gateway = gateway

    # -- shared --

    @property
    def gateway(self) -> PaymentGateway:
        """Stripe, or a plain `payments_not_configured` when STRIPE_API_KEY is unset."""
        if self._gateway is None:
            self._gateway = StripeGateway(self.settings)
        return self._gateway

    def refuse(self, caller: Caller, action: str, code: str, message: str, **detail: Any):
        """Log, audit and raise one refusal; nothing else is written."""
        log.info("payments.%s refused (%s): %s", action, code, message)
        audit.record(self.engine, caller, f"payments.{action}", "rejected", code=code, **detail)
        raise AssistantError(code, message)

    def _require_staff(self, caller: Caller, action: str) -> None:
        if caller.role not in STAFF:
            self.refuse(
                caller, action, "tool_forbidden", "only support staff and admins may do this"
            )

    def _subject(self, caller: Caller, user_id: int | None) -> int:
        """Whose payments: a customer's own, or (staff) the customer they name."""
        if caller.role is Role.CUSTOMER or user_id is None:
            if caller.user_id is None:
                raise AssistantError("unknown_user", "sign in to see payments")
            return caller.user_id
        return user_id

    def customer_id(self, user_id: int) -> str:
        """The user's Stripe customer, created at Stripe on first use and remembered."""
        with self.engine.connect() as conn:
            known = conn.scalar(
                select(StripeCustomer.customer_id).where(StripeCustomer.user_id == user_id)
            )
            email = conn.scalar(select(User.email).where(User.id == user_id))
        if known:
            return known
        if email is None:
            raise AssistantError("unknown_user", f"there is no user {user_id}")
        try:
            customer_id = self.gateway.create_customer(email, user_id)
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        with self.engine.begin() as conn:
            conn.execute(
                insert(StripeCustomer).values(
                    user_id=user_id, customer_id=customer_id, created_at=clock.utcnow()
                )
            )
        return customer_id

    def account_for(self, caller: Caller, account_id: int) -> Any:
        """The caller's own active account `account_id` in the payments currency, or a refusal."""
        with self.engine.connect() as conn:
            account = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == account_id)).first()
        if account is None or account.user_id != caller.user_id:
            self.refuse(caller, "account", "not_found", f"you have no account {account_id}")
        if account.status != "active":
            self.refuse(
                caller, "account", "invalid_payment", f"account {account_id} is {account.status}"
            )
        if account.base_currency.lower() != self.settings.payments_currency:
            self.refuse(
                caller,
                "account",
                "invalid_payment",
                f"account {account_id} is kept in {account.base_currency}; payments here are in "
                f"{self.settings.payments_currency.upper()}",
            )
        return account

    # -- payment methods --

    def save_payment_method(self, caller: Caller, payment_method_id: str) -> PaymentMethodOut:
        """Keep a card or SEPA debit mandate the customer entered with Stripe (Stripe.js hands
        the page a pm_... id; card numbers never reach this platform)."""
        customer = self.customer_id(self._subject(caller, None))
        try:
            method = self.gateway.attach_payment_method(customer, payment_method_id)
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        audit.record(self.engine, caller, "payments.save_method", "ok", type=method["type"])
        return _method_out(method)

    def payment_methods(self, caller: Caller) -> list[PaymentMethodOut]:
        customer = self.customer_id(self._subject(caller, None))
        try:
            return [_method_out(m) for m in self.gateway.list_payment_methods(customer)]
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc

    # -- deposits --

    def deposit(
        self,
        caller: Caller,
        account_id: int,
        amount: float,
        payment_method_id: str,
        idempotency_key: str | None = None,
    ) -> PaymentOut:
        """Charge a saved method and credit the account when Stripe says it succeeded; a 3-D
        Secure card comes back `requires_action` with the address to authenticate at, and is
        credited when Stripe's webhook says it succeeded."""
        if amount <= 0:
            self.refuse(caller, "deposit", "invalid_payment", "a deposit must be more than zero")
        account = self.account_for(caller, account_id)
        done = self._by_key(PAYMENTS, idempotency_key)
        if done is not None:  # the same confirmation again: answer what it did
            return payment_out(done)
        customer = self.customer_id(account.user_id)
        try:
            kind = self.gateway.payment_method_type(payment_method_id)
            intent = self.gateway.create_payment_intent(
                customer,
                payment_method_id,
                kind,
                minor(amount),
                self.settings.payments_currency,
                {"user_id": str(account.user_id), "account_id": str(account_id)},
                idempotency_key,
            )
        except stripe.StripeError as exc:
            audit.record(self.engine, caller, "payments.deposit", "rejected", error=str(exc))
            raise provider_error(exc) from exc
        status = _intent_status(intent["status"])
        now = clock.utcnow()
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(PAYMENTS).where(PAYMENTS.c.provider_reference == intent["id"])
            ).first()
            if existing is not None:  # a concurrent retry got here first with Stripe's answer
                return payment_out(existing)
            payment_id = conn.execute(
                insert(Payment).values(
                    user_id=account.user_id,
                    account_id=account_id,
                    direction="deposit",
                    method=kind,
                    amount=amount,
                    currency=self.settings.payments_currency.upper(),
                    status="pending",
                    provider_reference=intent["id"],
                    card_last4=None,
                    created_at=now,
                    updated_at=now,
                    refunded_amount=0,
                    idempotency_key=idempotency_key,
                )
            ).inserted_primary_key[0]
            if status == "requires_action":
                conn.execute(
                    update(Payment)
                    .where(Payment.id == payment_id)
                    .values(status="requires_action", next_action_url=self._action_url(intent))
                )
            elif status in ("succeeded", "failed"):
                settle(conn, payment_id, status, _failure(intent), now)
            row = conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).one()
        audit.record(
            self.engine, caller, "payments.deposit", "ok", payment_id=payment_id, status=row.status
        )
        return payment_out(row)

    def _by_key(self, table: Any, idempotency_key: str | None) -> Any:
        """The row a confirmed request already wrote, if this key was seen before."""
        if not idempotency_key:
            return None
        with self.engine.connect() as conn:
            return conn.execute(
                select(table).where(table.c.idempotency_key == idempotency_key)
            ).first()

    def _action_url(self, intent: Any) -> str:
        """Where the customer authenticates: Stripe's redirect when it gives one, else our page
        that runs Stripe.js with the intent's client secret."""
        action = intent.get("next_action") or {}
        redirect = (action.get("redirect_to_url") or {}).get("url")
        if redirect:
            return redirect
        return (
            f"{self.settings.payments_authenticate_url}?payment_intent={intent['id']}"
            f"&client_secret={intent['client_secret']}"
        )

    def list_payments(
        self, caller: Caller, user_id: int | None = None, limit: int = 20
    ) -> list[PaymentOut]:
        subject = self._subject(caller, user_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(PAYMENTS)
                .where(PAYMENTS.c.user_id == subject)
                .order_by(PAYMENTS.c.created_at.desc(), PAYMENTS.c.id.desc())
                .limit(limit)
            ).all()
        return [payment_out(r) for r in rows]

    def get_payment(self, payment_id: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).first()

    # -- refunds --

    def refundable(self, payment: Any) -> float:
        if payment.direction != "deposit" or payment.status not in (
            "succeeded",
            "partially_refunded",
        ):
            return 0.0
        return round(payment.amount - (payment.refunded_amount or 0), 2)

    def check_refund(self, payment_id: int, amount: float | None) -> tuple[Any, float, list[str]]:
        """The payment, the amount that would be refunded, and why it cannot be (if so)."""
        payment = self.get_payment(payment_id)
        if payment is None:
            return None, 0.0, [f"there is no payment {payment_id}"]
        remaining = self.refundable(payment)
        wanted = remaining if amount is None else round(amount, 2)
        problems = []
        if remaining <= 0:
            problems.append(f"payment {payment_id} is {payment.status}: nothing to refund")
        elif wanted > remaining:
            problems.append(
                f"{wanted:.2f} is more than the {remaining:.2f} {payment.currency} still "
                f"refundable on payment {payment_id}"
            )
        return payment, wanted, problems

    def refund(
        self,
        staff: Caller,
        payment_id: int,
        amount: float | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> RefundOut:
        """Give money back on a deposit (support and admin only): Stripe first, then the
        refund row, the payment's refunded amount and the account's cash in one transaction."""
        self._require_staff(staff, "refund")
        done = self._by_key(RefundRow.__table__, idempotency_key)
        if done is not None:  # the same confirmation again: answer what it did
            row = self.get_payment(done.payment_id)
            return _refund_out(done.id, row, done.amount, self.refundable(row))
        payment, wanted, problems = self.check_refund(payment_id, amount)
        if payment is None:
            self.refuse(staff, "refund", "unknown_payment", problems[0], payment_id=payment_id)
        if problems:
            code = "refund_too_large" if self.refundable(payment) > 0 else "refund_not_allowed"
            self.refuse(staff, "refund", code, problems[0], payment_id=payment_id, amount=wanted)
        if not payment.provider_reference:
            self.refuse(
                staff, "refund", "refund_not_allowed", "the payment has no Stripe reference"
            )
        if payment.account_id is not None:
            with self.engine.connect() as conn:
                cash = conn.scalar(
                    select(ACCOUNTS.c.cash_balance).where(ACCOUNTS.c.id == payment.account_id)
                )
            if cash is not None and cash < wanted:
                self.refuse(
                    staff,
                    "refund",
                    "insufficient_funds",
                    f"account {payment.account_id} holds {cash:.2f} in cash, "
                    f"less than {wanted:.2f}",
                    payment_id=payment_id,
                )
        try:
            refund = self.gateway.refund(payment.provider_reference, minor(wanted), idempotency_key)
        except stripe.StripeError as exc:
            audit.record(self.engine, staff, "payments.refund", "rejected", error=str(exc))
            raise provider_error(exc) from exc
        now = clock.utcnow()
        with self.engine.begin() as conn:
            known = conn.execute(
                select(RefundRow.__table__).where(RefundRow.provider_reference == refund["id"])
            ).first()
            if known is not None:  # a retried confirmation: Stripe returned the same refund
                row = conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).one()
                return _refund_out(known.id, row, known.amount, self.refundable(row))
            refunded = round((payment.refunded_amount or 0) + wanted, 2)
            status = "refunded" if refunded >= payment.amount else "partially_refunded"
            refund_id = conn.execute(
                insert(RefundRow).values(
                    payment_id=payment_id,
                    user_id=payment.user_id,
                    amount=wanted,
                    currency=payment.currency,
                    reason=reason,
                    provider_reference=refund["id"],
                    created_by=staff.user_id,
                    created_at=now,
                    idempotency_key=idempotency_key,
                )
            ).inserted_primary_key[0]
            conn.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(refunded_amount=refunded, status=status, updated_at=now)
            )
            if payment.account_id is not None:
                move_cash(conn, payment.user_id, payment.account_id, -wanted, "withdrawal", now)
            row = conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).one()
            announce.refunded(conn, row, refund_id, wanted, self.refundable(row), reason)
        audit.record(
            self.engine,
            staff,
            "payments.refund",
            "ok",
            payment_id=payment_id,
            amount=wanted,
            refund_id=refund_id,
            user_id=payment.user_id,
        )
        return _refund_out(refund_id, row, wanted, self.refundable(row))


def _intent_status(status: str) -> str:
    if status == "succeeded":
        return "succeeded"
    if status == "requires_action":
        return "requires_action"
    if status in ("requires_payment_method", "canceled"):
        return "failed"
    return "pending"  # processing (SEPA debits settle later), requires_confirmation


def _failure(intent: Any) -> str | None:
    error = intent.get("last_payment_error")
    if error:
        return (error.get("message") or error.get("code") or "declined")[:200]
    return None if intent["status"] == "succeeded" else "the payment was declined"


def _method_out(method: Any) -> PaymentMethodOut:
    details = method.get(method["type"]) or {}
    return PaymentMethodOut(
        id=method["id"], type=method["type"], last4=details.get("last4"), brand=details.get("brand")
    )


def _refund_out(refund_id: int, payment: Any, amount: float, remaining: float) -> RefundOut:
    return RefundOut(
        refund_id=refund_id,
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        payment_status=payment.status,
        remaining=remaining,
    )
