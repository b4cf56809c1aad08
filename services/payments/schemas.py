"""What the payment service hands back: pydantic models, the same ones the tools return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Plan(StrEnum):
    BASIC = "basic"
    PRO = "pro"
    PREMIUM = "premium"


class PaymentOut(BaseModel):
    id: int = Field(description="Payment id.")
    user_id: int = Field(description="Customer (users.id).")
    account_id: int | None = Field(description="Account credited or debited.")
    direction: str = Field(description="deposit or withdrawal.")
    method: str = Field(description="card, sepa_debit, bank_transfer or crypto.")
    amount: float = Field(description="Amount, positive.")
    currency: str = Field(description="Currency of amount.")
    status: str = Field(description="Where it stands (see payments.status).")
    refunded_amount: float = Field(0.0, description="Refunded so far.")
    failure_reason: str | None = Field(None, description="Why it failed or was rejected.")
    next_action_url: str | None = Field(
        None, description="Where to authenticate (3-D Secure) when status is requires_action."
    )
    created_at: datetime = Field(description="When it was created (UTC).")

    def sentence(self) -> str:
        text = (
            f"{self.direction.capitalize()} {self.id} of {self.amount:.2f} "
            f"{self.currency.upper()}: {self.status.replace('_', ' ')}"
        )
        if self.status == "requires_action" and self.next_action_url:
            text += f": confirm it with your bank at {self.next_action_url}"
        if self.failure_reason:
            text += f" ({self.failure_reason})"
        return text + "."


class PaymentMethodOut(BaseModel):
    id: str = Field(description="Stripe payment method id (pm_...).")
    type: str = Field(description="card or sepa_debit.")
    last4: str | None = Field(None, description="Last four digits of the card or IBAN.")
    brand: str | None = Field(None, description="Card brand, e.g. visa.")


class RefundOut(BaseModel):
    refund_id: int = Field(description="Refund id.")
    payment_id: int = Field(description="Payment refunded.")
    amount: float = Field(description="Amount refunded now.")
    currency: str = Field(description="Currency.")
    payment_status: str = Field(description="The payment's status after the refund.")
    remaining: float = Field(description="What can still be refunded.")

    def sentence(self) -> str:
        return (
            f"Refunded {self.amount:.2f} {self.currency.upper()} of payment {self.payment_id}; "
            f"it is now {self.payment_status.replace('_', ' ')}, {self.remaining:.2f} left."
        )


class SubscriptionOut(BaseModel):
    id: int = Field(description="Subscription id.")
    user_id: int = Field(description="Customer (users.id).")
    plan: str = Field(description="basic, pro or premium.")
    status: str = Field(description="trialing, active, past_due or cancelled.")
    monthly_price: float = Field(description="Price per month.")
    currency: str = Field(description="Currency of the price.")
    current_period_end: datetime = Field(description="End of the paid period (UTC).")
    cancel_at_period_end: bool = Field(description="True: ends at current_period_end.")
    cancelled_at: datetime | None = Field(None, description="When it was cancelled.")

    def sentence(self) -> str:
        text = f"Your {self.plan} plan ({self.monthly_price:.2f} {self.currency.upper()}/month) "
        if self.status == "cancelled":
            return text + "is cancelled."
        if self.cancel_at_period_end:
            return text + f"ends on {self.current_period_end:%Y-%m-%d}."
        return (
            text
            + f"is {self.status.replace('_', ' ')}, renewing {self.current_period_end:%Y-%m-%d}."
        )


class InvoiceLine(BaseModel):
    description: str | None = Field(None, description="What the line is for.")
    amount: float = Field(description="Line amount (negative for a credit).")
    proration: bool = Field(description="True: a prorated adjustment for a plan change.")


class InvoiceOut(BaseModel):
    id: str = Field(description="Stripe invoice id.")
    status: str | None = Field(None, description="draft, open, paid, void or uncollectible.")
    total: float = Field(description="Invoice total.")
    currency: str = Field(description="Currency.")
    created: datetime = Field(description="When it was issued (UTC).")
    lines: list[InvoiceLine] = Field(description="Its lines, prorations included.")
