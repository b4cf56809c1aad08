"""Deposits, saved methods, 3-D Secure, refunds, subscriptions and dunning against localstripe
(a real Stripe API server) with the real `stripe` SDK, on a SQLite database migrated to head.
Every change is announced in the outbox with its own transaction; the customer's notifications
come from there through the dispatcher and the bus."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from services import clock
from services.db.models import (
    AuditLog,
    Notification,
    OutboxEvent,
    Payment,
    Refund,
    Subscription,
    TradingAccount,
    Transaction,
)
from services.errors import AssistantError
from services.payments.dunning import renewal_failed, run_dunning
from services.payments.ledger import settle
from services.payments.schemas import Plan
from services.payments.service import PaymentService
from services.payments.webhooks import StripeWebhooks
from tests.integration.events.helpers import deliver_to_notifications, outbox_types
from tests.integration.localstripe import localstripe_fixture  # noqa: F401 - used by name
from tests.integration.payments_fixtures import (
    ANN,
    ANN_ACCOUNT,
    ANN_CALLER,
    BOB_CALLER,
    CARD_3DS,
    CARD_DECLINED_LATER,
    CARD_OK,
    SAM_CALLER,
    World,
    payment_settings,
    world_fixture,  # noqa: F401 - the fixture is used by name
)


def cash(world: World, account_id: int = ANN_ACCOUNT) -> float:
    with world.engine.connect() as conn:
        return conn.scalar(
            select(TradingAccount.cash_balance).where(TradingAccount.id == account_id)
        )


def count(world: World, model) -> int:
    with world.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def kinds(world: World) -> list[str]:
    """The kinds of notification queued (one row per channel, so each kind once here)."""
    with world.engine.connect() as conn:
        return sorted(set(conn.scalars(select(Notification.kind))))


def notified(world: World) -> list[str]:
    """The kinds of notification queued once the outbox is delivered, as a serving process
    delivers it."""
    asyncio.run(deliver_to_notifications(world.settings, world.engine))
    return kinds(world)


def payloads(world: World, event_type: str) -> list[dict]:
    """The data of the outbox's events of one type (e.g. payment.refunded), oldest first."""
    with world.engine.connect() as conn:
        rows = conn.scalars(
            select(OutboxEvent.data)
            .where(OutboxEvent.type == f"com.tradingassist.{event_type}.v1")
            .order_by(OutboxEvent.created_at)
        ).all()
    return [json.loads(row) for row in rows]


def saved(world: World, number: str) -> str:
    return world.services.payments.save_payment_method(ANN_CALLER, world.card(number)).id


def test_deposit_credits_cash_and_ledger_in_one_go_and_a_retry_charges_once(world):
    payments = world.services.payments
    method = saved(world, CARD_OK)
    assert [m.last4 for m in payments.payment_methods(ANN_CALLER)] == ["4242"]

    out = payments.deposit(ANN_CALLER, ANN_ACCOUNT, 250.0, method, idempotency_key="confirm-1")
    assert out.status == "succeeded" and out.amount == 250.0
    assert cash(world) == 350.0
    with world.engine.connect() as conn:
        ledger = conn.execute(select(Transaction.type, Transaction.amount)).all()
    assert [tuple(r) for r in ledger] == [("deposit", 250.0)]
    assert outbox_types(world.engine) == ["payment.succeeded"]
    assert kinds(world) == []  # nothing is notified before the event is delivered
    assert notified(world) == ["payment_succeeded"]
    [event] = payloads(world, "payment.succeeded")
    assert event == {
        "payment_id": out.id,
        "user_id": ANN,
        "direction": "deposit",
        "method": "card",
        "amount": 250.0,
        "currency": "USD",
        "provider_reference": payments.get_payment(out.id).provider_reference,
    }
    with world.engine.connect() as conn:
        body = conn.scalar(select(Notification.body).where(Notification.channel == "in_app"))
    assert f"Your card deposit {out.id} of 250.00 USD succeeded." in body

    again = payments.deposit(ANN_CALLER, ANN_ACCOUNT, 250.0, method, idempotency_key="confirm-1")
    assert again.id == out.id and cash(world) == 350.0 and count(world, Payment) == 1
    assert outbox_types(world.engine) == ["payment.succeeded"]  # the retry announces nothing


