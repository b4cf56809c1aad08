"""The event catalogue and the wire format: every type versioned and unique, every payload
survives the trip through CloudEvents JSON, and bad input is refused by name."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from cloudevents.core.v1.event import CloudEvent

from services.errors import AssistantError
from services.events import catalogue as c
from services.events import wire

EXAMPLES: list[c.Payload] = [
    c.OrderPlaced(
        order_id=1, user_id=2, account_id=3, symbol="AAPL", side="buy", order_type="market",
        quantity=5,
    ),
    c.OrderFilled(
        order_id=1, user_id=2, account_id=3, symbol="AAPL", side="buy", quantity=5,
        filled_quantity=5, avg_fill_price=181.25,
    ),
    c.OrderRejected(order_id=1, user_id=2, account_id=3, symbol="AAPL", reason="insufficient cash"),
    c.OrderCancelled(order_id=1, user_id=2, account_id=3, symbol="AAPL", cancelled_by="customer"),
    c.AlertFired(
        alert_id=9, user_id=2, symbol="BTCUSD", direction="above", threshold=70000, price=70010
    ),
    c.PaymentSucceeded(
        payment_id=4, user_id=2, direction="deposit", method="card", amount=100, currency="USD"
    ),
    c.PaymentFailed(
        payment_id=5, user_id=2, direction="withdrawal", method="sepa_debit", amount=50,
        currency="EUR",
        reason="card declined",
    ),
    c.PaymentRefunded(
        payment_id=4, refund_id=1, user_id=2, amount=40, currency="USD", remaining=60,
        reason="duplicate charge",
    ),
    c.WithdrawalRequested(payment_id=9, user_id=2, account_id=3, amount=70, currency="USD"),
    c.WithdrawalDecided(
        payment_id=9, user_id=2, account_id=3, decision="rejected", amount=70, currency="USD",
        reviewer_id=8, reason="bank details unclear",
    ),
    c.SubscriptionStarted(
        subscription_id=6, user_id=2, plan="basic", monthly_price=9, currency="USD",
        current_period_end=date(2027, 1, 3),
    ),
    c.SubscriptionChanged(
        subscription_id=6, user_id=2, previous_plan="basic", plan="pro", monthly_price=29,
        currency="USD",
    ),
    c.SubscriptionCancelled(
        subscription_id=6, user_id=2, plan="pro", at_period_end=False,
        effective_on=date(2027, 1, 20), cancelled_by="dunning",
    ),
    c.SubscriptionPastDue(
        subscription_id=6, user_id=2, plan="pro", amount=29, currency="USD",
        grace_until=date(2027, 1, 15),
    ),
    c.SubscriptionRecovered(subscription_id=6, user_id=2, plan="pro"),
    c.KycSubmitted(
        verification_id=7, user_id=2, level="basic", document_type="passport", provider="manual"
    ),
    c.KycDecided(verification_id=7, user_id=2, level="enhanced", decision="rejected", reason="x"),
    c.KycExpiring(verification_id=7, user_id=2, expires_on=date(2027, 1, 31)),
    c.KycExpired(verification_id=7, user_id=2, expired_on=date(2027, 1, 31)),
    c.UserRegistered(user_id=2, country="FR", role="customer"),
    c.ModelUsage(
        provider="openrouter", model="openai/gpt-4o-mini", prompt_tokens=900,
        completion_tokens=120, cost_usd=0.0004, user_id=2,
    ),
    c.ModelUsage(  # a cloud answer that reported no cost, for no user (a service's call)
        provider="openrouter", model="openai/gpt-4o-mini", prompt_tokens=9,
        completion_tokens=1, cost_usd=None,
    ),
]  # fmt: skip


def test_the_catalogue_has_each_platform_event_once_and_versioned():
    names = [kind.name for kind in c.CATALOGUE]
    assert sorted(names) == sorted(
        [
            "order.placed", "order.filled", "order.rejected", "order.cancelled", "alert.fired",
            "payment.succeeded", "payment.failed", "payment.refunded", "withdrawal.requested",
            "withdrawal.decided", "subscription.started", "subscription.changed",
            "subscription.cancelled", "subscription.past_due", "subscription.recovered",
            "kyc.submitted", "kyc.decided", "kyc.expiring", "kyc.expired", "user.registered",
            "model.usage",
        ]
    )  # fmt: skip
    assert len(c.BY_TYPE) == len(c.BY_PAYLOAD) == len(c.CATALOGUE)
    for kind in c.CATALOGUE:
        assert re.fullmatch(r"com\.tradingassist\.[a-z_]+\.[a-z_]+\.v[1-9][0-9]*", kind.type)
        assert kind.source.startswith("/trading-assist/")
    assert {type(p) for p in EXAMPLES} == set(c.BY_PAYLOAD)


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_every_payload_survives_the_wire(payload):
    moment = datetime(2026, 12, 3, 14, 30, 5, 123000, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        event = c.new_event(payload, subject="things/1")
    body = wire.encode(event)
    back = wire.decode(body)

    assert back.get_time() == moment  # from the platform's clock
    assert back.get_specversion() == "1.0" and back.get_datacontenttype() == "application/json"
    assert (back.get_id(), back.get_type(), back.get_source(), back.get_subject()) == (
        event.get_id(),
        c.BY_PAYLOAD[type(payload)].type,
        c.BY_PAYLOAD[type(payload)].source,
        "things/1",
    )
    assert c.payload_of(back) == payload


def test_events_get_fresh_ids():
    payload = EXAMPLES[0]
    ids = {c.new_event(payload, subject="s").get_id() for _ in range(50)}
    assert len(ids) == 50


def test_bad_events_are_refused_by_name():
    class Stray(c.Payload):
        x: int

    with pytest.raises(AssistantError) as stray:
        c.new_event(Stray(x=1), subject="s")
    assert stray.value.code == "unknown_event_type" and stray.value.status == 422

    unknown = CloudEvent({"type": "com.tradingassist.order.exploded.v1", "source": "/x"}, {})
    with pytest.raises(AssistantError) as not_listed:
        c.payload_of(unknown)
    assert not_listed.value.code == "unknown_event_type"

    wrong = CloudEvent(
        {"type": "com.tradingassist.user.registered.v1", "source": "/x"}, {"user_id": 1}
    )
    with pytest.raises(AssistantError) as invalid:
        c.payload_of(wrong)
    assert invalid.value.code == "event_invalid" and wrong.get_id() in invalid.value.message

    for body in (b"not json", b'{"type": "t"}', b"[1, 2]"):
        with pytest.raises(AssistantError) as garbage:
            wire.decode(body)
        assert garbage.value.code == "event_invalid"


def test_payloads_refuse_unknown_fields_and_out_of_range_values():
    with pytest.raises(ValueError):
        c.UserRegistered(user_id=1, country="FR", role="customer", email="a@b.c")
    with pytest.raises(ValueError):
        c.PaymentSucceeded(
            payment_id=1, user_id=1, direction="deposit", method="card", amount=-5, currency="USD"
        )
