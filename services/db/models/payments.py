"""Payments in and out, subscriptions, refunds, and Stripe customers and webhook events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, Money, col


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = {"comment": "Card, bank and crypto payments in and out of accounts."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Payment id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    account_id: Mapped[int | None] = col(
        ForeignKey("trading_accounts.id"), comment="Account credited or debited."
    )
    direction: Mapped[str] = col(String(12), comment="deposit (money in) or withdrawal (out).")
    method: Mapped[str] = col(String(20), comment="card, bank_transfer or crypto.")
    amount: Mapped[float] = col(Money, comment="Amount, always positive.")
    currency: Mapped[str] = col(String(3), comment="Currency of amount.")
    status: Mapped[str] = col(
        String(20),
        comment="Deposits: pending, requires_action (the customer must authenticate, e.g. "
        "3-D Secure), succeeded, failed, partially_refunded or refunded. Withdrawals: "
        "pending_approval, approved, paid or rejected.",
    )
    provider_reference: Mapped[str | None] = col(
        String(64), comment="Payment provider's id, e.g. a Stripe payment intent."
    )
    card_last4: Mapped[str | None] = col(
        String(4), comment="Last four digits of the card (payment data)."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When the payment was created (UTC).")
    # -- payments: columns added by revision 0009 --
    refunded_amount: Mapped[float] = col(
        Money, default=0, server_default="0", comment="Amount refunded so far (0 if none)."
    )
    failure_reason: Mapped[str | None] = col(
        String(200), comment="Why the payment failed or a withdrawal was rejected."
    )
    next_action_url: Mapped[str | None] = col(
        String(500),
        internal=True,
        comment="Where the customer authenticates a requires_action payment.",
    )
    reviewed_by: Mapped[int | None] = col(
        Integer, comment="Staff user who approved or rejected a withdrawal (users.id)."
    )
    updated_at: Mapped[datetime | None] = col(
        DateTime, comment="Last change of status (UTC); empty for rows never changed."
    )
    idempotency_key: Mapped[str | None] = col(
        String(100),
        unique=True,
        internal=True,
        comment="Key of the confirmed request that created it; a retry finds it instead of "
        "paying twice.",
    )


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = {"comment": "Paid plans (market data and analytics tiers)."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Subscription id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    plan: Mapped[str] = col(String(20), comment="basic, pro or premium.")
    status: Mapped[str] = col(String(20), comment="trialing, active, past_due or cancelled.")
    monthly_price: Mapped[float] = col(Money, comment="Price per month.")
    currency: Mapped[str] = col(String(3), comment="Currency of the price.")
    started_at: Mapped[datetime] = col(DateTime, comment="Start of the subscription (UTC).")
    current_period_end: Mapped[datetime] = col(DateTime, comment="End of the paid period (UTC).")
    cancelled_at: Mapped[datetime | None] = col(DateTime, comment="When it was cancelled, if so.")
    # -- payments: columns added by revision 0009 --
    provider_reference: Mapped[str | None] = col(
        String(64), comment="Payment provider's id, e.g. a Stripe subscription (sub_...)."
    )
    cancel_at_period_end: Mapped[bool] = col(
        Boolean,
        default=False,
        server_default="0",
        comment="True: it ends at current_period_end instead of renewing.",
    )
    failed_attempts: Mapped[int] = col(
        Integer,
        default=0,
        server_default="0",
        comment="Renewal payments failed in a row (0 when paid up).",
    )
    next_retry_at: Mapped[datetime | None] = col(
        DateTime, comment="When a past_due renewal is retried next (UTC); empty otherwise."
    )


class StripeCustomer(Base):
    __tablename__ = "stripe_customers"
    __table_args__ = {"comment": "Each user's customer record at Stripe, created on first use."}

    user_id: Mapped[int] = col(ForeignKey("users.id"), primary_key=True, comment="User (users.id).")
    customer_id: Mapped[str] = col(String(64), unique=True, comment="Stripe customer id (cus_...).")
    created_at: Mapped[datetime] = col(DateTime, comment="When it was created (UTC).")


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = {"comment": "Money given back on a deposit, by support or an admin."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Refund id.")
    payment_id: Mapped[int] = col(
        ForeignKey("payments.id"), index=True, comment="Payment refunded (payments.id)."
    )
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    amount: Mapped[float] = col(Money, comment="Amount refunded, positive.")
    currency: Mapped[str] = col(String(3), comment="Currency of amount.")
    reason: Mapped[str | None] = col(String(200), comment="Why, as staff wrote it.")
    provider_reference: Mapped[str | None] = col(String(64), comment="Stripe refund id (re_...).")
    created_by: Mapped[int | None] = col(Integer, comment="Staff user who refunded (users.id).")
    idempotency_key: Mapped[str | None] = col(
        String(100),
        unique=True,
        internal=True,
        comment="Key of the confirmed request; a retry refunds once.",
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was refunded (UTC).")


class StripeEvent(Base):
    __tablename__ = "stripe_events"
    __table_args__ = {
        "comment": "Stripe webhook events received, one row per event id, so a replay changes "
        "nothing."
    }

    event_id: Mapped[str] = col(String(100), primary_key=True, comment="Stripe event id (evt_...).")
    type: Mapped[str] = col(String(100), comment="Event type, e.g. payment_intent.succeeded.")
    outcome: Mapped[str] = col(
        String(20), comment="applied, or stale (older than the state already held)."
    )
    received_at: Mapped[datetime] = col(DateTime, comment="When it arrived (UTC).")