def test_sepa_debit_is_saved_and_charged(world):
    sepa = world.stripe.v1.payment_methods.create(
        params={"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"}}
    )
    out = world.services.payments.save_payment_method(ANN_CALLER, sepa.id)
    assert (out.type, out.last4) == ("sepa_debit", "3000")
    paid = world.services.payments.deposit(ANN_CALLER, ANN_ACCOUNT, 30.0, sepa.id)
    assert paid.method == "sepa_debit" and paid.status in ("pending", "succeeded")
    assert cash(world) == (130.0 if paid.status == "succeeded" else 100.0)


def test_3d_secure_card_is_requires_action_with_the_url_and_credits_nothing_yet(world):
    out = world.services.payments.deposit(ANN_CALLER, ANN_ACCOUNT, 80.0, saved(world, CARD_3DS))
    assert out.status == "requires_action"
    assert out.next_action_url and "payment_intent=pi_" in out.next_action_url
    assert "confirm it with your bank at http" in out.sentence()
    assert cash(world) == 100.0 and count(world, Transaction) == 0
    assert outbox_types(world.engine) == []  # nothing is settled yet


def test_a_settlement_rolled_back_announces_nothing(world):
    """The event is written on the change's own connection: a rollback takes both."""
    waiting = world.services.payments.deposit(ANN_CALLER, ANN_ACCOUNT, 80.0, saved(world, CARD_3DS))
    with pytest.raises(RuntimeError), world.engine.begin() as conn:
        settle(conn, waiting.id, "succeeded", None, clock.utcnow())
        assert outbox_types(world.engine) == []  # not visible before the commit either
        raise RuntimeError("the transaction fails after the change")
    assert world.services.payments.get_payment(waiting.id).status == "requires_action"
    assert cash(world) == 100.0 and outbox_types(world.engine) == []
    assert notified(world) == []


def test_deposit_into_someone_elses_account_is_refused_and_audited(world):
    with pytest.raises(AssistantError) as refused:
        world.services.payments.deposit(BOB_CALLER, ANN_ACCOUNT, 10.0, "pm_whatever")
    assert refused.value.code == "not_found"
    assert count(world, Payment) == 0
    with world.engine.connect() as conn:
        outcome = conn.scalar(select(AuditLog.outcome).where(AuditLog.action == "payments.account"))
    assert outcome == "rejected"


def test_refund_in_part_then_one_too_large_is_refused_with_nothing_written(world):
    payments = world.services.payments
    paid = payments.deposit(ANN_CALLER, ANN_ACCOUNT, 100.0, saved(world, CARD_OK))

    with pytest.raises(AssistantError) as customer:
        payments.refund(ANN_CALLER, paid.id, 10.0, "mine")
    assert customer.value.code == "tool_forbidden"

    part = payments.refund(SAM_CALLER, paid.id, 40.0, "duplicate charge")
    assert (part.payment_status, part.remaining) == ("partially_refunded", 60.0)
    assert cash(world) == 160.0

    with pytest.raises(AssistantError) as too_large:
        payments.refund(SAM_CALLER, paid.id, 60.01, "too much")
    assert too_large.value.code == "refund_too_large"
    assert count(world, Refund) == 1 and cash(world) == 160.0
    stripe_refunds = world.stripe.v1.refunds.list(params={"limit": 100}).data
    assert [
        r.amount
        for r in stripe_refunds
        if r.payment_intent == payments.get_payment(paid.id).provider_reference
    ] == [4000]

    rest = payments.refund(SAM_CALLER, paid.id, None, "customer left")
    assert (rest.amount, rest.payment_status, rest.remaining) == (60.0, "refunded", 0.0)
    with pytest.raises(AssistantError) as nothing_left:
        payments.refund(SAM_CALLER, paid.id, 1.0, "again")
    assert nothing_left.value.code == "refund_not_allowed"
    refunds = payloads(world, "payment.refunded")
    assert [(e["amount"], e["remaining"], e["reason"]) for e in refunds] == [
        (40.0, 60.0, "duplicate charge"),
        (60.0, 0.0, "customer left"),
    ]
    assert {(e["payment_id"], e["user_id"], e["currency"]) for e in refunds} == {
        (paid.id, ANN, "USD")
    }


