"""POST /v1/webhooks/stripe through the real app (httpx ASGI transport) on a migrated SQLite
database: signed events apply once, by state; bad signatures, replays, unknown types and
unknown objects change nothing. Payment intents are real ones from localstripe; the events are
signed with the webhook secret exactly as Stripe signs them."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from api.main import create_app
from graphs.assistant import Assistant
from services import clock
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import (
    KycVerification,
    Notification,
    Payment,
    StripeEvent,
    Subscription,
    TradingAccount,
    Transaction,
)
from services.kyc.providers import sign
from services.llm.scripted import ScriptedChatModel, replies
from services.payments.schemas import Plan
from tests.integration.events.helpers import deliver_to_notifications, outbox_types
from tests.integration.localstripe import (
    API_KEY,
    localstripe_fixture,  # noqa: F401 - used by name
)
from tests.integration.payments_fixtures import (
    ANN,
    ANN_ACCOUNT,
    ANN_CALLER,
    CARD_3DS,
    CARD_OK,
    SAM_CALLER,
    WEBHOOK_SECRET,
    payment_settings,
    seed,
)

URL = "/v1/webhooks/stripe"


@pytest.fixture
async def app(tmp_path, localstripe):
    settings = payment_settings(tmp_path, localstripe, kyc_provider="test")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    assistant = Assistant(settings, ScriptedChatModel(responder=replies("unused")))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield assistant, client, localstripe
    await assistant.aclose()


def event(kind: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    body = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


async def post(client: httpx.AsyncClient, payload: bytes, secret: str = WEBHOOK_SECRET):
    headers = {"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"}
    return await client.post(URL, content=payload, headers=headers)


def scalar(assistant: Assistant, statement) -> Any:
    with assistant.engine.connect() as conn:
        return conn.scalar(statement)


async def notified(assistant: Assistant, kind: str) -> int:
    """How many events of a kind notified someone, once the outbox is delivered as a serving
    process delivers it (the test app runs no lifespan, so no background work)."""
    await deliver_to_notifications(assistant.settings, assistant.engine)
    return scalar(
        assistant,
        select(func.count(func.distinct(Notification.event_id))).where(Notification.kind == kind),
    )


def cash(assistant: Assistant) -> float:
    return scalar(
        assistant, select(TradingAccount.cash_balance).where(TradingAccount.id == ANN_ACCOUNT)
    )


def stripe_intent(base: str, intent_id: str) -> dict[str, Any]:
    found = httpx.get(f"{base}/v1/payment_intents/{intent_id}", auth=(API_KEY, ""))
    found.raise_for_status()
    return found.json()


async def test_3d_secure_deposit_is_credited_once_by_its_signed_webhook(app):
    assistant, client, base = app
    payments = assistant.payment_services.payments
    card = payments.gateway.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": CARD_3DS, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    payments.save_payment_method(ANN_CALLER, card.id)
    waiting = payments.deposit(ANN_CALLER, ANN_ACCOUNT, 75.0, card.id)
    assert waiting.status == "requires_action" and cash(assistant) == 100.0
    reference = payments.get_payment(waiting.id).provider_reference
    # the customer authenticates with their bank (localstripe's 3-D Secure page)
    secret = stripe_intent(base, reference)["client_secret"]
    httpx.post(
        f"{base}/v1/payment_intents/{reference}/_authenticate",
        data={"client_secret": secret, "success": "true"},
        auth=(API_KEY, ""),
    ).raise_for_status()
    intent = stripe_intent(base, reference)
    assert intent["status"] == "succeeded"

    payload = event("payment_intent.succeeded", intent)
    first = await post(client, payload)
    assert first.status_code == 200 and first.json()["outcome"] == "applied"
    assert cash(assistant) == 175.0
    assert payments.get_payment(waiting.id).status == "succeeded"
    assert payments.get_payment(waiting.id).next_action_url is None

    replay = await post(client, payload)
    assert replay.status_code == 200 and replay.json()["outcome"] == "replay"
    late_failure = await post(client, event("payment_intent.payment_failed", intent))
    assert late_failure.json()["outcome"] == "stale"  # never move a succeeded payment back
    assert cash(assistant) == 175.0
    assert scalar(assistant, select(func.count()).select_from(Transaction)) == 1
    assert payments.get_payment(waiting.id).status == "succeeded"
    assert outbox_types(assistant.engine) == ["payment.succeeded"]  # once, replays aside
    assert await notified(assistant, "payment_succeeded") == 1


async def test_bad_or_missing_signature_is_400_and_changes_nothing(app):
    assistant, client, _ = app
    payload = event("payment_intent.succeeded", {"id": "pi_whatever", "object": "payment_intent"})
    forged = await post(client, payload, secret="whsec_not_ours")
    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "bad_webhook_signature"
    missing = await client.post(URL, content=payload)
    assert missing.status_code == 400
    tampered = payload.replace(b"pi_whatever", b"pi_other")
    headers = {"Stripe-Signature": sign(payload, WEBHOOK_SECRET)}
    assert (await client.post(URL, content=tampered, headers=headers)).status_code == 400
    assert scalar(assistant, select(func.count()).select_from(StripeEvent)) == 0
    assert outbox_types(assistant.engine) == []


async def test_unknown_type_and_unknown_intent_are_acknowledged_and_change_nothing(app, caplog):
    assistant, client, _ = app
    odd = await post(client, event("charge.dispute.created", {"id": "dp_1", "object": "dispute"}))
    assert odd.status_code == 200 and odd.json()["outcome"] == "ignored"
    stranger = {"id": "pi_nobody_knows", "object": "payment_intent", "status": "succeeded"}
    unknown = await post(client, event("payment_intent.succeeded", stranger))
    assert unknown.status_code == 200 and unknown.json()["outcome"] == "unknown"
    assert "pi_nobody_knows matches no payment" in caplog.text
    assert cash(assistant) == 100.0
    assert scalar(assistant, select(func.count()).select_from(Payment)) == 0
    assert scalar(assistant, select(func.count()).select_from(StripeEvent)) == 0  # nothing
    assert outbox_types(assistant.engine) == []


async def test_failed_intent_of_a_demo_payment_fails_it_and_tells_the_customer(app):
    assistant, client, _ = app
    with assistant.engine.begin() as conn:
        payment_id = conn.execute(
            insert(Payment).values(
                user_id=ANN,
                account_id=ANN_ACCOUNT,
                direction="deposit",
                method="card",
                amount=40.0,
                currency="USD",
                status="pending",
                provider_reference="pi_demo_7_000001",
                card_last4="4242",
                created_at=datetime(2026, 11, 30),
            )
        ).inserted_primary_key[0]
    failed = {
        "id": "pi_demo_7_000001",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    answer = await post(client, event("payment_intent.payment_failed", failed))
    assert answer.json()["outcome"] == "applied"
    row = assistant.payment_services.payments.get_payment(payment_id)
    assert (row.status, row.failure_reason) == ("failed", "Your card was declined.")
    assert cash(assistant) == 100.0
    assert await notified(assistant, "payment_failed") == 1
    bodies = scalar(
        assistant, select(Notification.body).where(Notification.kind == "payment_failed")
    )
    assert f"Your card deposit {payment_id} of 40.00 USD failed: Your card was declined." in bodies


async def test_failed_renewal_webhook_makes_the_subscription_past_due_and_deleted_cancels(app):
    assistant, client, _ = app
    payments = assistant.payment_services.payments
    card = payments.gateway.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": CARD_OK, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    payments.save_payment_method(ANN_CALLER, card.id)
    sub = payments.subscribe(ANN_CALLER, Plan.PRO)
    reference = scalar(
        assistant, select(Subscription.provider_reference).where(Subscription.id == sub.id)
    )
    invoice = {
        "id": "in_renewal",
        "object": "invoice",
        "subscription": reference,
        "amount_due": 2900,
    }
    failed = await post(client, event("invoice.payment_failed", invoice))
    assert failed.json()["outcome"] == "applied"
    status = select(Subscription.status).where(Subscription.id == sub.id)
    assert scalar(assistant, status) == "past_due"
    again = await post(client, event("invoice.payment_failed", invoice))
    assert again.json()["outcome"] == "stale"  # our dunning drives the retries
    assert await notified(assistant, "subscription_past_due") == 1

    gone = {"id": reference, "object": "subscription", "status": "canceled"}
    assert (await post(client, event("customer.subscription.deleted", gone))).json()[
        "outcome"
    ] == "applied"
    back = {"id": reference, "object": "subscription", "status": "active"}
    late = await post(client, event("customer.subscription.updated", back))
    assert late.json()["outcome"] == "stale" and scalar(assistant, status) == "cancelled"
    assert outbox_types(assistant.engine) == [
        "subscription.cancelled",
        "subscription.past_due",
        "subscription.started",
    ]


async def test_identity_session_result_decides_the_kyc_check_through_the_same_webhook(app):
    assistant, client, _ = app
    kyc = assistant.payment_services.kyc
    started = kyc.submit(ANN_CALLER, "passport")
    assert started.status == "in_review"
    reference = scalar(
        assistant,
        select(KycVerification.provider_reference).where(KycVerification.id == started.id),
    )
    payload, signature = kyc.provider.event(reference, "requires_input", "the photo is blurred")
    asked = await client.post(URL, content=payload, headers={"Stripe-Signature": signature})
    assert asked.json()["outcome"] == "applied"
    status = kyc.status(ANN_CALLER)
    assert (status.status, status.requested_input) == ("requires_input", "the photo is blurred")

    again = kyc.submit(ANN_CALLER, "passport")
    reference = scalar(
        assistant, select(KycVerification.provider_reference).where(KycVerification.id == again.id)
    )
    payload, signature = kyc.provider.event(reference, "verified")
    await client.post(URL, content=payload, headers={"Stripe-Signature": signature})
    assert kyc.is_verified(ANN, clock.utcnow()) is True
    assert kyc.status(SAM_CALLER, ANN).status == "approved"
    assert await notified(assistant, "kyc_decided") == 2  # asked for input, then approved