def test_withdrawal_waits_for_staff_approval_before_money_moves(world):
    payments = world.services.payments
    with pytest.raises(AssistantError) as greedy:
        payments.request_withdrawal(ANN_CALLER, ANN_ACCOUNT, 100.01)
    assert greedy.value.code == "insufficient_funds"

    asked = payments.request_withdrawal(ANN_CALLER, ANN_ACCOUNT, 70.0)
    assert asked.status == "pending_approval" and cash(world) == 100.0
    with pytest.raises(AssistantError) as promised:
        payments.request_withdrawal(ANN_CALLER, ANN_ACCOUNT, 40.0)  # 70 is already held
    assert promised.value.code == "insufficient_funds"

    with pytest.raises(AssistantError) as early:
        payments.decide_withdrawal(SAM_CALLER, asked.id, "pay")
    assert early.value.code == "withdrawal_not_allowed"
    assert payments.decide_withdrawal(SAM_CALLER, asked.id, "approve").status == "approved"
    paid = payments.decide_withdrawal(SAM_CALLER, asked.id, "pay")
    assert paid.status == "paid" and cash(world) == 30.0

    other = payments.request_withdrawal(ANN_CALLER, ANN_ACCOUNT, 10.0)
    rejected = payments.decide_withdrawal(SAM_CALLER, other.id, "reject", "bank details unclear")
    assert (rejected.status, rejected.failure_reason) == ("rejected", "bank details unclear")
    assert cash(world) == 30.0

    assert [(e["payment_id"], e["amount"]) for e in payloads(world, "withdrawal.requested")] == [
        (asked.id, 70.0),
        (other.id, 10.0),
    ]
    decided = payloads(world, "withdrawal.decided")
    assert [(e["payment_id"], e["decision"], e["reviewer_id"], e["reason"]) for e in decided] == [
        (asked.id, "approved", SAM_CALLER.user_id, None),
        (asked.id, "paid", SAM_CALLER.user_id, None),
        (other.id, "rejected", SAM_CALLER.user_id, "bank details unclear"),
    ]
    # the payout and the rejection reach the customer as a payment succeeded or failed
    assert notified(world) == ["payment_failed", "payment_succeeded"]
    with world.engine.connect() as conn:
        subjects = set(conn.scalars(select(Notification.subject)))
    assert subjects == {"Withdrawal of 70.00 USD paid out", "Withdrawal of 10.00 USD rejected"}


def test_subscription_change_is_prorated_and_cancel_at_period_end(world):
    payments = world.services.payments
    saved(world, CARD_OK)  # the default method pays the invoices
    basic = payments.subscribe(ANN_CALLER, Plan.BASIC)
    assert (basic.plan, basic.status, basic.monthly_price) == ("basic", "active", 9.0)

    pro = payments.change_plan(ANN_CALLER, Plan.PRO)
    assert (pro.plan, pro.monthly_price) == ("pro", 29.0)
    assert [i.total for i in payments.invoices(ANN_CALLER)] == [9.0]  # the first month
    upcoming = payments.upcoming_invoice(ANN_CALLER)
    prorations = [line.amount for line in upcoming.lines if line.proration]
    assert prorations == [-9.0]  # the unused basic month is credited on the next invoice

    ending = payments.cancel(ANN_CALLER, at_period_end=True)
    assert ending.cancel_at_period_end and ending.status == "active"
    assert "ends on" in ending.sentence()
    now = payments.cancel(ANN_CALLER, at_period_end=False)
    assert now.status == "cancelled" and now.cancelled_at is not None

    [started] = payloads(world, "subscription.started")
    assert (started["plan"], started["monthly_price"], started["currency"]) == ("basic", 9.0, "USD")
    assert started["current_period_end"] == f"{basic.current_period_end:%Y-%m-%d}"
    [changed] = payloads(world, "subscription.changed")
    assert (changed["previous_plan"], changed["plan"], changed["monthly_price"]) == (
        "basic",
        "pro",
        29.0,
    )
    cancelled = payloads(world, "subscription.cancelled")
    assert [(e["at_period_end"], e["effective_on"], e["cancelled_by"]) for e in cancelled] == [
        (True, f"{ending.current_period_end:%Y-%m-%d}", "customer"),
        (False, f"{now.cancelled_at:%Y-%m-%d}", "customer"),
    ]
    assert notified(world) == []  # these are facts for other systems; nobody is notified


def test_failed_renewal_is_retried_per_schedule_then_cancelled(world):
    payments = world.services.payments
    saved(world, CARD_OK)
    sub = payments.subscribe(ANN_CALLER, Plan.PRO)
    reference = _reference(world, sub.id)
    customer = payments.customer_id(ANN)
    # the card on file starts to decline: the next renewal invoice fails
    world.services.payments.save_payment_method(ANN_CALLER, world.card(CARD_DECLINED_LATER))
    invoice = world.stripe.v1.invoices.create(
        params={"customer": customer, "subscription": reference}
    )
    failed = world.stripe.v1.invoices.pay(invoice.id)
    assert failed.status != "paid"

    with world.engine.begin() as conn:
        row = conn.execute(select(Subscription.__table__).where(Subscription.id == sub.id)).one()
        assert renewal_failed(conn, world.settings, row, 29.0, clock.utcnow()) == "applied"
    assert notified(world) == ["subscription_past_due"]
    [past_due] = payloads(world, "subscription.past_due")
    last_day = clock.now() + timedelta(days=world.settings.dunning_retry_days[-1])
    assert (past_due["amount"], past_due["grace_until"]) == (29.0, f"{last_day:%Y-%m-%d}")
    with world.engine.connect() as conn:
        told = conn.scalar(select(Notification.body).where(Notification.channel == "in_app"))
    assert "We could not collect 29.00 USD for your pro subscription" in told

    start = clock.now()
    assert run_dunning(payments).retried == 0  # the first retry is a day away
    for day, cancelled in ((1, 0), (3, 0), (5, 1)):
        with time_machine.travel(start + timedelta(days=day, minutes=1)):
            report = run_dunning(payments)
        assert (report.retried, report.recovered, report.cancelled) == (1, 0, cancelled)
    with world.engine.connect() as conn:
        status, attempts = conn.execute(
            select(Subscription.status, Subscription.failed_attempts).where(
                Subscription.id == sub.id
            )
        ).one()
    assert (status, attempts) == ("cancelled", 4)
    assert world.stripe.v1.subscriptions.retrieve(reference).status == "canceled"
    [cancelled] = payloads(world, "subscription.cancelled")
    assert (cancelled["cancelled_by"], cancelled["at_period_end"]) == ("dunning", False)


def test_past_due_subscription_recovers_when_the_retry_is_paid(world):
    payments = world.services.payments
    saved(world, CARD_OK)
    sub = payments.subscribe(ANN_CALLER, Plan.BASIC)
    reference = _reference(world, sub.id)
    world.stripe.v1.invoices.create(
        params={"customer": payments.customer_id(ANN), "subscription": reference}
    )
    with world.engine.begin() as conn:
        row = conn.execute(select(Subscription.__table__).where(Subscription.id == sub.id)).one()
        renewal_failed(conn, world.settings, row, 9.0, clock.utcnow())
    with time_machine.travel(clock.now() + timedelta(days=1, minutes=1)):
        report = run_dunning(payments)
    assert (report.retried, report.recovered) == (1, 1)
    with world.engine.connect() as conn:
        assert conn.scalar(select(Subscription.status).where(Subscription.id == sub.id)) == "active"
    assert [e["subscription_id"] for e in payloads(world, "subscription.recovered")] == [sub.id]


def test_unset_api_key_says_payments_are_not_configured(world, tmp_path):
    settings = payment_settings(tmp_path / "other", None, stripe_api_key=None)
    service = PaymentService(world.engine, settings)
    with pytest.raises(AssistantError) as off:
        service.deposit(ANN_CALLER, ANN_ACCOUNT, 10.0, "pm_x")
    assert off.value.code == "payments_not_configured"
    assert off.value.status == 503 and count(world, Payment) == 0
    unsigned = StripeWebhooks(
        PaymentService(
            world.engine, payment_settings(tmp_path / "third", None, stripe_webhook_secret=None)
        )
    )
    with pytest.raises(AssistantError) as no_secret:
        unsigned.handle(b"{}", "t=1,v1=abc")
    assert (no_secret.value.code, no_secret.value.status) == ("webhook_not_configured", 503)


def _reference(world: World, sub_id: int) -> str:
    with world.engine.connect() as conn:
        return conn.scalar(select(Subscription.provider_reference).where(Subscription.id == sub_id))
